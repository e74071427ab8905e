// Package anchorer commits koshd's attestation chain to the bitcoin chain:
// on a schedule and on demand it pays, from an lnd wallet (walletrpc: no
// private key lives in koshd), an anchor transaction whose OP_RETURN
// commits to the newest attestation and which spends the previous anchor's
// seal (proofs/anchor, docs/proofs.md §4.14).
//
// Making an anchor is a crash-safe state machine in the style of the
// redemption payouts: the signed transaction is stored before it is
// published, so a koshd killed at any step publishes that same
// transaction when it comes back and never a second one for the same
// attestation. An anchor is confirmed when lnd's wallet sees it in a
// block; one that leaves the chain (a reorganisation) goes back to
// published and is published again, and one that can no longer confirm
// (its inputs spent elsewhere) is dropped and made again.
package anchorer
