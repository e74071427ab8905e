package store

import (
	"context"
	"database/sql"
	"errors"
)

// The exported query primitives below are what the per-domain query
// packages (store/attestdb, store/reservedb, ...) build their typed queries
// on. They run inside the transaction, through its prepared statement when
// the query is one of the cached hot statements (see stmtcache.go).

// QueryRow runs a query expected to return at most one row.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.queryRow(ctx, q, args...)
}

// Query runs a query returning rows; the caller closes them.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, q, args...)
}

// Exec runs a statement that returns no rows.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.exec(ctx, q, args...)
}

// Backend reports the engine the transaction runs on.
func (t *Tx) Backend() Backend { return t.backend }

// NotFound turns sql.ErrNoRows into ErrNotFound and returns any other error
// unchanged.
func NotFound(err error) error { return notFound(err) }

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool { return isUniqueViolation(err) }

// IsForeignKeyViolation reports whether err is a foreign-key violation: a
// row referring to a parent row that does not exist.
func IsForeignKeyViolation(err error) bool { return isForeignKeyViolation(err) }

// BoolInt is the integer a boolean column stores (1 or 0): the schema keeps
// booleans as integers so both engines read them alike.
func BoolInt(b bool) int { return boolInt(b) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
