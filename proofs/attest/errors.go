package attest

import "github.com/kosh-reserve/kosh/proofs/failure"

// The sentinel errors of proofs/failure, re-exported so that a verifier
// importing attest alone can branch with errors.Is: every *Error wraps
// exactly one of them. They are the same values as failure's.
var (
	// ErrMalformed marks a document that does not have the documented shape.
	ErrMalformed = failure.ErrMalformed
	// ErrNotCanonical marks bytes that are not the canonical form.
	ErrNotCanonical = failure.ErrNotCanonical
	// ErrSignature marks an issuer or node signature that does not verify.
	ErrSignature = failure.ErrSignature
	// ErrSum marks a stated total that differs from its recomputation.
	ErrSum = failure.ErrSum
	// ErrCoverage marks coverage figures that differ from the recomputation.
	ErrCoverage = failure.ErrCoverage
	// ErrOverflow marks a sum that leaves the range of int64.
	ErrOverflow = failure.ErrOverflow
	// ErrChain marks a broken hash chain.
	ErrChain = failure.ErrChain
	// ErrInclusion marks an inclusion proof that does not verify.
	ErrInclusion = failure.ErrInclusion
	// ErrReceiptConflict marks an attestation that shows a holder less than
	// an issuer-signed receipt taken before its cut-off.
	ErrReceiptConflict = failure.ErrReceiptConflict
	// ErrReceiptNotApplicable marks a valid receipt that cannot be compared
	// with an inclusion proof.
	ErrReceiptNotApplicable = failure.ErrReceiptNotApplicable
	// ErrControl marks a proof of control that does not verify.
	ErrControl = failure.ErrControl
	// ErrOnChain marks a reserve claim that the holder's own node refutes.
	ErrOnChain = failure.ErrOnChain
	// ErrPolicy marks a valid attestation that the holder's own policy
	// refuses.
	ErrPolicy = failure.ErrPolicy
)

// Error is a failure: one sentence and its sentinel (proofs/failure).
type Error = failure.Error

// Problems lists the failures found in one document (proofs/failure).
type Problems = failure.Problems

func fail(kind error, format string, args ...any) *Error {
	return failure.New(kind, format, args...)
}

func wrap(kind error, err error, format string, args ...any) *Error {
	return failure.Wrap(kind, err, format, args...)
}
