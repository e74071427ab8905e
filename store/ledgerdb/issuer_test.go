package ledgerdb_test

import (
	"context"
	"testing"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/ledgerdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestIssuerAccounts: an account inserted as issuer-held reads back as
// one, by id and by key, and IssuerAccounts lists exactly those, in id
// order; a holder's account is not listed.
func TestIssuerAccounts(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			db, err := ledgerdb.Open(ctx, storetest.Open(t, backend))
			if err != nil {
				t.Fatal(err)
			}
			err = db.Write(ctx, func(tx ledgerrec.Tx) error {
				for _, a := range []ledgerrec.Account{
					{ID: "b-fees", Label: "fees", IdempotencyKey: "kosh-fees", IssuerHeld: true, CreatedAt: 1},
					{ID: "c-holder", Label: "holder", IdempotencyKey: "h", CreatedAt: 1},
					{ID: "a-escrow", Label: "escrow", IdempotencyKey: "kosh-escrow", IssuerHeld: true, CreatedAt: 1},
				} {
					if _, err := tx.InsertAccount(ctx, a); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Read(ctx, func(tx ledgerrec.Tx) error {
				held, err := tx.IssuerAccounts(ctx)
				if err != nil {
					return err
				}
				if len(held) != 2 || held[0].ID != "a-escrow" || held[1].ID != "b-fees" || !held[0].IssuerHeld || held[1].Label != "fees" {
					t.Errorf("issuer accounts %+v, want a-escrow and b-fees", held)
				}
				if a, err := tx.Account(ctx, "c-holder"); err != nil || a.IssuerHeld {
					t.Errorf("holder's account %+v, %v", a, err)
				}
				if a, err := tx.AccountByIdempotencyKey(ctx, "kosh-fees"); err != nil || !a.IssuerHeld || a.ID != "b-fees" {
					t.Errorf("by key: %+v, %v", a, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMigrationMarksEscrow: a database from before migration 0015 (no
// issuer_held column) gets its payments escrow, the one issuer-held
// account koshd opened until then, marked issuer-held when koshd upgrades
// it, recognised by its key and label; a holder's account that only shares
// the label or the reserved key prefix is not.
func TestMigrationMarksEscrow(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Config(t, backend)
			// The schema before 0015_issuer_accounts, filled as that
			// version would have.
			raw := storetest.RollBack(t, cfg, 14)
			for _, q := range []string{
				`INSERT INTO accounts (id, label, idempotency_key, created_at) VALUES
					('escrow', 'kosh payments escrow (redemptions in progress)', 'kosh-payments-escrow', 1),
					('same-label', 'kosh payments escrow (redemptions in progress)', 'k1', 1),
					('reserved-prefix', 'x', 'kosh-other', 1),
					('plain', 'y', NULL, 1)`,
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
				held, err := tx.IssuerAccounts(ctx)
				if err != nil {
					return err
				}
				if len(held) != 1 || held[0].ID != "escrow" {
					t.Errorf("issuer accounts after the upgrade: %+v, want the escrow alone", held)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
