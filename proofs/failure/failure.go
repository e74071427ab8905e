package failure

import (
	"errors"
	"fmt"
)

// Sentinel errors: every *Error wraps exactly one, so callers can branch with
// errors.Is while the message stays one sentence.
var (
	// ErrMalformed marks a document that does not have the documented shape.
	ErrMalformed = errors.New("malformed document")
	// ErrNotCanonical marks bytes that are not the RFC 8785 canonical form
	// the document's own fields produce.
	ErrNotCanonical = errors.New("document is not canonical")
	// ErrSignature marks an issuer or node signature that does not verify.
	ErrSignature = errors.New("signature does not verify")
	// ErrSum marks a stated total that differs from the sum of its items or
	// from what the counting rules give.
	ErrSum = errors.New("sum mismatch")
	// ErrCoverage marks coverage figures that differ from the recomputation.
	ErrCoverage = errors.New("coverage mismatch")
	// ErrOverflow marks a sum that leaves the range of int64.
	ErrOverflow = errors.New("amount overflow")
	// ErrChain marks a broken hash chain.
	ErrChain = errors.New("broken attestation chain")
	// ErrInclusion marks an inclusion proof that does not verify.
	ErrInclusion = errors.New("inclusion proof does not verify")
	// ErrReceiptConflict marks an attestation that shows a holder less than
	// an issuer-signed receipt taken before its cut-off.
	ErrReceiptConflict = errors.New("attestation contradicts a receipt")
	// ErrReceiptNotApplicable marks a valid receipt that cannot be compared
	// with an inclusion proof: another asset or account, or taken after the
	// attestation's cut-off.
	ErrReceiptNotApplicable = errors.New("receipt does not apply")
	// ErrControl marks an output that names a proof of control which does
	// not prove it, or a proof that proves nothing (version 2).
	ErrControl = errors.New("proof of control does not verify")
	// ErrOnChain marks a reserve claim that the holder's own node refutes.
	ErrOnChain = errors.New("on-chain check failed")
	// ErrPolicy marks a valid attestation that the holder's own policy
	// refuses: coverage below the holder's minimum, a price that is too old
	// or shows no source, an attested block too far behind the holder's tip.
	ErrPolicy = errors.New("refused by the holder's policy")
)

// Error is the error type of Kosh's verifier packages: one sentence and
// its sentinel.
type Error struct {
	// Msg is the sentence shown to a user, without trailing period.
	Msg string
	// Kind is one of the sentinel errors above.
	Kind error
	// Err is an underlying error, if any (for errors.Is / errors.As).
	Err error
}

// Error returns the sentence.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// New returns an *Error of kind with the sentence format makes of args.
func New(kind error, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Kind: kind}
}

// Wrap is New with an underlying error, which errors.Is and errors.As
// also find.
func Wrap(kind error, err error, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Kind: kind, Err: err}
}

// Problems is a list of failures found in one document; its Error joins the
// sentences with "; ".
type Problems []*Error

// Error joins the sentences.
func (p Problems) Error() string {
	s := ""
	for i, e := range p {
		if i > 0 {
			s += "; "
		}
		s += e.Msg
	}
	return s
}

// Unwrap returns the individual failures.
func (p Problems) Unwrap() []error {
	out := make([]error, len(p))
	for i, e := range p {
		out[i] = e
	}
	return out
}

// Err returns nil for an empty list, so that a nil Problems is never
// returned as a non-nil error interface, and p otherwise.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}
