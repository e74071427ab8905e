// Package anchor is the verifier's side of anchors: the bitcoin
// transactions by which an issuer commits its attestation chain to the
// bitcoin chain (docs/proofs.md §4.14).
//
// An anchor transaction carries, in an OP_RETURN output at index 0, a
// 49-byte payload:
//
//	"KOSH" ‖ 0x01 ‖ u64be(seq) ‖ commitment ‖ u32be(prev_height)
//	commitment = TaggedHash("kosh/anchor", issuer_key ‖ u64be(seq) ‖ id)
//
// where id is the attestation at seq and prev_height the block height of
// the previous anchor (0 for the issuer's first, its genesis anchor). Its
// output 1 is the seal: the next anchor spends it, so that from a genesis
// anchor the anchors form exactly one chain on bitcoin (a double spend is
// the only way to fork it, and consensus forbids it). A verifier walks the
// chain back from the newest anchor an attestation lists, with its own
// node, and checks every commitment against the history it was given:
// a forked or restarted history fails at the seq where it leaves the
// anchored one.
//
// The package imports nothing of the server; koshverify and koshd's
// anchorer use it.
package anchor
