package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestFiatAssets: a fiat-pegged asset needs an ISO 4217 currency, gets the
// 1.50x default coverage, keeps its warning level, and a sat asset refuses a
// currency.
func TestFiatAssets(t *testing.T) {
	ctx := context.Background()
	l := New(storetest.Ledger(t, storetest.Open(t, store.SQLite)), allowAll{}, Config{})
	l.Start()
	defer l.Stop()
	a, err := l.CreateAsset(ctx, Asset{Code: "INRT", Name: "Digital rupee", Decimals: 2, Peg: PegFiat, Currency: "INR",
		WarnCoverageBps: 17500})
	if err != nil {
		t.Fatal(err)
	}
	if a.MinCoverageBps != DefaultFiatBps || a.Currency != "INR" || a.WarnCoverageBps != 17500 {
		t.Fatalf("created %+v", a)
	}
	got, err := l.Asset(ctx, "INRT")
	if err != nil || got.Currency != "INR" || got.Peg != PegFiat || got.WarnCoverageBps != 17500 {
		t.Fatalf("loaded %+v %v", got, err)
	}
	for _, tc := range []struct {
		a    Asset
		want string
	}{
		{Asset{Code: "INRX", Name: "x", Peg: PegFiat}, "ISO 4217"},
		{Asset{Code: "INRX", Name: "x", Peg: PegFiat, Currency: "inr"}, "ISO 4217"},
		{Asset{Code: "INRX", Name: "x", Peg: PegFiat, Currency: "INR", Decimals: 9}, "decimals"},
		{Asset{Code: "KSHX", Name: "x", Peg: PegSat, Currency: "INR"}, "no currency"},
		{Asset{Code: "INRX", Name: "x", Peg: PegFiat, Currency: "INR", MinCoverageBps: 15000, WarnCoverageBps: 12000}, "warn_coverage_bps"},
		{Asset{Code: "INRX", Name: "x", Peg: 7}, "PEG_FIAT"},
	} {
		_, err := l.CreateAsset(ctx, tc.a)
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want InvalidArgument mentioning %q", tc.a, err, tc.want)
		}
	}
	// Redefining with another currency is refused.
	if _, err := l.CreateAsset(ctx, Asset{Code: "INRT", Name: "Digital rupee", Decimals: 2, Peg: PegFiat, Currency: "USD",
		WarnCoverageBps: 17500}); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("redefine with USD: %v", err)
	}
}
