package store

import "context"

// A Fence is checked at the start of every write transaction made with a
// context that carries it (WithFence): it runs inside the transaction, and
// an error from it rolls the transaction back and is returned by Write.
// Package leader makes one from a leadership tenure's fencing token, so
// that every write the leader-only work makes is refused once another
// process leads.
type Fence func(ctx context.Context, tx *Tx) error

type fenceKey struct{}

// WithFence returns a context whose write transactions (DB.Write) first run
// fence inside the transaction. A context carries one fence: the innermost
// WithFence wins.
func WithFence(ctx context.Context, fence Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, fence)
}

// FenceOf returns the fence ctx carries, or nil.
func FenceOf(ctx context.Context) Fence {
	f, _ := ctx.Value(fenceKey{}).(Fence)
	return f
}
