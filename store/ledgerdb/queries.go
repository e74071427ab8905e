package ledgerdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
)

const assetCols = `id, code, name, decimals, peg, min_coverage_bps, supply, created_at, currency, warn_coverage_bps, holders`

func scanAsset(row interface{ Scan(...any) error }) (ledgerrec.Asset, error) {
	var a ledgerrec.Asset
	err := row.Scan(&a.ID, &a.Code, &a.Name, &a.Decimals, &a.Peg, &a.MinCoverageBps, &a.Supply, &a.CreatedAt,
		&a.Currency, &a.WarnCoverageBps, &a.Holders)
	return a, notFound(err)
}

// InsertAsset stores a new asset and returns it with its id. A duplicate
// code is ledgerrec.ErrConflict.
func (t *tx) InsertAsset(ctx context.Context, a ledgerrec.Asset) (ledgerrec.Asset, error) {
	err := t.st.QueryRow(ctx, `INSERT INTO assets (code, name, decimals, peg, min_coverage_bps, supply, created_at,
		currency, warn_coverage_bps) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8) RETURNING id`,
		a.Code, a.Name, a.Decimals, a.Peg, a.MinCoverageBps, a.CreatedAt, a.Currency, a.WarnCoverageBps).Scan(&a.ID)
	if store.IsUniqueViolation(err) {
		return a, fmt.Errorf("asset %s: %w", a.Code, ledgerrec.ErrConflict)
	}
	if err != nil {
		return a, fmt.Errorf("insert asset %s: %w", a.Code, err)
	}
	return a, nil
}

// AssetByCode loads an asset by code.
func (t *tx) AssetByCode(ctx context.Context, code string) (ledgerrec.Asset, error) {
	a, err := scanAsset(t.st.QueryRow(ctx, `SELECT `+assetCols+` FROM assets WHERE code = $1`, code))
	if err != nil {
		return a, fmt.Errorf("load asset %s: %w", code, err)
	}
	return a, nil
}

// Assets lists every asset in creation order.
func (t *tx) Assets(ctx context.Context) ([]ledgerrec.Asset, error) {
	rows, err := t.st.Query(ctx, `SELECT `+assetCols+` FROM assets ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	defer rows.Close()
	var out []ledgerrec.Asset
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, fmt.Errorf("list assets: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddSupply adds delta (positive or negative) to an asset's supply, provided
// the result stays within [0, MaxInt64]; otherwise it returns ledgerrec.ErrNoChange and
// changes nothing. It returns the new supply.
func (t *tx) AddSupply(ctx context.Context, assetID, delta int64) (int64, error) {
	if delta == math.MinInt64 {
		return 0, ledgerrec.ErrNoChange
	}
	// The guard's bound is computed here, where overflow cannot happen:
	// supply + delta <= MaxInt64  <=>  supply <= MaxInt64 - delta (delta >= 0).
	q := qAddSupplyUp
	bound := math.MaxInt64 - delta
	if delta < 0 {
		q = qAddSupplyDown
		bound = -delta
	}
	var supply int64
	err := t.st.QueryRow(ctx, q, delta, assetID, bound).Scan(&supply)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ledgerrec.ErrNoChange
	}
	if err != nil {
		delete(t.supply, assetID)
		return 0, fmt.Errorf("update supply of asset %d: %w", assetID, err)
	}
	t.rememberSupply(assetID, supply)
	return supply, nil
}

// InsertAccount stores a new account. A duplicate id or idempotency key is
// ledgerrec.ErrConflict.
func (t *tx) InsertAccount(ctx context.Context, a ledgerrec.Account) (ledgerrec.Account, error) {
	var key any
	if a.IdempotencyKey != "" {
		key = a.IdempotencyKey
	}
	held := 0
	if a.IssuerHeld {
		held = 1
	}
	err := t.st.QueryRow(ctx, `INSERT INTO accounts (id, label, idempotency_key, created_at, issuer_held)
		VALUES ($1, $2, $3, $4, $5) RETURNING seq`, a.ID, a.Label, key, a.CreatedAt, held).Scan(&a.Seq)
	if store.IsUniqueViolation(err) {
		return a, fmt.Errorf("account %s: %w", a.ID, ledgerrec.ErrConflict)
	}
	if err != nil {
		return a, fmt.Errorf("insert account: %w", err)
	}
	return a, nil
}

const accountCols = `seq, id, label, COALESCE(idempotency_key, ''), created_at, issuer_held`

func scanAccount(row interface{ Scan(...any) error }) (ledgerrec.Account, error) {
	var (
		a    ledgerrec.Account
		held int64
	)
	err := row.Scan(&a.Seq, &a.ID, &a.Label, &a.IdempotencyKey, &a.CreatedAt, &held)
	a.IssuerHeld = held != 0
	return a, notFound(err)
}

// Account loads an account by id.
func (t *tx) Account(ctx context.Context, id string) (ledgerrec.Account, error) {
	a, err := scanAccount(t.st.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	if err != nil {
		return a, fmt.Errorf("load account %s: %w", id, err)
	}
	return a, nil
}

// AccountByIdempotencyKey loads the account created with the given key.
func (t *tx) AccountByIdempotencyKey(ctx context.Context, key string) (ledgerrec.Account, error) {
	a, err := scanAccount(t.st.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE idempotency_key = $1`, key))
	if err != nil {
		return a, fmt.Errorf("load account by idempotency key: %w", err)
	}
	return a, nil
}

// CountAccounts returns how many of the given ids exist.
func (t *tx) CountAccounts(ctx context.Context, ids ...string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i] = fmt.Sprintf("$%d", i+1)
		args[i] = id
	}
	q := `SELECT COUNT(*) FROM accounts WHERE id IN (` + strings.Join(ph, ",") + `)`
	switch len(ids) { // the ledger's cases, prepared on SQLite
	case 1:
		q = qCountAccounts1
	case 2:
		q = qCountAccounts2
	}
	var n int
	err := t.st.QueryRow(ctx, q, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// Accounts lists up to limit accounts with seq greater than afterSeq.
func (t *tx) Accounts(ctx context.Context, afterSeq int64, limit int) ([]ledgerrec.Account, error) {
	rows, err := t.st.Query(ctx, `SELECT `+accountCols+` FROM accounts WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []ledgerrec.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// IssuerAccounts lists every issuer-held account, ordered by id.
func (t *tx) IssuerAccounts(ctx context.Context) ([]ledgerrec.Account, error) {
	rows, err := t.st.Query(ctx, `SELECT `+accountCols+` FROM accounts WHERE issuer_held = 1 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list issuer accounts: %w", err)
	}
	defer rows.Close()
	var out []ledgerrec.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list issuer accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Balances lists an account's balances, ordered by asset.
func (t *tx) Balances(ctx context.Context, accountID string) ([]ledgerrec.Balance, error) {
	rows, err := t.st.Query(ctx, `SELECT b.account_id, b.asset_id, a.code, b.balance
		FROM balances b JOIN assets a ON a.id = b.asset_id WHERE b.account_id = $1 ORDER BY a.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list balances of %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []ledgerrec.Balance
	for rows.Next() {
		var b ledgerrec.Balance
		if err := rows.Scan(&b.AccountID, &b.AssetID, &b.AssetCode, &b.Balance); err != nil {
			return nil, fmt.Errorf("list balances of %s: %w", accountID, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// BalancesOfAccounts returns the balances of the accounts with afterSeq <
// seq <= lastSeq (a page of Accounts), by account id, each ordered by
// asset: one query for the page.
func (t *tx) BalancesOfAccounts(ctx context.Context, afterSeq, lastSeq int64) (map[string][]ledgerrec.Balance, error) {
	rows, err := t.st.Query(ctx, `SELECT b.account_id, b.asset_id, a.code, b.balance
		FROM accounts c JOIN balances b ON b.account_id = c.id JOIN assets a ON a.id = b.asset_id
		WHERE c.seq > $1 AND c.seq <= $2 ORDER BY c.seq, a.id`, afterSeq, lastSeq)
	if err != nil {
		return nil, fmt.Errorf("list balances of accounts %d to %d: %w", afterSeq+1, lastSeq, err)
	}
	defer rows.Close()
	out := map[string][]ledgerrec.Balance{}
	for rows.Next() {
		var b ledgerrec.Balance
		if err := rows.Scan(&b.AccountID, &b.AssetID, &b.AssetCode, &b.Balance); err != nil {
			return nil, fmt.Errorf("list balances of accounts: %w", err)
		}
		out[b.AccountID] = append(out[b.AccountID], b)
	}
	return out, rows.Err()
}

// AssetBalances calls fn for every account balance of an asset, in account
// id order, within the transaction's snapshot. It is how a liability tree is
// built from one consistent view of the ledger.
func (t *tx) AssetBalances(ctx context.Context, assetID int64, fn func(accountID string, balance int64) error) error {
	rows, err := t.st.Query(ctx, `SELECT account_id, balance FROM balances WHERE asset_id = $1 ORDER BY account_id`, assetID)
	if err != nil {
		return fmt.Errorf("scan balances of asset %d: %w", assetID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var bal int64
		if err := rows.Scan(&id, &bal); err != nil {
			return fmt.Errorf("scan balances of asset %d: %w", assetID, err)
		}
		if err := fn(id, bal); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Credit adds amount (> 0) to an account's balance of an asset, creating the
// balance row if needed. If the balance would exceed MaxInt64 it returns
// ledgerrec.ErrNoChange and changes nothing; if the account (or asset) does not exist
// the foreign key refuses the new row and it returns an error wrapping
// ledgerrec.ErrNotFound (on PostgreSQL the transaction then needs a rollback to a
// savepoint). It returns the new balance. A balance that was zero (or
// absent) makes the account a new holder: the asset's holders count goes up
// by one in the same transaction.
func (t *tx) Credit(ctx context.Context, accountID string, assetID, amount int64) (int64, error) {
	if amount <= 0 {
		return 0, fmt.Errorf("credit %s: amount %d is not positive", accountID, amount)
	}
	var bal int64
	err := t.st.QueryRow(ctx, qCredit, accountID, assetID, amount, math.MaxInt64-amount).Scan(&bal)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ledgerrec.ErrNoChange
	}
	if store.IsForeignKeyViolation(err) {
		return 0, fmt.Errorf("credit %s: account or asset %w", accountID, ledgerrec.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("credit %s: %w", accountID, err)
	}
	if bal == amount { // it held nothing before
		if err := t.addHolders(ctx, assetID, 1); err != nil {
			return 0, fmt.Errorf("credit %s: %w", accountID, err)
		}
	}
	return bal, nil
}

// addHolders moves an asset's holders count by delta (+1 or -1).
func (t *tx) addHolders(ctx context.Context, assetID, delta int64) error {
	if _, err := t.st.Exec(ctx, qAddHolders, delta, assetID); err != nil {
		return fmt.Errorf("update holders of asset %d: %w", assetID, err)
	}
	return nil
}

// Debit subtracts amount (> 0) from an account's balance of an asset. If the
// balance is smaller than amount (or absent) it returns ledgerrec.ErrNoChange and
// changes nothing. It returns the new balance. A balance that reaches zero
// loses the asset a holder: its holders count goes down by one in the same
// transaction.
func (t *tx) Debit(ctx context.Context, accountID string, assetID, amount int64) (int64, error) {
	if amount <= 0 {
		return 0, fmt.Errorf("debit %s: amount %d is not positive", accountID, amount)
	}
	var bal int64
	err := t.st.QueryRow(ctx, qDebit, amount, accountID, assetID).Scan(&bal)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ledgerrec.ErrNoChange
	}
	if err != nil {
		return 0, fmt.Errorf("debit %s: %w", accountID, err)
	}
	if bal == 0 {
		if err := t.addHolders(ctx, assetID, -1); err != nil {
			return 0, fmt.Errorf("debit %s: %w", accountID, err)
		}
	}
	return bal, nil
}

// Balance returns an account's balance of an asset (0 if it never held it).
func (t *tx) Balance(ctx context.Context, accountID string, assetID int64) (int64, error) {
	var bal int64
	err := t.st.QueryRow(ctx, qBalance, accountID, assetID).Scan(&bal)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("balance of %s: %w", accountID, err)
	}
	return bal, nil
}

// InsertEntry appends a journal entry and returns it with its sequence
// number. An entry whose (scope, key) is taken is ledgerrec.ErrConflict; one naming an
// account or asset that does not exist wraps ledgerrec.ErrNotFound.
func (t *tx) InsertEntry(ctx context.Context, e ledgerrec.Entry) (ledgerrec.Entry, error) {
	args := []any{e.Kind, e.AssetID, nullable(e.DebitAccountID), nullable(e.CreditAccountID), e.Amount, e.Memo,
		e.IdemScope, e.IdemKey, e.RequestHash, e.DebitBalanceAfter, e.CreditBalanceAfter, e.SupplyAfter,
		e.CreatedAt, e.ChainHash}
	var err error
	if t.st.Backend() == store.SQLite {
		// seq is the table's rowid (INTEGER PRIMARY KEY).
		var res sql.Result
		if res, err = t.st.Exec(ctx, qInsertEntryExec, args...); err == nil {
			e.Seq, err = res.LastInsertId()
		}
	} else {
		err = t.st.QueryRow(ctx, qInsertEntry, args...).Scan(&e.Seq)
	}
	if store.IsUniqueViolation(err) {
		return e, fmt.Errorf("journal entry %s/%s: %w", e.IdemScope, e.IdemKey, ledgerrec.ErrConflict)
	}
	if store.IsForeignKeyViolation(err) || errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("journal entry %s/%s: account or asset %w", e.IdemScope, e.IdemKey, ledgerrec.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("insert journal entry: %w", err)
	}
	return e, nil
}

const entryCols = `j.seq, j.kind, j.asset_id, a.code, COALESCE(j.debit_account_id, ''), COALESCE(j.credit_account_id, ''),
	j.amount, j.memo, j.idem_scope, j.idem_key, j.request_hash, j.debit_balance_after, j.credit_balance_after,
	j.supply_after, j.created_at`

func scanEntry(row interface{ Scan(...any) error }) (ledgerrec.Entry, error) {
	var e ledgerrec.Entry
	err := row.Scan(&e.Seq, &e.Kind, &e.AssetID, &e.AssetCode, &e.DebitAccountID, &e.CreditAccountID,
		&e.Amount, &e.Memo, &e.IdemScope, &e.IdemKey, &e.RequestHash, &e.DebitBalanceAfter,
		&e.CreditBalanceAfter, &e.SupplyAfter, &e.CreatedAt)
	return e, notFound(err)
}

// EntryByIdempotencyKey loads the entry written under (scope, key).
func (t *tx) EntryByIdempotencyKey(ctx context.Context, scope, key string) (ledgerrec.Entry, error) {
	e, err := scanEntry(t.st.QueryRow(ctx, qEntryByIdemKey, scope, key))
	if err != nil {
		return e, fmt.Errorf("load journal entry %s/%s: %w", scope, key, err)
	}
	return e, nil
}

// Entries lists journal entries matching f in ascending seq order.
func (t *tx) Entries(ctx context.Context, f ledgerrec.EntryFilter) ([]ledgerrec.Entry, error) {
	q := `SELECT ` + entryCols + ` FROM journal j JOIN assets a ON a.id = j.asset_id WHERE j.seq > $1`
	args := []any{f.AfterSeq}
	if f.AssetID != 0 {
		args = append(args, f.AssetID)
		q += fmt.Sprintf(` AND j.asset_id = $%d`, len(args))
	}
	if f.AccountID != "" {
		args = append(args, f.AccountID)
		q += fmt.Sprintf(` AND (j.debit_account_id = $%d OR j.credit_account_id = $%d)`, len(args), len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY j.seq LIMIT $%d`, len(args))
	rows, err := t.st.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list journal: %w", err)
	}
	defer rows.Close()
	var out []ledgerrec.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("list journal: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Totals computes an asset's totals within the transaction's snapshot. The
// sums are computed in the database as NUMERIC/REAL-free integer sums; an
// overflow is reported as an error rather than wrapped.
func (t *tx) Totals(ctx context.Context, assetID int64) (ledgerrec.SupplyTotals, error) {
	var s ledgerrec.SupplyTotals
	if err := t.st.QueryRow(ctx, `SELECT supply, holders FROM assets WHERE id = $1`, assetID).Scan(&s.Supply, &s.HoldersKept); err != nil {
		return s, fmt.Errorf("totals of asset %d: %w", assetID, notFound(err))
	}
	// The sums are read row by row and added with overflow checks in Go:
	// SQLite's SUM raises on overflow but PostgreSQL widens to NUMERIC.
	rows, err := t.st.Query(ctx, `SELECT balance FROM balances WHERE asset_id = $1`, assetID)
	if err != nil {
		return s, fmt.Errorf("sum balances of asset %d: %w", assetID, err)
	}
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return s, fmt.Errorf("sum balances: %w", err)
		}
		if b > 0 {
			s.Holders++
		}
		if s.BalancesTotal > math.MaxInt64-b {
			rows.Close()
			return s, fmt.Errorf("sum balances of asset %d: overflows int64", assetID)
		}
		s.BalancesTotal += b
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("sum balances: %w", err)
	}
	rows, err = t.st.Query(ctx, `SELECT kind, amount FROM journal WHERE asset_id = $1 AND kind IN ($2, $3)`, assetID, ledgerrec.EntryMint, ledgerrec.EntryBurn)
	if err != nil {
		return s, fmt.Errorf("sum journal of asset %d: %w", assetID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind int32
		var amt int64
		if err := rows.Scan(&kind, &amt); err != nil {
			return s, fmt.Errorf("sum journal: %w", err)
		}
		if kind == ledgerrec.EntryBurn {
			amt = -amt
		}
		if (amt > 0 && s.JournalTotal > math.MaxInt64-amt) || (amt < 0 && s.JournalTotal < math.MinInt64-amt) {
			return s, fmt.Errorf("sum journal of asset %d: overflows int64", assetID)
		}
		s.JournalTotal += amt
	}
	return s, rows.Err()
}

// Supply reads an asset's current supply. In a SQLite write transaction
// the figure is remembered until AddSupply changes it or a savepoint rolls
// back: the transaction holds SQLite's only write lock, and AddSupply is the
// only statement that changes a supply, so nothing else can move it.
func (t *tx) Supply(ctx context.Context, assetID int64) (int64, error) {
	if s, ok := t.supply[assetID]; ok {
		return s, nil
	}
	var s int64
	if err := t.st.QueryRow(ctx, qSupply, assetID).Scan(&s); err != nil {
		return 0, fmt.Errorf("supply of asset %d: %w", assetID, notFound(err))
	}
	t.rememberSupply(assetID, s)
	return s, nil
}

// rememberSupply caches an asset's supply for the rest of a SQLite write
// transaction (see Supply); other transactions cache nothing.
func (t *tx) rememberSupply(assetID, supply int64) {
	if !t.st.Serialized() {
		return
	}
	if t.supply == nil {
		t.supply = make(map[int64]int64, 1)
	}
	t.supply[assetID] = supply
}

// journalLock is the PostgreSQL advisory lock key that serialises journal
// appends among the koshd sharing a database (7270001 serialises
// migrations).
const journalLock = 7270002

// journalIdleTimeout is how long a transaction holding the journal lock may
// sit idle (its process paused between statements: SIGSTOP, a long GC
// pause, a partition) before PostgreSQL ends its session, releasing the
// lock so that the other koshd's ledger writes go on; the paused batch is
// rolled back and none of its operations was acknowledged. A batch sends
// its statements back to back, so a running koshd never comes near it.
const journalIdleTimeout = "5s"

// qLockJournal takes the journal's append lock ($1, journalLock) until
// the transaction ends, having set the transaction's idle timeout ($2).
const qLockJournal = `SELECT set_config('idle_in_transaction_session_timeout', $2, true), pg_advisory_xact_lock($1)`

// LockJournal takes the journal's append lock on PostgreSQL until the
// transaction ends (see ledgerrec.Tx); SQLite needs none.
func (t *tx) LockJournal(ctx context.Context) (bool, error) {
	if t.st.Backend() != store.Postgres {
		return false, nil
	}
	if _, err := t.st.Exec(ctx, qLockJournal, journalLock, journalIdleTimeout); err != nil {
		return true, fmt.Errorf("lock the journal: %w", err)
	}
	return true, nil
}

// JournalHead returns the newest journal entry's sequence and chain hash
// (0 and nil for an empty journal; a nil hash with seq > 0 means the
// entry is not sealed yet).
func (t *tx) JournalHead(ctx context.Context) (seq int64, hash []byte, err error) {
	err = t.st.QueryRow(ctx, `SELECT seq, chain_hash FROM journal ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read the journal head: %w", err)
	}
	return seq, hash, nil
}

// FirstUnsealed returns the sequence of the oldest entry without a chain
// hash, or 0 if every entry has one.
func (t *tx) FirstUnsealed(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := t.st.QueryRow(ctx, `SELECT MIN(seq) FROM journal WHERE chain_hash IS NULL`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("find unsealed journal entries: %w", err)
	}
	return seq.Int64, nil
}

// SetChainHash seals one entry written before chain hashes.
func (t *tx) SetChainHash(ctx context.Context, seq int64, hash []byte) error {
	res, err := t.st.Exec(ctx, `UPDATE journal SET chain_hash = $1 WHERE seq = $2 AND chain_hash IS NULL`, hash, seq)
	if err != nil {
		return fmt.Errorf("seal journal entry %d: %w", seq, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("seal journal entry %d: %d rows changed (%v)", seq, n, err)
	}
	return nil
}

// ScanJournal calls fn for every journal entry with afterSeq < seq <= upTo,
// in sequence order, chain hashes included, within the transaction's
// snapshot.
func (t *tx) ScanJournal(ctx context.Context, afterSeq, upTo int64, fn func(ledgerrec.Entry) error) error {
	rows, err := t.st.Query(ctx, `SELECT `+entryCols+`, j.chain_hash FROM journal j JOIN assets a ON a.id = j.asset_id
		WHERE j.seq > $1 AND j.seq <= $2 ORDER BY j.seq`, afterSeq, upTo)
	if err != nil {
		return fmt.Errorf("scan the journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e ledgerrec.Entry
		if err := rows.Scan(&e.Seq, &e.Kind, &e.AssetID, &e.AssetCode, &e.DebitAccountID, &e.CreditAccountID,
			&e.Amount, &e.Memo, &e.IdemScope, &e.IdemKey, &e.RequestHash, &e.DebitBalanceAfter,
			&e.CreditBalanceAfter, &e.SupplyAfter, &e.CreatedAt, &e.ChainHash); err != nil {
			return fmt.Errorf("scan the journal: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LastAccountSeq returns the seq of the last entry of the asset that
// debited or credited the account at or before atOrBefore (0 if none); the
// account indexes (journal_debit_idx, journal_credit_idx) serve it.
func (t *tx) LastAccountSeq(ctx context.Context, assetID int64, accountID string, atOrBefore int64) (int64, error) {
	var seq int64
	err := t.st.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM journal
		WHERE (debit_account_id = $1 OR credit_account_id = $1) AND asset_id = $2 AND seq <= $3`,
		accountID, assetID, atOrBefore).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("last journal entry of %s: %w", accountID, err)
	}
	return seq, nil
}

// LastJournalSeq returns the highest journal sequence (0 when empty) in the
// transaction's snapshot: the cut-off of an attestation made in it.
func (t *tx) LastJournalSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := t.st.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM journal`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last journal sequence: %w", err)
	}
	return seq, nil
}
