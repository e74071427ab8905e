package ledgerdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store/ledgerdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestCreditUnknownAccountInSavepoint: a credit to an account that does not
// exist is refused by the balances foreign key as ErrNotFound, and on both
// engines (PostgreSQL aborts the transaction on the violation) rolling back
// the savepoint leaves the transaction usable and its earlier work intact.
func TestCreditUnknownAccountInSavepoint(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			db, err := ledgerdb.Open(ctx, storetest.Open(t, backend))
			if err != nil {
				t.Fatal(err)
			}
			var assetID int64
			err = db.Write(ctx, func(tx ledgerrec.Tx) error {
				a, err := tx.InsertAsset(ctx, ledgerrec.Asset{Code: "KSH", Name: "k", Peg: 1, MinCoverageBps: 10000, CreatedAt: 1})
				if err != nil {
					return err
				}
				assetID = a.ID
				_, err = tx.InsertAccount(ctx, ledgerrec.Account{ID: "acct-1", Label: "a", CreatedAt: 1})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Write(ctx, func(tx ledgerrec.Tx) error {
				if bal, err := tx.Credit(ctx, "acct-1", assetID, 5); err != nil || bal != 5 {
					t.Fatalf("credit acct-1: %d, %v", bal, err)
				}
				err := tx.Savepoint(ctx, func() error {
					if _, err := tx.Debit(ctx, "acct-1", assetID, 2); err != nil {
						return err
					}
					_, err := tx.Credit(ctx, "no-such-account", assetID, 2)
					return err
				})
				if !errors.Is(err, ledgerrec.ErrNotFound) {
					t.Fatalf("credit to an unknown account: %v, want ErrNotFound", err)
				}
				err = tx.Savepoint(ctx, func() error {
					_, err := tx.InsertEntry(ctx, ledgerrec.Entry{Kind: ledgerrec.EntryTransfer, AssetID: assetID,
						DebitAccountID: "acct-1", CreditAccountID: "no-such-account", Amount: 1,
						IdemScope: "s", IdemKey: "k", RequestHash: []byte{1}, CreatedAt: 1})
					return err
				})
				if !errors.Is(err, ledgerrec.ErrNotFound) {
					t.Fatalf("entry naming an unknown account: %v, want ErrNotFound", err)
				}
				bal, err := tx.Balance(ctx, "acct-1", assetID)
				if err != nil || bal != 5 {
					t.Fatalf("balance after the rolled-back savepoints: %d, %v; want 5", bal, err)
				}
				e, err := tx.InsertEntry(ctx, ledgerrec.Entry{Kind: ledgerrec.EntryMint, AssetID: assetID,
					CreditAccountID: "acct-1", Amount: 5, IdemScope: "s", IdemKey: "k", RequestHash: []byte{1},
					CreditBalanceAfter: 5, CreatedAt: 1})
				if err != nil || e.Seq <= 0 {
					t.Fatalf("insert entry: %+v, %v", e, err)
				}
				_, err = tx.InsertEntry(ctx, ledgerrec.Entry{Kind: ledgerrec.EntryMint, AssetID: assetID,
					CreditAccountID: "acct-1", Amount: 5, IdemScope: "s", IdemKey: "k", RequestHash: []byte{1}, CreatedAt: 1})
				if !errors.Is(err, ledgerrec.ErrConflict) {
					t.Fatalf("same key again: %v, want ErrConflict", err)
				}
				return ledgerrec.ErrNoChange // roll the whole transaction back
			})
			if !errors.Is(err, ledgerrec.ErrNoChange) {
				t.Fatal(err)
			}
		})
	}
}
