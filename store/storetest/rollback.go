package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/kosh-reserve/kosh/store"
)

// undo holds, for each migration a test may take a database back across,
// the statements that undo it. A migration added without its entry here
// makes RollBack fail, naming it.
var undo = map[int][]string{
	11: {`ALTER TABLE assets DROP COLUMN holders`},
	12: {`DROP TABLE attestation_prices`},
	13: {`DROP TABLE anchors`},
	14: {`ALTER TABLE anchors DROP COLUMN replaced`},
	15: {`ALTER TABLE accounts DROP COLUMN issuer_held`},
	16: {`DROP TABLE leader_lease`},
	17: {`ALTER TABLE attestation_balances DROP COLUMN last_seq`},
	18: {`DROP TABLE reserve_live`},
	19: {`ALTER TABLE reserve_live DROP COLUMN details_version`, `ALTER TABLE reserve_live DROP COLUMN details`},
	20: {`ALTER TABLE journal ADD CONSTRAINT journal_asset_id_fkey FOREIGN KEY (asset_id) REFERENCES assets (id)`,
		`ALTER TABLE journal ADD CONSTRAINT journal_debit_account_id_fkey FOREIGN KEY (debit_account_id) REFERENCES accounts (id)`,
		`ALTER TABLE journal ADD CONSTRAINT journal_credit_account_id_fkey FOREIGN KEY (credit_account_id) REFERENCES accounts (id)`},
}

// sqliteKeeps lists the migrations that change nothing on SQLite (their
// statements are commented out there, store/dialect.go): nothing to undo.
var sqliteKeeps = map[int]bool{20: true}

// RollBack opens the database of cfg, migrated to the newest version, and
// takes its schema back to version (undoing every later migration, newest
// first), so that a test can fill it as that version would have and check
// what the upgrade does. It returns the raw connection (OpenRaw).
func RollBack(t testing.TB, cfg store.Config, version int) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw := OpenRaw(t, cfg)
	for v := store.LatestVersion(); v > version; v-- {
		qs, ok := undo[v]
		if cfg.Backend == store.SQLite && sqliteKeeps[v] {
			qs = nil
		}
		if !ok {
			t.Fatalf("storetest: no undo statements for migration %d: add them to storetest.undo", v)
		}
		for _, q := range qs {
			if _, err := raw.ExecContext(ctx, q); err != nil {
				t.Fatalf("undo migration %d: %s: %v", v, q, err)
			}
		}
	}
	if _, err := raw.ExecContext(ctx, fmt.Sprintf(`UPDATE schema_version SET version = %d`, version)); err != nil {
		t.Fatal(err)
	}
	return raw
}
