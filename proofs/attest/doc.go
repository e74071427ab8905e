// Package attest defines Kosh's attestation document and balance-receipt
// inclusion bundle: their fields, canonical encoding, hashing, signing and
// derived figures. Package proofs/verify checks them.
//
// An attestation states, at one block and one instant, the issuer's reserves
// (on-chain outputs and Lightning channels), its liabilities (the root of
// each asset's Merkle-sum tree from proofs/sumtree), the counting rules and
// policy, and the coverage that follows from them. It is an RFC 8785
// canonical JSON document (proofs/jcs) signed by the issuer with BIP-340
// Schnorr over the tagged hash "kosh/attestation" of its canonical bytes
// without the signature member (proofs/sig). That hash is also the
// attestation's id, which the next attestation names as its predecessor,
// so the attestations form a hash chain.
//
// The issuer side builds an Attestation value, calls Fill to compute every
// derived figure (class totals, counted totals, coverage), has each Lightning
// node sign NodeMessage, and calls Sign. The verifier side calls Parse on
// the published bytes (which must be strict JSON of the attestation's shape,
// proofs/strictjson, and canonical) and ParseBundle on a holder's bundle
// (strict JSON too); proofs/verify then
// recomputes every figure with the same ComputeTotals and ComputeCoverage
// and checks every signature, the hash chain, a holder's inclusion Bundle
// and a signed balance receipt (the receipt itself is package
// proofs/receipt).
//
// The package imports only the standard library, btcec and proofs/*, so
// koshverify and third parties can vendor it without the server. Every
// failure is an *Error whose message is one plain English sentence (the
// vocabulary is proofs/failure's, re-exported here); the document's field
// encodings (Amount, BigInt, TimeLayout) are proofs/field's. The
// format is specified in docs/proofs.md; testdata/attest/vectors.json pins it.
package attest
