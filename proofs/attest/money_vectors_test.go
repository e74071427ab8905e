package attest_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
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

// TestMoneyVectors checks RequiredSats, ComputeCoverage and CeilRat against
// the units_to_sats and round vectors; proofs/verify's TestSpreadVectors
// checks a price's spread against the deviation_bps vectors. (The verifier
// converts liabilities to sats only; sats_to_units is money's alone.)
func TestMoneyVectors(t *testing.T) {
	b, err := os.ReadFile(moneyVectors)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		UnitsToSats []moneyVector `json:"units_to_sats"`
		Round       []struct{ Num, Den, Ceil string }
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.UnitsToSats) == 0 || len(f.Round) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.UnitsToSats {
		var units attest.Amount
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
		asset := attest.Asset{Code: "X", Peg: attest.PegFiat, Currency: "XXX", Decimals: v.Decimals, MinCoverageBps: attest.BasisPoints,
			Price:       &attest.Price{Currency: "XXX", Coefficient: attest.NewBigInt(c), Scale: v.Scale},
			Liabilities: attest.Liabilities{Total: units}}
		r, rerr := attest.RequiredSats(&asset, attest.BasisPoints)
		cov, cerr := attest.ComputeCoverage(0, []attest.Asset{asset})
		switch v.Error {
		case "invalid_price", "out_of_range":
			kind := map[string]error{"invalid_price": attest.ErrCoverage, "out_of_range": attest.ErrMalformed}[v.Error]
			if rerr == nil || !errors.Is(rerr, kind) || cerr == nil || !errors.Is(cerr, kind) {
				t.Errorf("%q: RequiredSats %v, ComputeCoverage %v; want %v", v.Name, rerr, cerr, kind)
			}
			continue
		}
		if rerr != nil || r.Num().String()+"/"+r.Denom().String() != v.Exact {
			t.Errorf("%q: RequiredSats = %v, %v; want %s", v.Name, r, rerr, v.Exact)
		}
		want, _ := new(big.Int).SetString(v.Ceil, 10)
		if !want.IsInt64() {
			if cerr == nil || !errors.Is(cerr, attest.ErrOverflow) {
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
		if got := attest.CeilRat(r); got.String() != v.Ceil {
			t.Errorf("CeilRat(%s/%s) = %s, want %s", v.Num, v.Den, got, v.Ceil)
		}
	}
}
