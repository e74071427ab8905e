package oracle

import (
	"context"
	"github.com/kosh-reserve/kosh/money"
	"testing"
	"time"
)

// TestApplyManualRecord: a manual price restored from a record keeps its
// original set time and reason; CheckManual refuses what ApplyManual would.
func TestApplyManualRecord(t *testing.T) {
	clk := &fixedClock{t: epoch}
	o := newTestOracle(t, clk, 1, 100)
	setAt := epoch.Add(-time.Hour)
	m := Manual{Price: money.MustPrice("6000000.00"), By: "pricer macaroon 01", Reason: "exchanges down", SetAt: setAt,
		Until: epoch.Add(time.Hour)}
	if err := o.ApplyManual(m); err != nil {
		t.Fatal(err)
	}
	q := o.Current()
	if !q.Manual || !q.ManualSetAt.Equal(setAt) || q.ManualReason != "exchanges down" || q.ManualBy != m.By {
		t.Fatalf("restored quote %+v", q)
	}
	if !q.PriceTime().Equal(setAt) {
		t.Errorf("PriceTime %s, want the set time %s", q.PriceTime(), setAt)
	}
	for _, bad := range []Manual{
		{Price: money.MustPrice("1"), By: " "},
		{Price: money.Price{}, By: "x"},
		{Price: money.MustPrice("1"), By: "x", Until: epoch},
	} {
		if err := o.CheckManual(bad); err == nil {
			t.Errorf("CheckManual(%+v) accepted", bad)
		}
	}
}

// TestQuotePriceTime: the time of an aggregated price is its oldest
// contributing quote; a stale quote has none.
func TestQuotePriceTime(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b := newPriceServer(t, "1000"), newPriceServer(t, "1001")
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b))
	if q := o.Current(); !q.PriceTime().IsZero() {
		t.Fatalf("stale quote has a price time %s", q.PriceTime())
	}
	o.Poll(context.Background())
	clk.advance(time.Minute)
	b.Close()
	o.Poll(context.Background()) // b keeps its older price
	q := o.Current()
	if q.Stale || !q.PriceTime().Equal(epoch) {
		t.Fatalf("price time %s, want %s (quote %+v)", q.PriceTime(), epoch, q)
	}
}
