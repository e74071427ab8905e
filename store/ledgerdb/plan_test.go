package ledgerdb_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/ledgerdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestBatchPlansUseIndexes: the plans PostgreSQL keeps for ReadRun's and
// WriteBatch's prepared queries (their generic plans, which pgx's
// statement cache reuses for the life of a connection, until an ANALYZE
// changes the statistics) find the journal, balances and accounts rows
// they read or update by their unique indexes, never by a sequential scan.
// A join of the unnested keys with the journal was planned, on a journal
// of a few thousand rows, as a hash join over a sequential scan of the
// whole journal, and then kept however large the journal grew: every
// batch read every entry. WriteBatch's balance update was planned the same
// way over the balances.
func TestBatchPlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.Config(t, store.Postgres)
	db, err := store.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := storetest.OpenRaw(t, cfg)
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`INSERT INTO assets (code, name, decimals, peg, min_coverage_bps, supply, created_at) VALUES ('KSH', 'k', 0, 1, 10000, 2000000, 1)`,
		`INSERT INTO accounts (id, label, created_at) SELECT 'acct-' || i, '', 1 FROM generate_series(1, 1000) i`,
		`INSERT INTO balances (account_id, asset_id, balance) SELECT id, 1, 2000 FROM accounts`,
		`INSERT INTO journal (kind, asset_id, credit_account_id, amount, memo, idem_scope, idem_key, request_hash,
			debit_balance_after, credit_balance_after, supply_after, created_at)
			SELECT 1, 1, 'acct-' || (1 + i % 1000), 2, '', 'issuer', 'key-' || i, '\x01', 0, 2000, 2000000, 1
			FROM generate_series(1, 3000) i`,
		`SET plan_cache_mode = force_generic_plan`,
		`PREPARE read_run (text[], text[], text[], bigint[], bigint[], boolean) AS ` + ledgerdb.QReadRun,
		`PREPARE write_batch (text[], bigint[], boolean[], bigint[], bigint[], bigint[], bigint[], integer[], bigint[],
			text[], text[], bigint[], text[], text[], text[], bytea[], bigint[], bigint[], bigint[], bigint[], bytea[]) AS ` +
			ledgerdb.QWriteBatch,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range []struct{ name, explain string }{
		{"ReadRun", `EXPLAIN EXECUTE read_run ('{issuer}', '{key-7}', '{acct-1,acct-2}', '{1,1}', '{1}', true)`},
		{"WriteBatch", `EXPLAIN EXECUTE write_batch ('{acct-1,acct-2}', '{1,1}', '{t,t}', '{2000,2000}', '{1999,2001}',
			'{}', '{}', '{3}', '{1}', '{acct-1}', '{acct-2}', '{1}', '{""}', '{issuer}', '{key-new}', '{"\\x01"}',
			'{1999}', '{2001}', '{2000000}', '{1}', '{"\\x02"}')`},
	} {
		plan := explain(ctx, t, conn, c.explain)
		for _, table := range []string{"journal", "balances", "accounts"} {
			if strings.Contains(plan, "Seq Scan on "+table) {
				t.Errorf("%s's generic plan scans %s sequentially:\n%s", c.name, table, plan)
			}
		}
	}
}

// explain returns the plan EXPLAIN prints for q.
func explain(ctx context.Context, t *testing.T, conn *sql.Conn, q string) string {
	t.Helper()
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
