package pricedb_test

import (
	"context"
	"math/big"
	"testing"

	"github.com/kosh-reserve/kosh/money"
	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/oracle/pricebook"
	"github.com/kosh-reserve/kosh/store/pricedb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestManualPriceQueries: the manual price record is append-only, the
// newest row per currency is the one in force, and history reads newest
// first, on both engines.
func TestManualPriceQueries(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			db := pricedb.New(storetest.Open(t, backend))
			rows := []pricebook.ManualRecord{
				{Currency: "INR", Coefficient: "600000000", Scale: 2, SetBy: "pricer macaroon 01", Reason: "down", SetAt: 10, Until: 100},
				{Currency: "USD", Coefficient: "90000", Scale: 0, SetBy: "admin macaroon 02", SetAt: 11},
				{Currency: "INR", Coefficient: "6100000", Scale: 0, SetBy: "pricer macaroon 01", Reason: "again", SetAt: 12},
				{Currency: "INR", Cleared: true, SetBy: "admin macaroon 02", Reason: "back", SetAt: 13},
			}
			var seqs []int64
			for _, r := range rows {
				got, err := db.Record(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, got.Seq)
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] <= seqs[i-1] {
					t.Fatalf("sequence not increasing: %v", seqs)
				}
			}
			if err := func() error {
				latest, err := db.LatestManualPrices(ctx)
				if err != nil {
					return err
				}
				if len(latest) != 2 || latest[0].Currency != "INR" || !latest[0].Cleared || latest[0].Reason != "back" ||
					latest[1].Currency != "USD" || latest[1].Coefficient != "90000" || latest[1].Cleared {
					t.Errorf("latest %+v", latest)
				}
				hist, err := db.History(ctx, "INR", 2)
				if err != nil {
					return err
				}
				if len(hist) != 2 || hist[0].Seq != seqs[3] || hist[1].Seq != seqs[2] || hist[1].Coefficient != "6100000" {
					t.Errorf("history %+v", hist)
				}
				hist, err = db.History(ctx, "INR", 10)
				if err != nil {
					return err
				}
				want := rows[0]
				want.Seq = seqs[0]
				if len(hist) != 3 || hist[2] != want {
					t.Errorf("oldest INR row %+v, want %+v", hist[len(hist)-1], want)
				}
				return nil
			}(); err != nil {
				t.Fatal(err)
			}
			// The scale is checked by the schema.
			if _, err := db.Record(ctx, pricebook.ManualRecord{Currency: "INR", Coefficient: "1", Scale: 19, SetBy: "x", SetAt: 1}); err == nil {
				t.Error("scale 19 was stored")
			}
		})
	}
}

// TestManualPriceSharedByBooks: two price books on one database, as two
// koshd sharing it: a manual price set through one reaches the other at
// its next Sync, and so does its clear (before Sync, the other koshd only
// saw it on restart).
func TestManualPriceSharedByBooks(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			db := pricedb.New(storetest.Open(t, backend))
			open := func() *pricebook.Book {
				b, err := pricebook.New(map[string]oracle.Config{"INR": {Currency: "INR"}}, db, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Restore(ctx); err != nil {
					t.Fatal(err)
				}
				return b
			}
			a, b := open(), open()
			price := money.Price{Coefficient: big.NewInt(812345678), Scale: 2}
			if _, err := a.SetManual(ctx, "INR", oracle.Manual{Price: price, By: "pricer", Reason: "sources down"}); err != nil {
				t.Fatal(err)
			}
			if q, _ := b.Quote("INR"); !q.Stale {
				t.Fatalf("the other book has a price before Sync: %+v", q)
			}
			if err := b.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if q, err := b.Quote("INR"); err != nil || q.Stale || q.Price.Coefficient.Cmp(price.Coefficient) != 0 || !q.Manual {
				t.Fatalf("after Sync: %+v, %v; want the manual 8123456.78", q, err)
			}
			if _, err := a.ClearManual(ctx, "INR", "admin", "sources back"); err != nil {
				t.Fatal(err)
			}
			if err := b.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if q, _ := b.Quote("INR"); !q.Stale {
				t.Fatalf("after the clear and Sync the other book still has a price: %+v", q)
			}
		})
	}
}
