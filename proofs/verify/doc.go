// Package verify checks Kosh's published attestations, their hash chain and
// a holder's inclusion bundle and receipt (docs/proofs.md).
//
// Document parses published bytes (attest.Parse, which requires the
// canonical form) and calls Attestation, which checks the shape of every
// field, recomputes every figure with checked integer arithmetic
// (attest.ComputeTotals, attest.ComputeCoverage: the same code the issuer's
// Fill uses), verifies each proof of control with proofs/control and every
// node and issuer signature. Chain checks the hash chain, Bundle a holder's
// inclusion proof, and Receipt compares it with a signed balance receipt
// (proofs/receipt). None of them contacts a node; the on-chain and
// Lightning checks are koshverify's.
//
// Package attest holds the document and how it is built and encoded; this
// package holds only the checks. Like attest it imports only the standard
// library, btcec and proofs/*, so koshverify and third parties can vendor it
// without the server. Every failure is an *attest.Error (proofs/failure)
// whose message is one plain English sentence; Attestation and Chain report
// every failure found as an attest.Problems. The tests of package attest
// drive this package with the vectors of testdata/attest.
package verify
