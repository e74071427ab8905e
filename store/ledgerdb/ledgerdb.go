// Package ledgerdb keeps the ledger's records: it implements
// ledgerrec.Store (assets, accounts, balances and the journal) on a
// store.DB, SQLite or PostgreSQL.
package ledgerdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
)

// Store is ledgerrec.Store on a database.
type Store struct {
	db *store.DB
}

var _ ledgerrec.Store = (*Store)(nil)

// The ledger's hot-path statements. Open prepares each once on the SQLite
// writer connection, so a batch of transfers executes them without parsing
// SQL again (parsing was a quarter of the CPU of a transfer). PostgreSQL
// needs no such cache: pgx already prepares and caches statements per
// connection.
const (
	qEntryByIdemKey = `SELECT ` + entryCols + ` FROM journal j JOIN assets a ON a.id = j.asset_id
		WHERE j.idem_scope = $1 AND j.idem_key = $2`
	qCountAccounts1 = `SELECT COUNT(*) FROM accounts WHERE id IN ($1)`
	qCountAccounts2 = `SELECT COUNT(*) FROM accounts WHERE id IN ($1,$2)`
	qSupply         = `SELECT supply FROM assets WHERE id = $1`
	qAddSupplyUp    = `UPDATE assets SET supply = supply + $1 WHERE id = $2 AND supply <= $3 RETURNING supply`
	qAddSupplyDown  = `UPDATE assets SET supply = supply + $1 WHERE id = $2 AND supply >= $3 RETURNING supply`
	qCredit         = `INSERT INTO balances (account_id, asset_id, balance) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, asset_id) DO UPDATE SET balance = balances.balance + excluded.balance
		WHERE balances.balance <= $4
		RETURNING balance`
	qDebit = `UPDATE balances SET balance = balance - $1
		WHERE account_id = $2 AND asset_id = $3 AND balance >= $1 RETURNING balance`
	qBalance         = `SELECT balance FROM balances WHERE account_id = $1 AND asset_id = $2`
	qAddHolders      = `UPDATE assets SET holders = holders + $1 WHERE id = $2`
	qInsertEntryExec = `INSERT INTO journal (kind, asset_id, debit_account_id, credit_account_id,
		amount, memo, idem_scope, idem_key, request_hash, debit_balance_after, credit_balance_after, supply_after, created_at,
		chain_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	// qInsertEntry is for PostgreSQL. SQLite runs qInsertEntryExec and takes
	// the new seq (the rowid) from the result: SQLite's RETURNING builds a
	// temporary b-tree per execution and the row comes back through a result
	// set; skipping both cut the committer's CPU per transfer by about 14%
	// (BenchmarkCommitBatch in package ledger). On PostgreSQL the journal
	// has no foreign keys (migration 0020): the statement inserts nothing,
	// and returns no row, if the asset or a named account does not exist
	// (plain lookups, no row locks; accounts and assets are never deleted).
	qInsertEntry = `INSERT INTO journal (kind, asset_id, debit_account_id, credit_account_id,
		amount, memo, idem_scope, idem_key, request_hash, debit_balance_after, credit_balance_after, supply_after, created_at,
		chain_hash)
		SELECT $1::integer, $2::bigint, $3::text, $4::text, $5::bigint, $6::text, $7::text, $8::text, $9::bytea,
			$10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::bytea
		WHERE EXISTS (SELECT 1 FROM assets WHERE id = $2)
			AND ($3 IS NULL OR EXISTS (SELECT 1 FROM accounts WHERE id = $3))
			AND ($4 IS NULL OR EXISTS (SELECT 1 FROM accounts WHERE id = $4))
		RETURNING seq`
)

// hotQueries are prepared on the SQLite writer by Open.
var hotQueries = []string{
	qEntryByIdemKey, qCountAccounts1, qCountAccounts2, qSupply, qAddSupplyUp, qAddSupplyDown,
	qCredit, qDebit, qBalance, qAddHolders, qInsertEntryExec,
}

// Open returns the ledger store of db, with the ledger's hot statements
// prepared. Call it before the ledger starts.
func Open(ctx context.Context, db *store.DB) (*Store, error) {
	if err := db.PrepareHot(ctx, hotQueries...); err != nil {
		return nil, fmt.Errorf("ledger store: %w", err)
	}
	return &Store{db: db}, nil
}

// Read runs fn in a read-only transaction.
func (s *Store) Read(ctx context.Context, fn func(ledgerrec.Tx) error) error {
	return s.db.Read(ctx, func(t *store.Tx) error { return fn(&tx{st: t}) })
}

// Write runs fn in a transaction that commits if fn returns nil. On
// PostgreSQL the transaction is also a ledgerrec.BatchTx (batch.go).
func (s *Store) Write(ctx context.Context, fn func(ledgerrec.Tx) error) error {
	return s.db.Write(ctx, func(t *store.Tx) error {
		if t.Backend() == store.Postgres {
			return fn(pgTx{&tx{st: t}})
		}
		return fn(&tx{st: t})
	})
}

var _ ledgerrec.BatchStore = (*Store)(nil)

// Pipelined reports whether write transactions are ledgerrec.BatchTxs that
// may be pipelined: on PostgreSQL. (SQLite has one writer connection, and
// its commits are cheap beside PostgreSQL's round trips.)
func (s *Store) Pipelined() bool { return s.db.Backend() == store.Postgres }

// tx is ledgerrec.Tx on a store transaction.
type tx struct {
	st *store.Tx
	// supply caches asset supplies within a serialized (SQLite) write
	// transaction; see Supply. A rollback to a savepoint clears it.
	supply map[int64]int64
}

var _ ledgerrec.Tx = (*tx)(nil)

// Savepoint runs fn inside a savepoint of the transaction (store.Tx's).
func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	err := t.st.Savepoint(ctx, fn)
	if err != nil {
		// The rollback may have undone supply changes: forget the cached
		// figures.
		t.supply = nil
	}
	return err
}

// notFound turns "no row" into ledgerrec.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ledgerrec.ErrNotFound
	}
	return err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
