package ledgerdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// pgTx is the ledger's transaction on PostgreSQL: a tx that is also a
// ledgerrec.BatchTx. Every statement is a round trip to the server there,
// so the committer reads what a run of transfers needs in two queries and
// writes the whole run in one (arrays unnested server-side), instead of
// five statements and two savepoint commands per transfer. SQLite, in
// process, keeps the statement-per-step path and its prepared statements.
type pgTx struct{ *tx }

var _ ledgerrec.BatchTx = pgTx{}

const (
	qUsedKeys = `SELECT j.idem_scope, j.idem_key
		FROM unnest($1::text[], $2::text[]) AS k(scope, key)
		JOIN journal j ON j.idem_scope = k.scope AND j.idem_key = k.key`
	qBalanceStates = `SELECT r.account_id, r.asset_id, a.id IS NOT NULL, b.balance
		FROM unnest($1::text[], $2::bigint[]) AS r(account_id, asset_id)
		LEFT JOIN accounts a ON a.id = r.account_id
		LEFT JOIN balances b ON b.account_id = r.account_id AND b.asset_id = r.asset_id`
	// qWriteBatch writes a run's balances (compare-and-set: an UPDATE
	// matches only a row still holding the balance read, an INSERT fails
	// on a row that appeared), its holders counts and its journal entries,
	// in one statement. The entries are inserted in array order, so that
	// their seqs (taken from the sequence as rows are inserted) ascend in
	// chain order; WriteBatch checks that they do. Each row of the result
	// is one entry, with the counts of rows the other parts changed.
	qWriteBatch = `WITH w AS (
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::bigint[], $5::bigint[])
			AS w(account_id, asset_id, had_row, old, new)
	), upd AS (
		UPDATE balances b SET balance = w.new FROM w
		WHERE w.had_row AND b.account_id = w.account_id AND b.asset_id = w.asset_id AND b.balance = w.old
		RETURNING 1
	), ins AS (
		INSERT INTO balances (account_id, asset_id, balance)
		SELECT account_id, asset_id, new FROM w WHERE NOT w.had_row
		RETURNING 1
	), hold AS (
		UPDATE assets a SET holders = a.holders + h.delta
		FROM unnest($6::bigint[], $7::bigint[]) AS h(asset_id, delta)
		WHERE a.id = h.asset_id
		RETURNING 1
	), j AS (
		INSERT INTO journal (kind, asset_id, debit_account_id, credit_account_id, amount, memo,
			idem_scope, idem_key, request_hash, debit_balance_after, credit_balance_after, supply_after,
			created_at, chain_hash)
		SELECT kind, asset_id, NULLIF(debit, ''), NULLIF(credit, ''), amount, memo,
			scope, key, rhash, dba, cba, sa, ca, ch
		FROM unnest($8::integer[], $9::bigint[], $10::text[], $11::text[], $12::bigint[], $13::text[],
			$14::text[], $15::text[], $16::bytea[], $17::bigint[], $18::bigint[], $19::bigint[],
			$20::bigint[], $21::bytea[]) WITH ORDINALITY
			AS e(kind, asset_id, debit, credit, amount, memo, scope, key, rhash, dba, cba, sa, ca, ch, ord)
		ORDER BY ord
		RETURNING seq, idem_scope, idem_key
	)
	SELECT j.seq, j.idem_scope, j.idem_key,
		(SELECT count(*) FROM upd), (SELECT count(*) FROM ins), (SELECT count(*) FROM hold)
	FROM j`
)

// UsedKeys returns which of keys already have a journal entry: one query.
func (t pgTx) UsedKeys(ctx context.Context, keys []ledgerrec.IdemKey) (map[ledgerrec.IdemKey]bool, error) {
	scopes, ks := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		scopes[i], ks[i] = k.Scope, k.Key
	}
	rows, err := t.st.Query(ctx, qUsedKeys, scopes, ks)
	if err != nil {
		return nil, fmt.Errorf("look up idempotency keys: %w", err)
	}
	defer rows.Close()
	used := make(map[ledgerrec.IdemKey]bool)
	for rows.Next() {
		var k ledgerrec.IdemKey
		if err := rows.Scan(&k.Scope, &k.Key); err != nil {
			return nil, fmt.Errorf("look up idempotency keys: %w", err)
		}
		used[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up idempotency keys: %w", err)
	}
	return used, nil
}

// BalanceStates returns whether each key's account exists and its balance
// row, if any: one query, no row locked.
func (t pgTx) BalanceStates(ctx context.Context, keys []ledgerrec.BalanceKey) (map[ledgerrec.BalanceKey]ledgerrec.BalanceState, error) {
	accts, assets := make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		accts[i], assets[i] = k.AccountID, k.AssetID
	}
	rows, err := t.st.Query(ctx, qBalanceStates, accts, assets)
	if err != nil {
		return nil, fmt.Errorf("read balances: %w", err)
	}
	defer rows.Close()
	out := make(map[ledgerrec.BalanceKey]ledgerrec.BalanceState, len(keys))
	for rows.Next() {
		var (
			k   ledgerrec.BalanceKey
			s   ledgerrec.BalanceState
			bal sql.NullInt64
		)
		if err := rows.Scan(&k.AccountID, &k.AssetID, &s.AccountExists, &bal); err != nil {
			return nil, fmt.Errorf("read balances: %w", err)
		}
		s.HasRow, s.Balance = bal.Valid, bal.Int64
		out[k] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read balances: %w", err)
	}
	return out, nil
}

// errBatchRace is a compare-and-set in WriteBatch that did not hold: a
// balance changed since BalanceStates read it.
var errBatchRace = errors.New("a balance changed while the batch was being decided")

// WriteBatch writes a run's balances, holders counts and journal entries
// in one statement (qWriteBatch) and returns the entries' seqs.
func (t pgTx) WriteBatch(ctx context.Context, writes []ledgerrec.BalanceWrite, holders map[int64]int64, entries []ledgerrec.Entry) ([]int64, error) {
	if len(entries) == 0 {
		return nil, errors.New("write batch: no entries")
	}
	var (
		wAcct          = make([]string, len(writes))
		wAsset         = make([]int64, len(writes))
		wHad           = make([]bool, len(writes))
		wOld           = make([]int64, len(writes))
		wNew           = make([]int64, len(writes))
		updates        int64
		hAsset, hDelta []int64
	)
	for i, w := range writes {
		wAcct[i], wAsset[i], wHad[i], wOld[i], wNew[i] = w.AccountID, w.AssetID, w.HadRow, w.Old, w.New
		if w.HadRow {
			updates++
		}
	}
	for id, d := range holders {
		if d != 0 {
			hAsset, hDelta = append(hAsset, id), append(hDelta, d)
		}
	}
	n := len(entries)
	var (
		kind              = make([]int32, n)
		asset, amount     = make([]int64, n), make([]int64, n)
		debit, credit     = make([]string, n), make([]string, n)
		memo, scope, key  = make([]string, n), make([]string, n), make([]string, n)
		rhash, chain      = make([][]byte, n), make([][]byte, n)
		dba, cba, sa, cat = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	)
	index := make(map[ledgerrec.IdemKey]int, n)
	for i, e := range entries {
		kind[i], asset[i], debit[i], credit[i], amount[i], memo[i] = e.Kind, e.AssetID, e.DebitAccountID, e.CreditAccountID, e.Amount, e.Memo
		scope[i], key[i], rhash[i], chain[i] = e.IdemScope, e.IdemKey, e.RequestHash, e.ChainHash
		dba[i], cba[i], sa[i], cat[i] = e.DebitBalanceAfter, e.CreditBalanceAfter, e.SupplyAfter, e.CreatedAt
		index[ledgerrec.IdemKey{Scope: e.IdemScope, Key: e.IdemKey}] = i
	}
	if len(index) != n {
		return nil, errors.New("write batch: two entries share an idempotency key")
	}
	rows, err := t.st.Query(ctx, qWriteBatch, wAcct, wAsset, wHad, wOld, wNew, hAsset, hDelta,
		kind, asset, debit, credit, amount, memo, scope, key, rhash, dba, cba, sa, cat, chain)
	if err != nil {
		return nil, fmt.Errorf("write batch of %d entries: %w", n, err)
	}
	defer rows.Close()
	seqs := make([]int64, n)
	got := 0
	var upd, ins, hold int64
	for rows.Next() {
		var (
			seq int64
			k   ledgerrec.IdemKey
		)
		if err := rows.Scan(&seq, &k.Scope, &k.Key, &upd, &ins, &hold); err != nil {
			return nil, fmt.Errorf("write batch of %d entries: %w", n, err)
		}
		i, ok := index[k]
		if !ok || seqs[i] != 0 {
			return nil, fmt.Errorf("write batch: unexpected journal row %s/%s", k.Scope, k.Key)
		}
		seqs[i] = seq
		got++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("write batch of %d entries: %w", n, err)
	}
	switch {
	case got != n:
		return nil, fmt.Errorf("write batch: %d journal rows for %d entries", got, n)
	case upd != updates || ins != int64(len(writes))-updates:
		return nil, fmt.Errorf("write batch: %w (%d of %d balances updated, %d of %d inserted)",
			errBatchRace, upd, updates, ins, int64(len(writes))-updates)
	case hold != int64(len(hAsset)):
		return nil, fmt.Errorf("write batch: %d of %d assets' holders updated", hold, len(hAsset))
	}
	for i := 1; i < n; i++ {
		if seqs[i] <= seqs[i-1] {
			return nil, fmt.Errorf("write batch: journal seqs %d, %d out of chain order", seqs[i-1], seqs[i])
		}
	}
	return seqs, nil
}
