package taghash

import (
	"crypto/sha256"
	"hash"
)

// Tags used by Kosh proofs. Changing any of them changes every hash.
const (
	// TagLeaf domain-separates a liability-tree leaf.
	TagLeaf = "kosh/leaf"
	// TagNode domain-separates a liability-tree inner node.
	TagNode = "kosh/node"
	// TagPad domain-separates an opaque padding subtree of the liability tree.
	TagPad = "kosh/pad"
	// TagAccount domain-separates a salted account commitment.
	TagAccount = "kosh/account"
	// TagSalt domain-separates the derivation of a per-account salt from an
	// attestation's secret seed.
	TagSalt = "kosh/salt"
	// TagAttestation domain-separates the digest an attestation is signed over.
	TagAttestation = "kosh/attestation"
	// TagReceipt domain-separates a balance receipt's digest: what a
	// version 1 receipt is signed over, and a leaf of a receipt batch.
	TagReceipt = "kosh/receipt"
	// TagReceiptNode domain-separates an inner node of a receipt batch.
	TagReceiptNode = "kosh/receipt-node"
	// TagReceiptBatch domain-separates what the issuer signs for a batch of
	// receipts: the batch size and root.
	TagReceiptBatch = "kosh/receipt-batch"
	// TagAnchor domain-separates the commitment an anchor transaction
	// carries: the issuer key, an attestation's seq and its id.
	TagAnchor = "kosh/anchor"
	// TagTree domain-separates a version 2 liability tree's public id,
	// derived from the tree head (the attestation's seed and the asset).
	TagTree = "kosh/tree"
	// TagAccount2 domain-separates a version 2 account commitment, which
	// binds the tree id, the asset and the account's last journal sequence.
	TagAccount2 = "kosh/account/2"
	// TagLeaf2 domain-separates a version 2 leaf: one share of a balance.
	TagLeaf2 = "kosh/leaf/2"
	// TagSplit domain-separates the derivation of a balance's shares from
	// the account's salt.
	TagSplit = "kosh/split"
	// TagWindow domain-separates the key of one window's share shuffle in
	// a version 2 tree.
	TagWindow = "kosh/window"
	// TagAbsence domain-separates what the issuer signs when it states that
	// an account is not in an asset's liability tree of an attestation.
	TagAbsence = "kosh/absence"
)

// Tag is a precomputed tag prefix: SHA256(tag) || SHA256(tag). Reusing a Tag
// saves two SHA-256 blocks per hash.
type Tag struct {
	name   string
	prefix [64]byte
}

// New precomputes the prefix for a tag.
func New(name string) *Tag {
	h := sha256.Sum256([]byte(name))
	t := &Tag{name: name}
	copy(t.prefix[:32], h[:])
	copy(t.prefix[32:], h[:])
	return t
}

// Prefix returns the 64-byte prefix, SHA256(tag) || SHA256(tag), for code
// that runs the compression function itself.
func (t *Tag) Prefix() []byte { return t.prefix[:] }

// Name returns the tag string.
func (t *Tag) Name() string { return t.name }

// Sum returns TaggedHash(tag, msg[0] || msg[1] || ...).
func (t *Tag) Sum(msg ...[]byte) [32]byte {
	h := sha256.New()
	t.Write(h, msg...)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Write resets h and writes the tag prefix followed by msg into it, so that a
// caller hashing many objects can reuse one hash.Hash without allocating.
func (t *Tag) Write(h hash.Hash, msg ...[]byte) {
	h.Reset()
	h.Write(t.prefix[:])
	for _, m := range msg {
		h.Write(m)
	}
}

// Sum is a convenience for New(tag).Sum(msg...).
func Sum(tag string, msg ...[]byte) [32]byte {
	return New(tag).Sum(msg...)
}
