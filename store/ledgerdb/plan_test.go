package ledgerdb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/ledgerdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestReadRunPlanUsesIndexes: the plan PostgreSQL keeps for ReadRun's
// prepared query (its generic plan, which pgx's statement cache reuses for
// the life of a connection) looks up the journal, the balances and the
// accounts by their unique indexes, never by a sequential scan. A join of
// the unnested keys with the journal was planned, on a journal of a few
// thousand rows, as a hash join over a sequential scan of the whole
// journal, and then kept however large the journal grew: every batch read
// every entry.
func TestReadRunPlanUsesIndexes(t *testing.T) {
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
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err := conn.QueryContext(ctx, `EXPLAIN EXECUTE read_run ('{issuer}', '{key-7}', '{acct-1,acct-2}', '{1,1}', '{1}', true)`)
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
	for _, table := range []string{"journal", "balances", "accounts"} {
		if strings.Contains(plan.String(), "Seq Scan on "+table) {
			t.Errorf("ReadRun's generic plan scans %s sequentially:\n%s", table, plan.String())
		}
	}
}
