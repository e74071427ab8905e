package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Payment methods as stored; the values match kosh.v1.PaymentMethod.
const (
	MethodLightning int32 = 1
	MethodOnchain   int32 = 2
)

// DepositRow is a stored deposit.
type DepositRow struct {
	Seq            int64
	ID             string
	AccountID      string
	Asset          string
	Method         int32
	State          string
	Amount         int64
	Credited       int64
	Memo           string
	PaymentHash    string // "" for on-chain
	PaymentRequest string
	Address        string // "" for Lightning
	Descriptor     string
	Index          int64
	IdemKey        string
	ExpiresAt      int64 // unix microseconds, 0: none
	CreatedAt      int64
	UpdatedAt      int64
}

// DepositOutputRow is an on-chain output credited to a deposit.
type DepositOutputRow struct {
	TxID       string
	Vout       uint32
	DepositID  string
	Amount     int64
	Height     int64
	State      string
	CreditedAt int64
	FlaggedAt  int64
}

// RedemptionRow is a stored redemption.
type RedemptionRow struct {
	Seq            int64
	ID             string
	AccountID      string
	Asset          string
	Method         int32
	State          string
	Amount         int64
	FeeLimit       int64
	FeePaid        int64
	PaymentRequest string
	PaymentHash    string // "" for on-chain
	Preimage       string
	Address        string
	SatPerVbyte    int64
	TxID           string
	Failure        string
	IdemKey        string
	CreatedAt      int64
	UpdatedAt      int64
	// Units is what the payout costs the holder in the asset's base units
	// (0 in rows older than migration 0007: Amount + FeeLimit); Price
	// records the attested price a fiat-pegged redemption was converted at.
	Units int64
	Price string
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

func scanDeposit(row interface{ Scan(...any) error }) (DepositRow, error) {
	var d DepositRow
	err := row.Scan(&d.Seq, &d.ID, &d.AccountID, &d.Asset, &d.Method, &d.State, &d.Amount, &d.Credited, &d.Memo,
		&d.PaymentHash, &d.PaymentRequest, &d.Address, &d.Descriptor, &d.Index, &d.IdemKey, &d.ExpiresAt,
		&d.CreatedAt, &d.UpdatedAt)
	return d, notFound(err)
}

// InsertDeposit stores a new deposit. A duplicate id, payment hash, address
// or (account, idempotency key) is ErrConflict.
func (t *Tx) InsertDeposit(ctx context.Context, d DepositRow) (DepositRow, error) {
	row := t.tx.QueryRowContext(ctx, `INSERT INTO payment_deposits (id, account_id, asset, method, state, amount,
		credited, memo, payment_hash, payment_request, address, descriptor, derivation_index, idem_key, expires_at,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		RETURNING seq`, d.ID, d.AccountID, d.Asset, d.Method, d.State, d.Amount, d.Credited, d.Memo,
		nullIfEmpty(d.PaymentHash), d.PaymentRequest, nullIfEmpty(d.Address), d.Descriptor, d.Index,
		nullIfEmpty(d.IdemKey), d.ExpiresAt, d.CreatedAt, d.UpdatedAt)
	err := row.Scan(&d.Seq)
	if isUniqueViolation(err) {
		return d, fmt.Errorf("deposit %s: %w", d.ID, ErrConflict)
	}
	if err != nil {
		return d, fmt.Errorf("insert deposit %s: %w", d.ID, err)
	}
	return d, nil
}

// Deposit returns a deposit by id.
func (t *Tx) Deposit(ctx context.Context, id string) (DepositRow, error) {
	return t.depositWhere(ctx, "deposit "+id, `id = $1`, id)
}

// DepositByIdemKey returns an account's deposit created with an idempotency
// key.
func (t *Tx) DepositByIdemKey(ctx context.Context, accountID, key string) (DepositRow, error) {
	return t.depositWhere(ctx, "deposit by idempotency key", `account_id = $1 AND idem_key = $2`, accountID, key)
}

// DepositByPaymentHash returns the Lightning deposit of an invoice.
func (t *Tx) DepositByPaymentHash(ctx context.Context, hash string) (DepositRow, error) {
	return t.depositWhere(ctx, "deposit with payment hash "+hash, `payment_hash = $1`, hash)
}

// depositWhere returns the one deposit matching cond; what names it in
// errors.
func (t *Tx) depositWhere(ctx context.Context, what, cond string, args ...any) (DepositRow, error) {
	return queryOne(ctx, t, what, scanDeposit, `SELECT `+depositCols+` FROM payment_deposits WHERE `+cond, args...)
}

func (t *Tx) queryDeposits(ctx context.Context, q string, args ...any) ([]DepositRow, error) {
	return queryAll(ctx, t, "list deposits", scanDeposit, `SELECT `+depositCols+` FROM payment_deposits `+q, args...)
}

// queryOne runs q, which selects at most one row, and scans it; scan
// reports a missing row (as ErrNotFound).
func queryOne[T any](ctx context.Context, t *Tx, what string, scan func(interface{ Scan(...any) error }) (T, error),
	q string, args ...any) (T, error) {
	v, err := scan(t.tx.QueryRowContext(ctx, q, args...))
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, t *Tx, what string, scan func(interface{ Scan(...any) error }) (T, error),
	q string, args ...any) ([]T, error) {
	rows, err := t.tx.QueryContext(ctx, q, args...)
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
func (t *Tx) AccountDeposits(ctx context.Context, accountID string, before int64, limit int) ([]DepositRow, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return t.queryDeposits(ctx, `WHERE account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, accountID, before, limit)
}

// DepositsInState lists the deposits of a method in a state, oldest first.
func (t *Tx) DepositsInState(ctx context.Context, method int32, state string) ([]DepositRow, error) {
	return t.queryDeposits(ctx, `WHERE method = $1 AND state = $2 ORDER BY seq`, method, state)
}

// SetDepositState moves a deposit from one state to another and sets its
// credited total; ErrNoChange if it is not in state from.
func (t *Tx) SetDepositState(ctx context.Context, id, from, to string, credited, now int64) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE payment_deposits SET state = $1, credited = $2, updated_at = $3
		WHERE id = $4 AND state = $5`, to, credited, now, id, from)
	if err != nil {
		return fmt.Errorf("update deposit %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("deposit %s is not %s: %w", id, from, ErrNoChange)
	}
	return nil
}

// DepositSumSince sums the amounts of an account's deposits of an asset
// created at or after since, in any of the given states.
func (t *Tx) DepositSumSince(ctx context.Context, accountID, asset string, since int64, states ...string) (int64, error) {
	q, args := inStates(`SELECT COALESCE(SUM(amount), 0) FROM payment_deposits WHERE account_id = $1 AND asset = $2
		AND created_at >= $3`, []any{accountID, asset, since}, states)
	var sum int64
	if err := t.tx.QueryRowContext(ctx, q, args...).Scan(&sum); err != nil {
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

func (t *Tx) queryDepositOutputs(ctx context.Context, q string, args ...any) ([]DepositOutputRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+depositOutputCols+` FROM payment_deposit_outputs `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deposit outputs: %w", err)
	}
	defer rows.Close()
	var out []DepositOutputRow
	for rows.Next() {
		var o DepositOutputRow
		if err := rows.Scan(&o.TxID, &o.Vout, &o.DepositID, &o.Amount, &o.Height, &o.State, &o.CreditedAt, &o.FlaggedAt); err != nil {
			return nil, fmt.Errorf("list deposit outputs: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// DepositOutputs lists the outputs credited to a deposit.
func (t *Tx) DepositOutputs(ctx context.Context, depositID string) ([]DepositOutputRow, error) {
	return t.queryDepositOutputs(ctx, `WHERE deposit_id = $1 ORDER BY credited_at, txid, vout`, depositID)
}

// DepositOutputsInState lists credited outputs in a state ("credited",
// "reorged").
func (t *Tx) DepositOutputsInState(ctx context.Context, state string) ([]DepositOutputRow, error) {
	return t.queryDepositOutputs(ctx, `WHERE state = $1 ORDER BY credited_at, txid, vout`, state)
}

// InsertDepositOutput records an output as credited; ErrConflict if it
// already is.
func (t *Tx) InsertDepositOutput(ctx context.Context, o DepositOutputRow) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO payment_deposit_outputs (txid, vout, deposit_id, amount, height,
		state, credited_at, flagged_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		o.TxID, o.Vout, o.DepositID, o.Amount, o.Height, o.State, o.CreditedAt, o.FlaggedAt)
	if isUniqueViolation(err) {
		return fmt.Errorf("deposit output %s:%d: %w", o.TxID, o.Vout, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("record deposit output %s:%d: %w", o.TxID, o.Vout, err)
	}
	return nil
}

// SetDepositOutputState sets a credited output's state and flag time.
func (t *Tx) SetDepositOutputState(ctx context.Context, txid string, vout uint32, state string, flaggedAt int64) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE payment_deposit_outputs SET state = $1, flagged_at = $2
		WHERE txid = $3 AND vout = $4`, state, flaggedAt, txid, vout)
	if err != nil {
		return fmt.Errorf("update deposit output %s:%d: %w", txid, vout, err)
	}
	return nil
}

// WatchedOutputsAt lists the chain watcher's outputs (spent or not) paying
// one derivation index of a descriptor, in blocks of the stored best chain.
func (t *Tx) WatchedOutputsAt(ctx context.Context, desc string, index int64) ([]UTXORow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT txid, vout, value, height, block_hash FROM chain_utxos
		WHERE descriptor = $1 AND derivation_index = $2 ORDER BY height, txid, vout`, desc, index)
	if err != nil {
		return nil, fmt.Errorf("outputs of %s at %d: %w", desc, index, err)
	}
	defer rows.Close()
	var out []UTXORow
	for rows.Next() {
		u := UTXORow{Descriptor: desc, Index: index}
		if err := rows.Scan(&u.TxID, &u.Vout, &u.Value, &u.Height, &u.BlockHash); err != nil {
			return nil, fmt.Errorf("outputs of %s at %d: %w", desc, index, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// WatchedOutput returns a chain watcher output by outpoint, spent or not;
// ErrNotFound if the stored best chain does not hold it.
func (t *Tx) WatchedOutput(ctx context.Context, txid string, vout uint32) (UTXORow, error) {
	u := UTXORow{TxID: txid, Vout: vout}
	err := t.tx.QueryRowContext(ctx, `SELECT value, height, block_hash FROM chain_utxos WHERE txid = $1 AND vout = $2`,
		txid, vout).Scan(&u.Value, &u.Height, &u.BlockHash)
	if err != nil {
		return u, fmt.Errorf("output %s:%d: %w", txid, vout, notFound(err))
	}
	return u, nil
}

// Cursor returns a named counter (0 if unset).
func (t *Tx) Cursor(ctx context.Context, name string) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(ctx, `SELECT value FROM payment_cursors WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor %s: %w", name, err)
	}
	return v, nil
}

// SetCursor sets a named counter.
func (t *Tx) SetCursor(ctx context.Context, name string, v int64) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO payment_cursors (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, v)
	if err != nil {
		return fmt.Errorf("set cursor %s: %w", name, err)
	}
	return nil
}

const redemptionCols = `seq, id, account_id, asset, method, state, amount, fee_limit, fee_paid, payment_request,
	COALESCE(payment_hash, ''), preimage, address, sat_per_vbyte, txid, failure, idem_key, created_at, updated_at,
	units, price`

func scanRedemption(row interface{ Scan(...any) error }) (RedemptionRow, error) {
	var r RedemptionRow
	err := row.Scan(&r.Seq, &r.ID, &r.AccountID, &r.Asset, &r.Method, &r.State, &r.Amount, &r.FeeLimit, &r.FeePaid,
		&r.PaymentRequest, &r.PaymentHash, &r.Preimage, &r.Address, &r.SatPerVbyte, &r.TxID, &r.Failure, &r.IdemKey,
		&r.CreatedAt, &r.UpdatedAt, &r.Units, &r.Price)
	return r, notFound(err)
}

// InsertRedemption stores a new redemption. A duplicate id, payment hash or
// (account, idempotency key) is ErrConflict.
func (t *Tx) InsertRedemption(ctx context.Context, r RedemptionRow) (RedemptionRow, error) {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO payment_redemptions (id, account_id, asset, method, state, amount,
		fee_limit, fee_paid, payment_request, payment_hash, preimage, address, sat_per_vbyte, txid, failure, idem_key,
		created_at, updated_at, units, price) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
		$17, $18, $19, $20)
		RETURNING seq`, r.ID, r.AccountID, r.Asset, r.Method, r.State, r.Amount, r.FeeLimit, r.FeePaid,
		r.PaymentRequest, nullIfEmpty(r.PaymentHash), r.Preimage, r.Address, r.SatPerVbyte, r.TxID, r.Failure,
		r.IdemKey, r.CreatedAt, r.UpdatedAt, r.Units, r.Price).Scan(&r.Seq)
	if isUniqueViolation(err) {
		return r, fmt.Errorf("redemption %s: %w", r.ID, ErrConflict)
	}
	if err != nil {
		return r, fmt.Errorf("insert redemption %s: %w", r.ID, err)
	}
	return r, nil
}

// Redemption returns a redemption by id.
func (t *Tx) Redemption(ctx context.Context, id string) (RedemptionRow, error) {
	return t.redemptionWhere(ctx, "redemption "+id, `id = $1`, id)
}

// RedemptionByIdemKey returns an account's redemption by idempotency key.
func (t *Tx) RedemptionByIdemKey(ctx context.Context, accountID, key string) (RedemptionRow, error) {
	return t.redemptionWhere(ctx, "redemption by idempotency key", `account_id = $1 AND idem_key = $2`, accountID, key)
}

// RedemptionByPaymentHash returns the Lightning redemption paying a hash.
func (t *Tx) RedemptionByPaymentHash(ctx context.Context, hash string) (RedemptionRow, error) {
	return t.redemptionWhere(ctx, "redemption paying "+hash, `payment_hash = $1`, hash)
}

// redemptionWhere returns the one redemption matching cond; what names it
// in errors.
func (t *Tx) redemptionWhere(ctx context.Context, what, cond string, args ...any) (RedemptionRow, error) {
	return queryOne(ctx, t, what, scanRedemption, `SELECT `+redemptionCols+` FROM payment_redemptions WHERE `+cond, args...)
}

func (t *Tx) queryRedemptions(ctx context.Context, q string, args ...any) ([]RedemptionRow, error) {
	return queryAll(ctx, t, "list redemptions", scanRedemption, `SELECT `+redemptionCols+` FROM payment_redemptions `+q, args...)
}

// AccountRedemptions lists an account's redemptions newest first, with seq
// below before (0: from the newest), at most limit.
func (t *Tx) AccountRedemptions(ctx context.Context, accountID string, before int64, limit int) ([]RedemptionRow, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return t.queryRedemptions(ctx, `WHERE account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, accountID, before, limit)
}

// RedemptionsInStates lists redemptions in any of the states, oldest first.
func (t *Tx) RedemptionsInStates(ctx context.Context, states ...string) ([]RedemptionRow, error) {
	q, args := inStates(`WHERE 1 = 1`, nil, states)
	return t.queryRedemptions(ctx, q+` ORDER BY seq`, args...)
}

// UpdateRedemption writes r's mutable fields if the stored redemption is
// still in state from; ErrNoChange otherwise.
func (t *Tx) UpdateRedemption(ctx context.Context, r RedemptionRow, from string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE payment_redemptions SET state = $1, fee_paid = $2, preimage = $3,
		txid = $4, failure = $5, updated_at = $6 WHERE id = $7 AND state = $8`,
		r.State, r.FeePaid, r.Preimage, r.TxID, r.Failure, r.UpdatedAt, r.ID, from)
	if err != nil {
		return fmt.Errorf("update redemption %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("redemption %s is not %s: %w", r.ID, from, ErrNoChange)
	}
	return nil
}

// RedemptionSumSince sums amount plus fee limit of an account's
// redemptions of an asset created at or after since, in any of the states.
func (t *Tx) RedemptionSumSince(ctx context.Context, accountID, asset string, since int64, states ...string) (int64, error) {
	q, args := inStates(`SELECT COALESCE(SUM(amount + fee_limit), 0) FROM payment_redemptions WHERE account_id = $1
		AND asset = $2 AND created_at >= $3`, []any{accountID, asset, since}, states)
	var sum int64
	if err := t.tx.QueryRowContext(ctx, q, args...).Scan(&sum); err != nil {
		return 0, fmt.Errorf("sum redemptions: %w", err)
	}
	return sum, nil
}
