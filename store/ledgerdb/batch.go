package ledgerdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	// qReadRun is ReadRun's one query: the used keys (what 1), the
	// balances (what 2: account exists, balance or NULL), the supplies
	// (what 3) and, if $6, the journal's head (what 4). Every lookup is a
	// scalar subquery on a unique index, which the planner cannot turn
	// into a join: a join of the unnested keys with journal or balances
	// could be planned (and, prepared, kept) as a hash join over a
	// sequential scan of the table, whose cost grows with the table (the
	// journal's without bound).
	qReadRun = `SELECT 1, k.scope, k.key, 0::bigint, false, NULL::bigint, NULL::bytea
		FROM unnest($1::text[], $2::text[]) AS k(scope, key)
		WHERE (SELECT true FROM journal j WHERE j.idem_scope = k.scope AND j.idem_key = k.key)
	UNION ALL
	SELECT 2, r.account_id, '', r.asset_id,
		(SELECT true FROM accounts a WHERE a.id = r.account_id) IS NOT NULL,
		(SELECT b.balance FROM balances b WHERE b.account_id = r.account_id AND b.asset_id = r.asset_id),
		NULL::bytea
		FROM unnest($3::text[], $4::bigint[]) AS r(account_id, asset_id)
	UNION ALL
	SELECT 3, '', '', id, true, supply, NULL::bytea FROM assets WHERE id = ANY($5::bigint[])
	UNION ALL
	SELECT 4, '', '', h.seq, true, NULL::bigint, h.chain_hash
		FROM (SELECT seq, chain_hash FROM journal ORDER BY seq DESC LIMIT 1) h WHERE $6::boolean`
	// qWriteBatch writes a run's balances, its holders counts and its
	// journal entries, in one statement. A balance is compare-and-set: an
	// UPDATE adds new - old and counts only a row that ends at new (that
	// is, held old when written), an INSERT fails on a row that appeared.
	// The UPDATE's condition is on the keys alone, not "balance = old",
	// because in READ COMMITTED a row is filtered on the version in the
	// statement's snapshot before its lock is waited for: a row another
	// transaction (the pipelined batch before this one) changed and then
	// committed would be skipped, not rechecked. This way the UPDATE waits
	// for the lock and applies the difference to the committed version.
	// The rows to update are also named by "= ANY" of the unnested arrays,
	// so that PostgreSQL finds them through the primary key's index: left
	// to the join alone, it plans (and a connection keeps, until the next
	// ANALYZE) a hash join over a sequential scan of every balance, for a
	// table it takes for small, as a new one always is.
	// The entries are inserted in array order, so that their seqs (taken
	// from the sequence as rows are inserted) ascend in chain order;
	// WriteBatch checks that they do. Each row of the result is one entry,
	// with the counts of rows the other parts changed.
	qWriteBatch = `WITH w AS (
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::bigint[], $5::bigint[])
			AS w(account_id, asset_id, had_row, old, new)
	), upd AS (
		UPDATE balances b SET balance = b.balance + (w.new - w.old) FROM w
		WHERE w.had_row AND b.account_id = w.account_id AND b.asset_id = w.asset_id
			AND b.account_id = ANY($1::text[]) AND b.asset_id = ANY($2::bigint[])
		RETURNING b.balance = w.new AS ok
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
		(SELECT count(*) FROM upd WHERE ok), (SELECT count(*) FROM ins), (SELECT count(*) FROM hold)
	FROM j`
)

// ReadRun reads a run's used keys, balances and supplies in one query
// (qReadRun). With lock, the journal's append lock (qLockJournal) goes
// first, in the same round trip (a pgx batch): the query starts, and
// takes its snapshot, once the lock is held.
func (t pgTx) ReadRun(ctx context.Context, keys []ledgerrec.IdemKey, balances []ledgerrec.BalanceKey, assets []int64, lock bool) (ledgerrec.RunState, error) {
	scopes, ks := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		scopes[i], ks[i] = k.Scope, k.Key
	}
	accts, bassets := make([]string, len(balances)), make([]int64, len(balances))
	for i, k := range balances {
		accts[i], bassets[i] = k.AccountID, k.AssetID
	}
	rs := ledgerrec.RunState{
		Used:     make(map[ledgerrec.IdemKey]bool),
		Balances: make(map[ledgerrec.BalanceKey]ledgerrec.BalanceState, len(balances)),
		Supply:   make(map[int64]int64, len(assets)),
	}
	args := []any{scopes, ks, accts, bassets, assets, lock}
	var err error
	if lock {
		err = t.st.Pgx(ctx, func(c *pgx.Conn) error {
			b := &pgx.Batch{}
			b.Queue(qLockJournal, journalLock, journalIdleTimeout)
			b.Queue(qReadRun, args...)
			br := c.SendBatch(ctx, b)
			defer br.Close()
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock the journal: %w", err)
			}
			rows, err := br.Query()
			if err != nil {
				return err
			}
			defer rows.Close()
			if err := scanRun(rows, &rs); err != nil {
				return err
			}
			return br.Close()
		})
	} else {
		var rows *sql.Rows
		if rows, err = t.st.Query(ctx, qReadRun, args...); err == nil {
			defer rows.Close()
			err = scanRun(rows, &rs)
		}
	}
	if err != nil {
		return rs, fmt.Errorf("read a run of transfers: %w", err)
	}
	for _, id := range assets {
		if _, ok := rs.Supply[id]; !ok {
			return rs, fmt.Errorf("read a run of transfers: asset %d: %w", id, ledgerrec.ErrNotFound)
		}
	}
	return rs, nil
}

// scanRun fills rs from qReadRun's rows (database/sql's or pgx's).
func scanRun(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}, rs *ledgerrec.RunState) error {
	for rows.Next() {
		var (
			what   int
			s1, s2 string
			id     int64
			ok     bool
			n      sql.NullInt64
			h      []byte
		)
		if err := rows.Scan(&what, &s1, &s2, &id, &ok, &n, &h); err != nil {
			return err
		}
		switch what {
		case 1:
			rs.Used[ledgerrec.IdemKey{Scope: s1, Key: s2}] = true
		case 2:
			rs.Balances[ledgerrec.BalanceKey{AccountID: s1, AssetID: id}] = ledgerrec.BalanceState{
				AccountExists: ok, HasRow: n.Valid, Balance: n.Int64}
		case 3:
			rs.Supply[id] = n.Int64
		case 4:
			rs.HeadSeq, rs.Head = id, h
		}
	}
	return rows.Err()
}

// errBatchRace is a compare-and-set in WriteBatch that did not hold: a
// balance changed since ReadRun read it.
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
	// The journal has no foreign keys on PostgreSQL (migration 0020): an
	// entry may name only accounts whose balance in its asset this same
	// statement writes (an update of an existing row or an insert, both
	// held to the balances' foreign keys).
	written := make(map[ledgerrec.BalanceKey]bool, len(writes))
	for _, w := range writes {
		written[w.BalanceKey] = true
	}
	index := make(map[ledgerrec.IdemKey]int, n)
	for i, e := range entries {
		for _, id := range []string{e.DebitAccountID, e.CreditAccountID} {
			if id != "" && !written[ledgerrec.BalanceKey{AccountID: id, AssetID: e.AssetID}] {
				return nil, fmt.Errorf("write batch: entry %s/%s names account %s without writing its balance of asset %d",
					e.IdemScope, e.IdemKey, id, e.AssetID)
			}
		}
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
