package sumtree

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers can branch with errors.Is while the message stays a single
// plain sentence.
var (
	// ErrInvalidInput marks input that Build refuses: an empty asset code or
	// account id, a bad height, too many accounts.
	ErrInvalidInput = errors.New("invalid input")
	// ErrDuplicateAccount marks an account id that appears more than once.
	ErrDuplicateAccount = errors.New("duplicate account")
	// ErrOverflow marks a balance or a sum above MaxSum.
	ErrOverflow = errors.New("sum overflow")
	// ErrMalformedProof marks a proof that cannot be decoded or does not have
	// the shape the attested tree requires.
	ErrMalformedProof = errors.New("malformed proof")
	// ErrMismatch marks a proof that is well formed but does not lead to the
	// attested root.
	ErrMismatch = errors.New("proof does not match the attested root")
	// ErrUnknownAccount marks a proof request for an account not in the tree.
	ErrUnknownAccount = errors.New("unknown account")
)

// Error is the error type of this package: a one-sentence message and the
// sentinel it belongs to.
type Error struct {
	// Msg is the sentence shown to a user, without trailing period.
	Msg string
	// Kind is one of the sentinel errors above.
	Kind error
}

// Error returns the sentence.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func fail(kind error, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Kind: kind}
}
