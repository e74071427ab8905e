// Package taghash implements the domain-separated tagged hashes that every
// Kosh proof uses, in the form BIP-340 defines:
//
//	TaggedHash(tag, msg) = SHA256(SHA256(tag) || SHA256(tag) || msg)
//
// Each kind of object (leaf, node, account commitment, attestation, receipt)
// has its own tag, so a hash of one kind can never be passed off as another.
// The tags are listed in docs/proofs.md and below; they are part of the
// format and never change.
package taghash
