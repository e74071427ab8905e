package attest_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// TestPriceSources: a price listing its oracle sources must be their lower
// median with the stated spread; any other price, spread, order or a
// manual price with sources fails with a sentence saying so.
func TestPriceSources(t *testing.T) {
	base := buildFixture(t, 1, "").a
	inr := func(a *attest.Attestation) *attest.Price {
		for i := range a.Assets {
			if a.Assets[i].Code == "INR" {
				return a.Assets[i].Price
			}
		}
		t.Fatal("fixture has no INR asset")
		return nil
	}
	src := func(name string, coef int64, scale int) attest.PriceSource {
		return attest.PriceSource{Name: name, Coefficient: attest.NewBigInt(big.NewInt(coef)), Scale: scale, Time: base.Time}
	}
	// The fixture's price is 8,123,456.78; sources at 8,123,456.78 (paise),
	// 8,123,000 (rupees) and 8,130,000.0: the lower median is the first,
	// the largest deviation 6,543.22 / 8,123,456.78 = 8.05 bps, rounded up 9.
	good := []attest.PriceSource{src("a", 812345678, 2), src("b", 8123000, 0), src("c", 81300000, 1)}
	for _, c := range []struct {
		name   string
		change func(p *attest.Price)
		want   string // "" : verifies
	}{
		{"median and spread", func(p *attest.Price) { p.Sources, p.SpreadBps = good, 9 }, ""},
		{"no sources, no spread", func(p *attest.Price) {}, ""},
		{"spread understated", func(p *attest.Price) { p.Sources, p.SpreadBps = good, 8 }, "states a spread of 8 basis points, but its sources deviate by up to 9"},
		{"price not the median", func(p *attest.Price) {
			p.Sources, p.SpreadBps = good, 9
			p.Coefficient = attest.NewBigInt(big.NewInt(812345679))
		}, "but the lower median of its 3 sources is"},
		{"unsorted", func(p *attest.Price) {
			p.Sources, p.SpreadBps = []attest.PriceSource{good[1], good[0], good[2]}, 9
		}, "not distinct non-empty names in sorted order"},
		{"manual with sources", func(p *attest.Price) { p.Sources, p.SpreadBps, p.Manual = good, 9, true }, "manual price of asset INR lists oracle sources"},
		{"spread without sources", func(p *attest.Price) { p.SpreadBps = 3 }, "states a spread but lists no sources"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := clone(t, base)
			c.change(inr(a))
			if err := a.Fill(); err != nil {
				t.Fatal(err)
			}
			resign(t, a)
			doc, err := verify.Document(mustMarshal(t, a))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("verify: %v", err)
			case c.want == "" && len(inr(doc).Sources) != len(inr(a).Sources):
				t.Fatalf("sources lost in the round trip")
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("verify: %v, want %q", err, c.want)
			}
		})
	}
}
