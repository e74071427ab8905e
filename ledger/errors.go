package ledger

import "errors"

// Sentinel errors. Every error the ledger returns for a refused operation
// wraps exactly one of them, with a message a person can act on; the RPC
// layer maps them to status codes in one place.
var (
	// ErrInvalidArgument: the request is malformed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound: a named asset or account does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a different object already has that identity.
	ErrAlreadyExists = errors.New("already exists")
	// ErrIdempotencyConflict: the idempotency key was already used for a
	// different request.
	ErrIdempotencyConflict = errors.New("idempotency key reused")
	// ErrInsufficientFunds: the debited balance is smaller than the amount.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrOverflow: the operation would push a balance or supply past the
	// int64 range.
	ErrOverflow = errors.New("amount out of range")
	// ErrMintRefused: the coverage gate refused a mint.
	ErrMintRefused = errors.New("mint refused")
)

// isRefusal reports whether err is a per-operation refusal (as opposed to a
// database failure, which aborts a whole batch).
func isRefusal(err error) bool {
	for _, s := range []error{ErrInvalidArgument, ErrNotFound, ErrAlreadyExists,
		ErrIdempotencyConflict, ErrInsufficientFunds, ErrOverflow, ErrMintRefused} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
