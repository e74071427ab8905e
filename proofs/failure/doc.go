// Package failure is the error vocabulary of Kosh's verifier packages
// (proofs/attest, proofs/verify, proofs/receipt, proofs/field): every
// failure is an *Error whose message is one plain English sentence and which
// wraps exactly one sentinel (ErrMalformed, ErrSignature, ErrSum, ...), so
// that a caller can branch with errors.Is while a user reads the sentence. Problems lists
// every failure found in one document.
//
// It imports only the standard library. proofs/attest re-exports the
// sentinels and types, so a verifier that imports attest alone can branch on
// them.
package failure
