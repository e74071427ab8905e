package ledgerdb_test

import (
	"context"
	"testing"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/ledgerdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestMigrationCountsHolders: a database from before migration 0011 (no
// holders column) gets each asset's holders counted from its positive
// balances when koshd upgrades it; zero balances and other assets' rows do
// not count.
func TestMigrationCountsHolders(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Config(t, backend)
			// The schema before 0011_asset_holders, filled as that version
			// would have.
			raw := storetest.RollBack(t, cfg, 10)
			for _, q := range []string{
				`INSERT INTO assets (id, code, name, decimals, peg, min_coverage_bps, supply, created_at) VALUES
					(1, 'AAA', 'a', 0, 1, 10000, 12, 1), (2, 'BBB', 'b', 0, 1, 10000, 5, 1), (3, 'CCC', 'c', 0, 1, 10000, 0, 1)`,
				`INSERT INTO accounts (id, label, created_at) VALUES ('x', 'x', 1), ('y', 'y', 1), ('z', 'z', 1)`,
				`INSERT INTO balances (account_id, asset_id, balance) VALUES
					('x', 1, 7), ('y', 1, 5), ('z', 1, 0), ('x', 2, 5), ('y', 2, 0)`,
			} {
				if _, err := raw.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}

			db, err := store.Open(ctx, cfg, nil)
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			defer db.Close()
			ls, err := ledgerdb.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			err = ls.Read(ctx, func(tx ledgerrec.Tx) error {
				assets, err := tx.Assets(ctx)
				if err != nil {
					return err
				}
				want := map[string]int64{"AAA": 2, "BBB": 1, "CCC": 0}
				for _, a := range assets {
					if a.Holders != want[a.Code] {
						t.Errorf("%s: %d holders after the upgrade, want %d", a.Code, a.Holders, want[a.Code])
					}
				}
				if len(assets) != len(want) {
					t.Errorf("%d assets, want %d", len(assets), len(want))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
