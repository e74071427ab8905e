package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The ledger's hot-path statements. Each is prepared once on the SQLite
// writer connection when the store opens, so a batch of transfers executes
// them without parsing SQL again (parsing was a quarter of the CPU of a
// transfer). PostgreSQL needs no such cache: pgx already prepares and caches
// statements per connection.
const (
	qSavepoint         = `SAVEPOINT kosh_op`
	qRollbackSavepoint = `ROLLBACK TO SAVEPOINT kosh_op`
	qReleaseSavepoint  = `RELEASE SAVEPOINT kosh_op`
	qEntryByIdemKey    = `SELECT ` + entryCols + ` FROM journal j JOIN assets a ON a.id = j.asset_id
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
	// (BenchmarkCommitBatch in package ledger).
	qInsertEntry = qInsertEntryExec + ` RETURNING seq`
)

// hotQueries are prepared on the SQLite writer at open.
var hotQueries = []string{
	qSavepoint, qRollbackSavepoint, qReleaseSavepoint, qEntryByIdemKey, qCountAccounts1, qCountAccounts2,
	qSupply, qAddSupplyUp, qAddSupplyDown, qCredit, qDebit, qBalance, qAddHolders, qInsertEntryExec,
}

// prepareHot prepares hotQueries on the writer pool (one connection for
// SQLite). database/sql re-prepares a statement transparently if the
// connection is ever replaced.
func (db *DB) prepareHot(ctx context.Context) error {
	db.hot = make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		s, err := db.writer.PrepareContext(ctx, q)
		if err != nil {
			db.closeHot()
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		db.hot[q] = s
	}
	return nil
}

func (db *DB) closeHot() {
	for _, s := range db.hot {
		s.Close()
	}
	db.hot = nil
}

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
		t.txStmts = make(map[string]*sql.Stmt, len(hotQueries))
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
