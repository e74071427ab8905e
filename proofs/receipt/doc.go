// Package receipt defines Kosh's balance receipt and verifies it.
//
// A Receipt is an issuer-signed statement of one account's balance after
// one journal entry: dispute evidence a holder keeps. It is RFC 8785
// canonical JSON (proofs/jcs). Version 2 receipts carry a random nonce and
// are signed in batches: one BIP-340 signature (proofs/sig) over the root
// of an RFC 9162 Merkle tree of receipt digests, with Kosh's tagged hashes
// (proofs/taghash), and each receipt carries its audit path (ReceiptBatch,
// ReceiptBatchTree, ReceiptBatchRoot). Version 1 receipts, one signature
// each, still verify.
//
// ParseReceipt accepts only strict JSON of the receipt's shape
// (proofs/strictjson) that is the canonical encoding of its fields;
// Receipt.Verify checks the fields and the signature. Comparing a receipt
// with an attestation's inclusion proof is proofs/verify's Receipt.
// Every failure is a *failure.Error. The package imports only the standard
// library, btcec and proofs/*, so koshverify and third parties can vendor
// it without the server; testdata/attest/vectors.json pins the format.
package receipt
