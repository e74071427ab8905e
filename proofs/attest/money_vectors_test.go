package attest

import (
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"testing"
)

// moneyVectors is testdata/money/vectors.json, written and checked by
// package money. The verifier keeps its own copy of the units-to-sats rule
// (this package must not import the server), so this test pins the copy to
// the same answers: exact value, rounding up, overflow and refused inputs.
const moneyVectors = "../../testdata/money/vectors.json"

type moneyVector struct {
	Name        string `json:"name"`
	Amount      string `json:"amount"`
	Coefficient string `json:"coefficient"`
	Scale       int    `json:"scale"`
	Decimals    int    `json:"decimals"`
	Exact       string `json:"exact"`
	Ceil        string `json:"ceil"`
	Error       string `json:"error"`
}

// TestMoneyVectors checks RequiredSats, computeCoverage and ceilRat against
// the units_to_sats and round vectors, and checkSources' spread against the
// deviation_bps vectors. (The verifier converts liabilities to
// sats only; sats_to_units is money's alone.)
func TestMoneyVectors(t *testing.T) {
	b, err := os.ReadFile(moneyVectors)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		UnitsToSats []moneyVector `json:"units_to_sats"`
		Round       []struct{ Num, Den, Ceil string }
		Deviation   []struct {
			Price       string `json:"price_coefficient"`
			PriceScale  int    `json:"price_scale"`
			Source      string `json:"source_coefficient"`
			SourceScale int    `json:"source_scale"`
			Bps         string `json:"bps"`
		} `json:"deviation_bps"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.UnitsToSats) == 0 || len(f.Round) == 0 || len(f.Deviation) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.UnitsToSats {
		var units Amount
		err := json.Unmarshal([]byte(`"`+v.Amount+`"`), &units)
		if v.Error == "negative" {
			if err == nil {
				t.Errorf("%q: the amount %s decodes as %d", v.Name, v.Amount, units)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", v.Name, err)
		}
		c, ok := new(big.Int).SetString(v.Coefficient, 10)
		if !ok {
			t.Fatalf("%q: coefficient %q", v.Name, v.Coefficient)
		}
		asset := Asset{Code: "X", Peg: PegFiat, Currency: "XXX", Decimals: v.Decimals, MinCoverageBps: BasisPoints,
			Price:       &Price{Currency: "XXX", Coefficient: NewBigInt(c), Scale: v.Scale},
			Liabilities: Liabilities{Total: units}}
		r, rerr := RequiredSats(&asset, BasisPoints)
		cov, cerr := computeCoverage(0, []Asset{asset})
		switch v.Error {
		case "invalid_price", "out_of_range":
			kind := map[string]error{"invalid_price": ErrCoverage, "out_of_range": ErrMalformed}[v.Error]
			if rerr == nil || !errors.Is(rerr, kind) || cerr == nil || !errors.Is(cerr, kind) {
				t.Errorf("%q: RequiredSats %v, computeCoverage %v; want %v", v.Name, rerr, cerr, kind)
			}
			continue
		}
		if rerr != nil || r.Num().String()+"/"+r.Denom().String() != v.Exact {
			t.Errorf("%q: RequiredSats = %v, %v; want %s", v.Name, r, rerr, v.Exact)
		}
		want, _ := new(big.Int).SetString(v.Ceil, 10)
		if !want.IsInt64() {
			if cerr == nil || !errors.Is(cerr, ErrOverflow) {
				t.Errorf("%q: backing %d, %v; want an overflow (%s sats)", v.Name, cov.Backing, cerr, want)
			}
			continue
		}
		if cerr != nil || int64(cov.Backing) != want.Int64() || cov.Required != cov.Backing {
			t.Errorf("%q: backing %d, required %d, %v; want %s", v.Name, cov.Backing, cov.Required, cerr, want)
		}
	}
	for _, v := range f.Round {
		r, ok := new(big.Rat).SetString(v.Num + "/" + v.Den)
		if !ok {
			t.Fatalf("round %s/%s", v.Num, v.Den)
		}
		if got := ceilRat(r); got.String() != v.Ceil {
			t.Errorf("ceilRat(%s/%s) = %s, want %s", v.Num, v.Den, got, v.Ceil)
		}
	}
	for _, v := range f.Deviation {
		// Two sources at the price and the deviating one: the lower median
		// is the price, and the spread is the deviation.
		pc, _ := new(big.Int).SetString(v.Price, 10)
		sc, _ := new(big.Int).SetString(v.Source, 10)
		const tm = "2026-01-01T00:00:00Z"
		pr := Price{Currency: "XXX", Coefficient: NewBigInt(pc), Scale: v.PriceScale, Time: tm, Sources: []PriceSource{
			{Name: "a", Coefficient: NewBigInt(pc), Scale: v.PriceScale, Time: tm},
			{Name: "b", Coefficient: NewBigInt(pc), Scale: v.PriceScale, Time: tm},
			{Name: "c", Coefficient: NewBigInt(sc), Scale: v.SourceScale, Time: tm},
		}}
		want, _ := new(big.Int).SetString(v.Bps, 10)
		if !want.IsInt64() {
			if p := pr.checkSources("X", nil); len(p) != 1 || !errors.Is(p[0], ErrMalformed) {
				t.Errorf("source %se-%d at %se-%d: %v; want a spread beyond any", v.Source, v.SourceScale, v.Price, v.PriceScale, p)
			}
			continue
		}
		pr.SpreadBps = want.Int64()
		if p := pr.checkSources("X", nil); len(p) != 0 {
			t.Errorf("source %se-%d at %se-%d, spread %d: %v", v.Source, v.SourceScale, v.Price, v.PriceScale, pr.SpreadBps, p)
		}
		if pr.SpreadBps < 1<<63-1 {
			pr.SpreadBps++
			if p := pr.checkSources("X", nil); len(p) != 1 || !errors.Is(p[0], ErrSum) {
				t.Errorf("source %se-%d at %se-%d, spread %d accepted: %v", v.Source, v.SourceScale, v.Price, v.PriceScale, pr.SpreadBps, p)
			}
		}
	}
}
