package verify

import (
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
)

// moneyVectors is testdata/money/vectors.json, written and checked by
// package money.
const moneyVectors = "../../testdata/money/vectors.json"

// TestSpreadVectors checks checkSources' spread against the deviation_bps
// vectors of package money (proofs/attest's TestMoneyVectors checks the
// units-to-sats rule against the others).
func TestSpreadVectors(t *testing.T) {
	b, err := os.ReadFile(moneyVectors)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Deviation []struct {
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
	if len(f.Deviation) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Deviation {
		// Two sources at the price and the deviating one: the lower median
		// is the price, and the spread is the deviation.
		pc, _ := new(big.Int).SetString(v.Price, 10)
		sc, _ := new(big.Int).SetString(v.Source, 10)
		const tm = "2026-01-01T00:00:00Z"
		pr := attest.Price{Currency: "XXX", Coefficient: attest.NewBigInt(pc), Scale: v.PriceScale, Time: tm, Sources: []attest.PriceSource{
			{Name: "a", Coefficient: attest.NewBigInt(pc), Scale: v.PriceScale, Time: tm},
			{Name: "b", Coefficient: attest.NewBigInt(pc), Scale: v.PriceScale, Time: tm},
			{Name: "c", Coefficient: attest.NewBigInt(sc), Scale: v.SourceScale, Time: tm},
		}}
		want, _ := new(big.Int).SetString(v.Bps, 10)
		if !want.IsInt64() {
			if p := checkSources(&pr, "X", nil); len(p) != 1 || !errors.Is(p[0], attest.ErrMalformed) {
				t.Errorf("source %se-%d at %se-%d: %v; want a spread beyond any", v.Source, v.SourceScale, v.Price, v.PriceScale, p)
			}
			continue
		}
		pr.SpreadBps = want.Int64()
		if p := checkSources(&pr, "X", nil); len(p) != 0 {
			t.Errorf("source %se-%d at %se-%d, spread %d: %v", v.Source, v.SourceScale, v.Price, v.PriceScale, pr.SpreadBps, p)
		}
		if pr.SpreadBps < 1<<63-1 {
			pr.SpreadBps++
			if p := checkSources(&pr, "X", nil); len(p) != 1 || !errors.Is(p[0], attest.ErrSum) {
				t.Errorf("source %se-%d at %se-%d, spread %d accepted: %v", v.Source, v.SourceScale, v.Price, v.PriceScale, pr.SpreadBps, p)
			}
		}
	}
}

// TestCurrencyCode: a fiat peg's currency is three capital letters A to Z.
func TestCurrencyCode(t *testing.T) {
	for code, ok := range map[string]bool{"INR": true, "USD": true, "IN1": false, "inr": false, "IN": false, "INRX": false, "ÄBC": false, "123": false} {
		if isCurrencyCode(code) != ok {
			t.Errorf("isCurrencyCode(%q) = %v, want %v", code, !ok, ok)
		}
	}
}
