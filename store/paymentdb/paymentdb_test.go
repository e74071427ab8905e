package paymentdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/paymentdb"
	"github.com/kosh-reserve/kosh/store/storetest"

	// koshd links pgx v4's database/sql driver through lnd (kvdb), and its
	// init takes the driver name "pgx" before v5's. Linking it here makes
	// this test binary like koshd, so that the store must open PostgreSQL
	// with v5 by its own name for the ErrConflict checks below to hold.
	_ "github.com/jackc/pgx/v4/stdlib"
)

// TestPaymentQueries exercises the deposit, redemption and cursor queries on
// both engines: uniqueness guards (idempotency key, payment hash), guarded
// state moves, and the daily sums.
func TestPaymentQueries(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, backend)
			pdb := paymentdb.New(db)
			write := func(fn func(tx payrecord.Tx) error) error { return pdb.Write(ctx, fn) }
			if err := storetest.Ledger(t, db).Write(ctx, func(tx ledgerrec.Tx) error {
				_, err := tx.InsertAccount(ctx, ledgerrec.Account{ID: "acct-1", Label: "a", CreatedAt: 1})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			dep := payrecord.Deposit{ID: "d1", AccountID: "acct-1", Asset: "KSH", Method: payrecord.MethodLightning,
				State: "open", Amount: 1000, PaymentHash: "aa", Index: -1, IdemKey: "k1", CreatedAt: 10, UpdatedAt: 10}
			if err := write(func(tx payrecord.Tx) error { _, err := tx.InsertDeposit(ctx, dep); return err }); err != nil {
				t.Fatal(err)
			}
			dup := dep
			dup.ID, dup.PaymentHash = "d2", "bb"
			if err := write(func(tx payrecord.Tx) error { _, err := tx.InsertDeposit(ctx, dup); return err }); !errors.Is(err, payrecord.ErrConflict) {
				t.Fatalf("same idempotency key: %v, want ErrConflict", err)
			}
			dup.IdemKey = "" // two deposits without a key are fine
			dup2 := dup
			dup2.ID, dup2.PaymentHash = "d3", "cc"
			for _, d := range []payrecord.Deposit{dup, dup2} {
				if err := write(func(tx payrecord.Tx) error { _, err := tx.InsertDeposit(ctx, d); return err }); err != nil {
					t.Fatalf("deposit without key: %v", err)
				}
			}
			if err := write(func(tx payrecord.Tx) error { return tx.SetDepositState(ctx, "d1", "open", "settled", 1000, 11) }); err != nil {
				t.Fatal(err)
			}
			if err := write(func(tx payrecord.Tx) error { return tx.SetDepositState(ctx, "d1", "open", "settled", 1000, 12) }); !errors.Is(err, payrecord.ErrNoChange) {
				t.Fatalf("second move from open: %v, want ErrNoChange", err)
			}
			err := pdb.Read(ctx, func(tx payrecord.Tx) error {
				d, err := tx.DepositByPaymentHash(ctx, "aa")
				if err != nil || d.State != "settled" || d.Credited != 1000 || d.IdemKey != "k1" {
					t.Errorf("deposit by hash: %+v, %v", d, err)
				}
				sum, err := tx.DepositSumSince(ctx, "acct-1", "KSH", 0, "open", "settled")
				if err != nil || sum != 3000 {
					t.Errorf("deposit sum %d, %v; want 3000", sum, err)
				}
				ds, err := tx.AccountDeposits(ctx, "acct-1", 0, 2)
				if err != nil || len(ds) != 2 || ds[0].ID != "d3" {
					t.Errorf("newest deposits: %+v, %v", ds, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			red := payrecord.Redemption{ID: "r1", AccountID: "acct-1", Asset: "KSH", Method: payrecord.MethodLightning,
				State: "requested", Amount: 500, FeeLimit: 10, PaymentHash: "ff", IdemKey: "x", CreatedAt: 20, UpdatedAt: 20}
			if err := write(func(tx payrecord.Tx) error { _, err := tx.InsertRedemption(ctx, red); return err }); err != nil {
				t.Fatal(err)
			}
			again := red
			again.ID, again.IdemKey = "r2", "y"
			if err := write(func(tx payrecord.Tx) error { _, err := tx.InsertRedemption(ctx, again); return err }); !errors.Is(err, payrecord.ErrConflict) {
				t.Fatalf("second redemption of one payment hash: %v, want ErrConflict", err)
			}
			red.State, red.Preimage = "burned", "00"
			if err := write(func(tx payrecord.Tx) error { return tx.UpdateRedemption(ctx, red, "requested") }); err != nil {
				t.Fatal(err)
			}
			if err := write(func(tx payrecord.Tx) error { return tx.UpdateRedemption(ctx, red, "requested") }); !errors.Is(err, payrecord.ErrNoChange) {
				t.Fatalf("stale update: %v, want ErrNoChange", err)
			}
			if err := write(func(tx payrecord.Tx) error { return tx.SetCursor(ctx, "c", 7) }); err != nil {
				t.Fatal(err)
			}
			if err := write(func(tx payrecord.Tx) error { return tx.SetCursor(ctx, "c", 9) }); err != nil {
				t.Fatal(err)
			}
			err = pdb.Read(ctx, func(tx payrecord.Tx) error {
				rs, err := tx.RedemptionsInStates(ctx, "burned", "in_flight")
				if err != nil || len(rs) != 1 || rs[0].Preimage != "00" {
					t.Errorf("burned redemptions: %+v, %v", rs, err)
				}
				sum, err := tx.RedemptionSumSince(ctx, "acct-1", "KSH", 0, "burned")
				if err != nil || sum != 510 {
					t.Errorf("redemption sum %d, %v; want 510", sum, err)
				}
				c, err := tx.Cursor(ctx, "c")
				if err != nil || c != 9 {
					t.Errorf("cursor %d, %v; want 9", c, err)
				}
				if _, err := tx.WatchedOutput(ctx, "00", 0); !errors.Is(err, payrecord.ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
					t.Errorf("missing watched output: %v, want ErrNotFound", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
