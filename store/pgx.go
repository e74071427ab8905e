package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// errNoPgx refuses Pgx outside a PostgreSQL write transaction.
var errNoPgx = errors.New("store: the transaction has no PostgreSQL connection of its own (only PostgreSQL write transactions do)")

// Pgx runs fn with the pgx connection a PostgreSQL write transaction runs
// on, for what database/sql cannot send: several statements in one round
// trip (pgx.Batch), each of which, in READ COMMITTED, reads in a snapshot
// taken when it starts, after the one before it ended. fn runs inside the
// transaction: it must not end it, and must have read and closed
// everything it sent before it returns.
func (t *Tx) Pgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	if t.conn == nil {
		return errNoPgx
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: the driver connection is a %T, not pgx's", dc)
		}
		return fn(c.Conn())
	})
}
