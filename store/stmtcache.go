package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
)

// Hot statements. A domain query package names its hot-path statements
// with PrepareHot; each is then prepared once on the SQLite writer
// connection, and QueryRow and Exec in a write transaction run it through
// that statement instead of parsing the SQL again (parsing was a quarter
// of the CPU of a ledger transfer). PostgreSQL needs no such cache: pgx
// already prepares and caches statements per connection.
const (
	qSavepoint         = `SAVEPOINT kosh_op`
	qRollbackSavepoint = `ROLLBACK TO SAVEPOINT kosh_op`
	qReleaseSavepoint  = `RELEASE SAVEPOINT kosh_op`
)

// PrepareHot prepares qs on the SQLite writer (nothing on PostgreSQL), so
// that write transactions run them as prepared statements. Call it before
// the statements are used, never from inside a transaction (SQLite's writer
// is one connection); calling it again, or with other transactions running,
// is safe. database/sql re-prepares a statement transparently if the
// connection is ever replaced.
func (db *DB) PrepareHot(ctx context.Context, qs ...string) error {
	if db.backend != SQLite {
		return nil
	}
	db.hotMu.Lock()
	defer db.hotMu.Unlock()
	// Copy on write: a transaction keeps the map it began with.
	next := make(map[string]*sql.Stmt, len(db.hotMap())+len(qs))
	maps.Copy(next, db.hotMap())
	var added []*sql.Stmt
	for _, q := range qs {
		if _, ok := next[q]; ok {
			continue
		}
		s, err := db.writer.PrepareContext(ctx, q)
		if err != nil {
			for _, a := range added {
				a.Close()
			}
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		added = append(added, s)
		next[q] = s
	}
	db.hot.Store(&next)
	return nil
}

// hotMap is the current set of prepared statements (nil if none).
func (db *DB) hotMap() map[string]*sql.Stmt {
	if m := db.hot.Load(); m != nil {
		return *m
	}
	return nil
}

func (db *DB) closeHot() {
	db.hotMu.Lock()
	defer db.hotMu.Unlock()
	for _, s := range db.hotMap() {
		s.Close()
	}
	db.hot.Store(nil)
}

// Serialized reports whether the transaction holds the database's only
// write lock (a SQLite write transaction): nothing else can change a row
// while it runs, so a figure it read stays true until it changes it.
func (t *Tx) Serialized() bool { return t.hot != nil }

// stmt returns q prepared for this transaction, or nil if q is not cached
// for it (read transactions, PostgreSQL, cold queries).
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.hot == nil {
		return nil
	}
	if s, ok := t.txStmts[q]; ok {
		return s
	}
	parent, ok := t.hot[q]
	if !ok {
		return nil
	}
	s := t.tx.StmtContext(ctx, parent)
	if t.txStmts == nil {
		t.txStmts = make(map[string]*sql.Stmt, len(t.hot))
	}
	t.txStmts[q] = s
	return s
}

// queryRow runs a single-row query, through its prepared statement when
// there is one.
func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if s := t.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// exec runs a statement, through its prepared statement when there is one.
func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}
