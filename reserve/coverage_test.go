package reserve

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
)

type fixedPrices map[string]Price

func (f fixedPrices) Price(c string) (Price, error) {
	p, ok := f[c]
	if !ok {
		return Price{}, errors.New("price of " + c + " is stale: only 1 of 3 sources is fresh (min 2)")
	}
	return p, nil
}

// inr prices BTC at 6,000,000.00 INR (coefficient 600000000, scale 2).
var inr = fixedPrices{"INR": {Currency: "INR", Coefficient: big.NewInt(600_000_000), Scale: 2}}

func inrAsset(supply, bps int64) ledger.AssetSupply {
	return ledger.AssetSupply{Code: "INRT", Peg: ledger.PegFiat, Currency: "INR", Decimals: 2, Supply: supply, MinCoverageBps: bps}
}

func TestRequiredSats(t *testing.T) {
	// 60,000.00 INR = 6,000,000 paise = 0.01 BTC = 1,000,000 sats at 1.00x.
	r, err := RequiredSats(inrAsset(6_000_000, 10000), 10000, &Price{Coefficient: big.NewInt(600_000_000), Scale: 2})
	if err != nil || r.Cmp(big.NewRat(1_000_000, 1)) != 0 {
		t.Fatalf("required %v %v, want 1000000", r, err)
	}
	// 1 paisa at 1.50x: 1.5 × 10^8 / (100 × 6,000,000) = 0.25 sats exactly.
	r, _ = RequiredSats(inrAsset(1, 15000), 15000, &Price{Coefficient: big.NewInt(600_000_000), Scale: 2})
	if r.Cmp(big.NewRat(1, 4)) != 0 {
		t.Fatalf("1 paisa at 1.50x needs %v sats, want 1/4", r)
	}
	// Reserves valued down: 1,000,001 sats at 6,000,000 INR = 6,000,006 paise.
	v, _ := ValueInUnits(1_000_001, inrAsset(0, 0), &Price{Coefficient: big.NewInt(600_000_000), Scale: 2})
	if v.Int64() != 6_000_006 {
		t.Fatalf("value %v, want 6000006", v)
	}
	// 1 sat is 0.06 INR = 6 paise exactly; 1 sat at a price of 5,999,999.99
	// INR is 5.99999999 paise, rounded down to 5.
	v, _ = ValueInUnits(1, inrAsset(0, 0), &Price{Coefficient: big.NewInt(599_999_999), Scale: 2})
	if v.Int64() != 5 {
		t.Fatalf("value %v, want 5 (rounded down)", v)
	}
}

func TestAllowMintFiat(t *testing.T) {
	ctx := context.Background()
	clock := time.Unix(1_700_000_000, 0)
	mon := func(reserves int64, p Prices) *Monitor {
		var opts []MonitorOption
		if p != nil {
			opts = append(opts, WithPrices(p))
		}
		m := NewMonitor(opts...)
		m.now = func() time.Time { return clock }
		m.RegisterKind("chain", KindChain, time.Minute)
		if err := m.Report("chain", reserves); err != nil {
			t.Fatal(err)
		}
		return m
	}
	check := func(supply int64, others ...ledger.AssetSupply) ledger.MintCheck {
		a := inrAsset(supply, 15000)
		return ledger.MintCheck{Asset: ledger.Asset{Code: a.Code, Peg: a.Peg, Currency: "INR", Decimals: 2, MinCoverageBps: 15000},
			SupplyAfter: supply, Outstanding: append([]ledger.AssetSupply{a}, others...)}
	}
	// 1.5 BTC of reserves at 1.50x backs exactly 1 BTC of rupees: 60,00,000.00
	// INR = 600,000,000 paise.
	if err := mon(150_000_000, inr).AllowMint(ctx, check(600_000_000)); err != nil {
		t.Fatalf("exactly covered: %v", err)
	}
	err := mon(150_000_000, inr).AllowMint(ctx, check(600_000_001))
	if err == nil || !strings.Contains(err.Error(), "needs 150000001 sats") {
		t.Fatalf("one paisa over: %v, want a refusal needing 150000001 sats (rounded up)", err)
	}
	// Shared with a sat-pegged asset: its 1,000 sats come first.
	sat := ledger.AssetSupply{Code: "KSH", Peg: ledger.PegSat, Supply: 1000, MinCoverageBps: 10000}
	if err := mon(150_001_000, inr).AllowMint(ctx, check(600_000_000, sat)); err != nil {
		t.Fatalf("shared, covered: %v", err)
	}
	if err := mon(150_000_999, inr).AllowMint(ctx, check(600_000_000, sat)); err == nil {
		t.Fatal("shared, one sat short: allowed")
	}
	// Stale price: refused, saying why.
	err = mon(1<<40, fixedPrices{}).AllowMint(ctx, check(1))
	if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "INRT") {
		t.Fatalf("stale price: %v", err)
	}
	// No oracle at all.
	if err := mon(1<<40, nil).AllowMint(ctx, check(1)); !errors.Is(err, ErrNoOracle) {
		t.Fatalf("no oracle: %v", err)
	}
	// A fiat asset with no supply needs no price to mint a sat asset.
	satCheck := ledger.MintCheck{Asset: ledger.Asset{Code: "KSH", Peg: ledger.PegSat}, SupplyAfter: 10,
		Outstanding: []ledger.AssetSupply{{Code: "KSH", Peg: ledger.PegSat, Supply: 10, MinCoverageBps: 10000}, inrAsset(0, 15000)}}
	if err := mon(10, nil).AllowMint(ctx, satCheck); err != nil {
		t.Fatalf("sat mint beside an empty fiat asset: %v", err)
	}
}

func TestComputeCoverage(t *testing.T) {
	c, err := Compute(2_000_000, []ledger.AssetSupply{inrAsset(6_000_000, 15000),
		{Code: "KSH", Peg: ledger.PegSat, Supply: 500_000, MinCoverageBps: 10000}}, inr)
	if err != nil {
		t.Fatal(err)
	}
	// Backing at 1.00x: 1,000,000 + 500,000 sats; required: 1,500,000 + 500,000.
	if c.Backing.Int64() != 1_500_000 || c.Required.Int64() != 2_000_000 || c.CoverageBps != 13333 {
		t.Fatalf("coverage %+v", c)
	}
}

// TestCoverageStatus: Below when the pool misses the summed policy
// minimums, Warning only above that and under the asset's warning level;
// nothing outstanding is neither.
func TestCoverageStatus(t *testing.T) {
	sat := ledger.AssetSupply{Code: "KSH", Peg: ledger.PegSat, Supply: 1000, MinCoverageBps: 10000}
	for _, c := range []struct {
		reserves     int64
		warn         int64
		below, warn2 bool
	}{
		{999, 0, true, false},
		{1000, 0, false, false},
		{1000, 12000, false, true},
		{1200, 12000, false, false},
		{999, 12000, true, false},
	} {
		cov, err := Compute(c.reserves, []ledger.AssetSupply{sat}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cov.Below() != c.below || cov.Warning(c.warn) != c.warn2 {
			t.Errorf("reserves %d warn %d: below %v warning %v, want %v %v", c.reserves, c.warn, cov.Below(), cov.Warning(c.warn), c.below, c.warn2)
		}
	}
	if cov, _ := Compute(5, nil, nil); cov.Below() || cov.Warning(12000) {
		t.Error("nothing outstanding is below or warning")
	}
	b, err := BackingSats(ledger.AssetSupply{Code: "INR", Peg: ledger.PegFiat, Currency: "INR", Decimals: 2, Supply: 1},
		&Price{Currency: "INR", Coefficient: big.NewInt(3), Scale: 0})
	if err != nil || b.Int64() != 333_334 {
		t.Errorf("backing of 0.01 INR at 3 INR/BTC: %v %v, want 333334 sats (rounded up)", b, err)
	}
}
