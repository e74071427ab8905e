// Package paymentdb keeps the payments domain's records: it implements
// payrecord.Store on a store.DB.
package paymentdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
)

// Store is payrecord.Store on a database.
type Store struct {
	db *store.DB
}

var _ payrecord.Store = (*Store)(nil)

// New returns the payment record store of db.
func New(db *store.DB) *Store { return &Store{db: db} }

// Read runs fn in a read-only transaction.
func (s *Store) Read(ctx context.Context, fn func(payrecord.Tx) error) error {
	return s.db.Read(ctx, func(t *store.Tx) error { return fn(tx{t}) })
}

// Write runs fn in a transaction that commits if fn returns nil.
func (s *Store) Write(ctx context.Context, fn func(payrecord.Tx) error) error {
	return s.db.Write(ctx, func(t *store.Tx) error { return fn(tx{t}) })
}

// tx is payrecord.Tx on a store transaction.
type tx struct{ tx *store.Tx }

var _ payrecord.Tx = tx{}

// notFound turns "no row" into an error that is both payrecord.ErrNotFound
// and store.ErrNotFound.
func notFound(err error) error {
	err = store.NotFound(err)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w (%w)", payrecord.ErrNotFound, err)
	}
	return err
}

// ChainTip is the chain watcher's best block.
func (t tx) ChainTip(ctx context.Context) (payrecord.Block, error) {
	b, err := chaindb.Tip(ctx, t.tx)
	if err != nil {
		return payrecord.Block{}, notFound(err)
	}
	return payrecord.Block{Height: b.Height, Hash: b.Hash}, nil
}

// DescriptorNextIndex is the first derivation index of desc the chain
// watcher has not seen used.
func (t tx) DescriptorNextIndex(ctx context.Context, desc string) (int64, error) {
	return chaindb.NextIndex(ctx, t.tx, desc)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const depositCols = `seq, id, account_id, asset, method, state, amount, credited, memo, COALESCE(payment_hash, ''),
	payment_request, COALESCE(address, ''), descriptor, derivation_index, COALESCE(idem_key, ''), expires_at,
	created_at, updated_at`

func scanDeposit(row interface{ Scan(...any) error }) (payrecord.Deposit, error) {
	var d payrecord.Deposit
	err := row.Scan(&d.Seq, &d.ID, &d.AccountID, &d.Asset, &d.Method, &d.State, &d.Amount, &d.Credited, &d.Memo,
		&d.PaymentHash, &d.PaymentRequest, &d.Address, &d.Descriptor, &d.Index, &d.IdemKey, &d.ExpiresAt,
		&d.CreatedAt, &d.UpdatedAt)
	return d, notFound(err)
}

// InsertDeposit stores a new deposit. A duplicate id, payment hash, address
// or (account, idempotency key) is ErrConflict.
func (t tx) InsertDeposit(ctx context.Context, d payrecord.Deposit) (payrecord.Deposit, error) {
	row := t.tx.QueryRow(ctx, `INSERT INTO payment_deposits (id, account_id, asset, method, state, amount,
		credited, memo, payment_hash, payment_request, address, descriptor, derivation_index, idem_key, expires_at,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		RETURNING seq`, d.ID, d.AccountID, d.Asset, d.Method, d.State, d.Amount, d.Credited, d.Memo,
		nullIfEmpty(d.PaymentHash), d.PaymentRequest, nullIfEmpty(d.Address), d.Descriptor, d.Index,
		nullIfEmpty(d.IdemKey), d.ExpiresAt, d.CreatedAt, d.UpdatedAt)
	err := row.Scan(&d.Seq)
	if store.IsUniqueViolation(err) {
		return d, fmt.Errorf("deposit %s: %w", d.ID, payrecord.ErrConflict)
	}
	if err != nil {
		return d, fmt.Errorf("insert deposit %s: %w", d.ID, err)
	}
	return d, nil
}

// Deposit returns a deposit by id.
func (t tx) Deposit(ctx context.Context, id string) (payrecord.Deposit, error) {
	return t.depositWhere(ctx, "deposit "+id, `id = $1`, id)
}

// DepositByIdemKey returns an account's deposit created with an idempotency
// key.
func (t tx) DepositByIdemKey(ctx context.Context, accountID, key string) (payrecord.Deposit, error) {
	return t.depositWhere(ctx, "deposit by idempotency key", `account_id = $1 AND idem_key = $2`, accountID, key)
}

// DepositByPaymentHash returns the Lightning deposit of an invoice.
func (t tx) DepositByPaymentHash(ctx context.Context, hash string) (payrecord.Deposit, error) {
	return t.depositWhere(ctx, "deposit with payment hash "+hash, `payment_hash = $1`, hash)
}

// depositWhere returns the one deposit matching cond; what names it in
// errors.
func (t tx) depositWhere(ctx context.Context, what, cond string, args ...any) (payrecord.Deposit, error) {
	return queryOne(ctx, t, what, scanDeposit, `SELECT `+depositCols+` FROM payment_deposits WHERE `+cond, args...)
}

func (t tx) queryDeposits(ctx context.Context, q string, args ...any) ([]payrecord.Deposit, error) {
	return queryAll(ctx, t, "list deposits", scanDeposit, `SELECT `+depositCols+` FROM payment_deposits `+q, args...)
}

// queryOne runs q, which selects at most one row, and scans it; scan
// reports a missing row (as ErrNotFound).
func queryOne[T any](ctx context.Context, t tx, what string, scan func(interface{ Scan(...any) error }) (T, error),
	q string, args ...any) (T, error) {
	v, err := scan(t.tx.QueryRow(ctx, q, args...))
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, t tx, what string, scan func(interface{ Scan(...any) error }) (T, error),
	q string, args ...any) ([]T, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// AccountDeposits lists an account's deposits newest first, with seq below
// before (0: from the newest), at most limit.
func (t tx) AccountDeposits(ctx context.Context, accountID string, before int64, limit int) ([]payrecord.Deposit, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return t.queryDeposits(ctx, `WHERE account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, accountID, before, limit)
}

// DepositsInState lists the deposits of a method in a state, oldest first.
func (t tx) DepositsInState(ctx context.Context, method int32, state string) ([]payrecord.Deposit, error) {
	return t.queryDeposits(ctx, `WHERE method = $1 AND state = $2 ORDER BY seq`, method, state)
}

// SetDepositState moves a deposit from one state to another and sets its
// credited total; ErrNoChange if it is not in state from.
func (t tx) SetDepositState(ctx context.Context, id, from, to string, credited, now int64) error {
	res, err := t.tx.Exec(ctx, `UPDATE payment_deposits SET state = $1, credited = $2, updated_at = $3
		WHERE id = $4 AND state = $5`, to, credited, now, id, from)
	if err != nil {
		return fmt.Errorf("update deposit %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("deposit %s is not %s: %w", id, from, payrecord.ErrNoChange)
	}
	return nil
}

// DepositSumSince sums the amounts of an account's deposits of an asset
// created at or after since, in any of the given states.
func (t tx) DepositSumSince(ctx context.Context, accountID, asset string, since int64, states ...string) (int64, error) {
	q, args := inStates(`SELECT COALESCE(SUM(amount), 0) FROM payment_deposits WHERE account_id = $1 AND asset = $2
		AND created_at >= $3`, []any{accountID, asset, since}, states)
	var sum int64
	if err := t.tx.QueryRow(ctx, q, args...).Scan(&sum); err != nil {
		return 0, fmt.Errorf("sum deposits: %w", err)
	}
	return sum, nil
}

func inStates(q string, args []any, states []string) (string, []any) {
	if len(states) == 0 {
		return q, args
	}
	ph := make([]string, len(states))
	for i, s := range states {
		args = append(args, s)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	return q + ` AND state IN (` + strings.Join(ph, ", ") + `)`, args
}

const depositOutputCols = `txid, vout, deposit_id, amount, height, state, credited_at, flagged_at`

func (t tx) queryDepositOutputs(ctx context.Context, q string, args ...any) ([]payrecord.Output, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+depositOutputCols+` FROM payment_deposit_outputs `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deposit outputs: %w", err)
	}
	defer rows.Close()
	var out []payrecord.Output
	for rows.Next() {
		var o payrecord.Output
		if err := rows.Scan(&o.TxID, &o.Vout, &o.DepositID, &o.Amount, &o.Height, &o.State, &o.CreditedAt, &o.FlaggedAt); err != nil {
			return nil, fmt.Errorf("list deposit outputs: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// DepositOutputs lists the outputs credited to a deposit.
func (t tx) DepositOutputs(ctx context.Context, depositID string) ([]payrecord.Output, error) {
	return t.queryDepositOutputs(ctx, `WHERE deposit_id = $1 ORDER BY credited_at, txid, vout`, depositID)
}

// DepositOutputsInState lists credited outputs in a state ("credited",
// "reorged").
func (t tx) DepositOutputsInState(ctx context.Context, state string) ([]payrecord.Output, error) {
	return t.queryDepositOutputs(ctx, `WHERE state = $1 ORDER BY credited_at, txid, vout`, state)
}

// InsertDepositOutput records an output as credited; ErrConflict if it
// already is.
func (t tx) InsertDepositOutput(ctx context.Context, o payrecord.Output) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO payment_deposit_outputs (txid, vout, deposit_id, amount, height,
		state, credited_at, flagged_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		o.TxID, o.Vout, o.DepositID, o.Amount, o.Height, o.State, o.CreditedAt, o.FlaggedAt)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("deposit output %s:%d: %w", o.TxID, o.Vout, payrecord.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("record deposit output %s:%d: %w", o.TxID, o.Vout, err)
	}
	return nil
}

// SetDepositOutputState sets a credited output's state and flag time.
func (t tx) SetDepositOutputState(ctx context.Context, txid string, vout uint32, state string, flaggedAt int64) error {
	_, err := t.tx.Exec(ctx, `UPDATE payment_deposit_outputs SET state = $1, flagged_at = $2
		WHERE txid = $3 AND vout = $4`, state, flaggedAt, txid, vout)
	if err != nil {
		return fmt.Errorf("update deposit output %s:%d: %w", txid, vout, err)
	}
	return nil
}

// WatchedOutputsAt lists the chain watcher's outputs (spent or not) paying
// one derivation index of a descriptor, in blocks of the stored best chain.
func (t tx) WatchedOutputsAt(ctx context.Context, desc string, index int64) ([]payrecord.WatchedOutput, error) {
	rows, err := t.tx.Query(ctx, `SELECT txid, vout, value, height, block_hash FROM chain_utxos
		WHERE descriptor = $1 AND derivation_index = $2 ORDER BY height, txid, vout`, desc, index)
	if err != nil {
		return nil, fmt.Errorf("outputs of %s at %d: %w", desc, index, err)
	}
	defer rows.Close()
	var out []payrecord.WatchedOutput
	for rows.Next() {
		var u payrecord.WatchedOutput
		if err := rows.Scan(&u.TxID, &u.Vout, &u.Value, &u.Height, &u.BlockHash); err != nil {
			return nil, fmt.Errorf("outputs of %s at %d: %w", desc, index, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// WatchedOutput returns a chain watcher output by outpoint, spent or not;
// ErrNotFound if the stored best chain does not hold it.
func (t tx) WatchedOutput(ctx context.Context, txid string, vout uint32) (payrecord.WatchedOutput, error) {
	u := payrecord.WatchedOutput{TxID: txid, Vout: vout}
	err := t.tx.QueryRow(ctx, `SELECT value, height, block_hash FROM chain_utxos WHERE txid = $1 AND vout = $2`,
		txid, vout).Scan(&u.Value, &u.Height, &u.BlockHash)
	if err != nil {
		return u, fmt.Errorf("output %s:%d: %w", txid, vout, notFound(err))
	}
	return u, nil
}

// Cursor returns a named counter (0 if unset).
func (t tx) Cursor(ctx context.Context, name string) (int64, error) {
	var v int64
	err := t.tx.QueryRow(ctx, `SELECT value FROM payment_cursors WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor %s: %w", name, err)
	}
	return v, nil
}

// SetCursor sets a named counter.
func (t tx) SetCursor(ctx context.Context, name string, v int64) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO payment_cursors (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, v)
	if err != nil {
		return fmt.Errorf("set cursor %s: %w", name, err)
	}
	return nil
}

const redemptionCols = `seq, id, account_id, asset, method, state, amount, fee_limit, fee_paid, payment_request,
	COALESCE(payment_hash, ''), preimage, address, sat_per_vbyte, txid, failure, idem_key, created_at, updated_at,
	units, price`

func scanRedemption(row interface{ Scan(...any) error }) (payrecord.Redemption, error) {
	var r payrecord.Redemption
	err := row.Scan(&r.Seq, &r.ID, &r.AccountID, &r.Asset, &r.Method, &r.State, &r.Amount, &r.FeeLimit, &r.FeePaid,
		&r.PaymentRequest, &r.PaymentHash, &r.Preimage, &r.Address, &r.SatPerVbyte, &r.TxID, &r.Failure, &r.IdemKey,
		&r.CreatedAt, &r.UpdatedAt, &r.Units, &r.Price)
	return r, notFound(err)
}

// InsertRedemption stores a new redemption. A duplicate id, payment hash or
// (account, idempotency key) is ErrConflict.
func (t tx) InsertRedemption(ctx context.Context, r payrecord.Redemption) (payrecord.Redemption, error) {
	err := t.tx.QueryRow(ctx, `INSERT INTO payment_redemptions (id, account_id, asset, method, state, amount,
		fee_limit, fee_paid, payment_request, payment_hash, preimage, address, sat_per_vbyte, txid, failure, idem_key,
		created_at, updated_at, units, price) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
		$17, $18, $19, $20)
		RETURNING seq`, r.ID, r.AccountID, r.Asset, r.Method, r.State, r.Amount, r.FeeLimit, r.FeePaid,
		r.PaymentRequest, nullIfEmpty(r.PaymentHash), r.Preimage, r.Address, r.SatPerVbyte, r.TxID, r.Failure,
		r.IdemKey, r.CreatedAt, r.UpdatedAt, r.Units, r.Price).Scan(&r.Seq)
	if store.IsUniqueViolation(err) {
		return r, fmt.Errorf("redemption %s: %w", r.ID, payrecord.ErrConflict)
	}
	if err != nil {
		return r, fmt.Errorf("insert redemption %s: %w", r.ID, err)
	}
	return r, nil
}

// Redemption returns a redemption by id.
func (t tx) Redemption(ctx context.Context, id string) (payrecord.Redemption, error) {
	return t.redemptionWhere(ctx, "redemption "+id, `id = $1`, id)
}

// RedemptionByIdemKey returns an account's redemption by idempotency key.
func (t tx) RedemptionByIdemKey(ctx context.Context, accountID, key string) (payrecord.Redemption, error) {
	return t.redemptionWhere(ctx, "redemption by idempotency key", `account_id = $1 AND idem_key = $2`, accountID, key)
}

// RedemptionByPaymentHash returns the Lightning redemption paying a hash.
func (t tx) RedemptionByPaymentHash(ctx context.Context, hash string) (payrecord.Redemption, error) {
	return t.redemptionWhere(ctx, "redemption paying "+hash, `payment_hash = $1`, hash)
}

// redemptionWhere returns the one redemption matching cond; what names it
// in errors.
func (t tx) redemptionWhere(ctx context.Context, what, cond string, args ...any) (payrecord.Redemption, error) {
	return queryOne(ctx, t, what, scanRedemption, `SELECT `+redemptionCols+` FROM payment_redemptions WHERE `+cond, args...)
}

func (t tx) queryRedemptions(ctx context.Context, q string, args ...any) ([]payrecord.Redemption, error) {
	return queryAll(ctx, t, "list redemptions", scanRedemption, `SELECT `+redemptionCols+` FROM payment_redemptions `+q, args...)
}

// AccountRedemptions lists an account's redemptions newest first, with seq
// below before (0: from the newest), at most limit.
func (t tx) AccountRedemptions(ctx context.Context, accountID string, before int64, limit int) ([]payrecord.Redemption, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return t.queryRedemptions(ctx, `WHERE account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, accountID, before, limit)
}

// RedemptionsInStates lists redemptions in any of the states, oldest first.
func (t tx) RedemptionsInStates(ctx context.Context, states ...string) ([]payrecord.Redemption, error) {
	q, args := inStates(`WHERE 1 = 1`, nil, states)
	return t.queryRedemptions(ctx, q+` ORDER BY seq`, args...)
}

// UpdateRedemption writes r's mutable fields if the stored redemption is
// still in state from; ErrNoChange otherwise.
func (t tx) UpdateRedemption(ctx context.Context, r payrecord.Redemption, from string) error {
	res, err := t.tx.Exec(ctx, `UPDATE payment_redemptions SET state = $1, fee_paid = $2, preimage = $3,
		txid = $4, failure = $5, updated_at = $6 WHERE id = $7 AND state = $8`,
		r.State, r.FeePaid, r.Preimage, r.TxID, r.Failure, r.UpdatedAt, r.ID, from)
	if err != nil {
		return fmt.Errorf("update redemption %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("redemption %s is not %s: %w", r.ID, from, payrecord.ErrNoChange)
	}
	return nil
}

// RedemptionSumSince sums amount plus fee limit of an account's
// redemptions of an asset created at or after since, in any of the states.
func (t tx) RedemptionSumSince(ctx context.Context, accountID, asset string, since int64, states ...string) (int64, error) {
	q, args := inStates(`SELECT COALESCE(SUM(amount + fee_limit), 0) FROM payment_redemptions WHERE account_id = $1
		AND asset = $2 AND created_at >= $3`, []any{accountID, asset, since}, states)
	var sum int64
	if err := t.tx.QueryRow(ctx, q, args...).Scan(&sum); err != nil {
		return 0, fmt.Errorf("sum redemptions: %w", err)
	}
	return sum, nil
}
