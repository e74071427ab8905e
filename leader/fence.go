package leader

import (
	"context"

	"github.com/kosh-reserve/kosh/store"
)

type tokenKey struct{}

// Fenced returns a context that fences every write transaction made with it
// (store.DB.Write) by token: each runs Check(ctx, tx, token) first, so once
// another process holds the lease, or it expired, the write is refused with
// ErrNotLeader. The leader-only work of a tenure runs under such a context.
func Fenced(ctx context.Context, token int64) context.Context {
	ctx = context.WithValue(ctx, tokenKey{}, token)
	return store.WithFence(ctx, func(ctx context.Context, tx *store.Tx) error {
		return Check(ctx, tx, token)
	})
}

// TokenOf returns the fencing token of the tenure ctx was made for by
// Fenced, if any.
func TokenOf(ctx context.Context) (int64, bool) {
	t, ok := ctx.Value(tokenKey{}).(int64)
	return t, ok
}
