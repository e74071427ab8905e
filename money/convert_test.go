package money

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestConversions(t *testing.T) {
	inr := MustPrice("6543210.12") // rupees per BTC
	tests := []struct {
		name     string
		sats     bool // SatsToUnits if true, UnitsToSats otherwise
		amount   int64
		price    Price
		decimals uint32
		round    Rounding
		want     int64
		err      error
	}{
		// 1 BTC = 654321012 paise exactly.
		{"1 BTC to paise", true, SatsPerBTC, inr, 2, Floor, 654321012, nil},
		{"1 BTC to paise ceil", true, SatsPerBTC, inr, 2, Ceil, 654321012, nil},
		// 1 sat = 6.54321012 paise.
		{"1 sat floor", true, 1, inr, 2, Floor, 6, nil},
		{"1 sat ceil", true, 1, inr, 2, Ceil, 7, nil},
		{"0 sats", true, 0, inr, 2, Ceil, 0, nil},
		// 50 sats = 327.160506 paise.
		{"50 sats floor", true, 50, inr, 2, Floor, 327, nil},
		{"50 sats ceil", true, 50, inr, 2, Ceil, 328, nil},
		// Exact boundary: price 1e8 units/BTC → 1 sat = 1 unit at decimals 0.
		{"exact boundary floor", true, 12345, MustPrice("100000000"), 0, Floor, 12345, nil},
		{"exact boundary ceil", true, 12345, MustPrice("100000000"), 0, Ceil, 12345, nil},
		// Just below the boundary: 99999999.99999999 → 12345 sats = 12344.99...
		{"just below floor", true, 12345, MustPrice("99999999.99999999"), 0, Floor, 12344, nil},
		{"just below ceil", true, 12345, MustPrice("99999999.99999999"), 0, Ceil, 12345, nil},
		// 100 paise = 1 rupee = 1e8/6543210.12 sats = 15.2830... sats.
		{"1 rupee to sats ceil", false, 100, inr, 2, Ceil, 16, nil},
		{"1 rupee to sats floor", false, 100, inr, 2, Floor, 15, nil},
		// 654321012 paise = exactly 1 BTC.
		{"1 BTC of paise ceil", false, 654321012, inr, 2, Ceil, SatsPerBTC, nil},
		{"1 BTC of paise floor", false, 654321012, inr, 2, Floor, SatsPerBTC, nil},
		// One paisa more needs one more sat (rounded up), not when floored.
		{"1 BTC + 1 paisa ceil", false, 654321013, inr, 2, Ceil, SatsPerBTC + 1, nil},
		{"1 BTC + 1 paisa floor", false, 654321013, inr, 2, Floor, SatsPerBTC, nil},
		{"0 units", false, 0, inr, 2, Ceil, 0, nil},
		{"18 decimals", true, 1, MustPrice("1"), 18, Floor, 10_000_000_000, nil},
		{"max int64 sats at 1e8", true, math.MaxInt64, MustPrice("100000000"), 0, Floor, math.MaxInt64, nil},
		{"overflow", true, math.MaxInt64, MustPrice("100000000.00000001"), 0, Ceil, 0, ErrOverflow},
		{"overflow units", false, math.MaxInt64, MustPrice("0.5"), 0, Floor, 0, ErrOverflow},
		{"bad price", true, 1, Price{}, 2, Floor, 0, ErrInvalidPrice},
		{"zero price", true, 1, Price{Coefficient: new(big.Int)}, 2, Floor, 0, ErrInvalidPrice},
	}
	for _, tc := range tests {
		var got int64
		var err error
		if tc.sats {
			got, err = SatsToUnits(tc.amount, tc.price, tc.decimals, tc.round)
		} else {
			got, err = UnitsToSats(tc.amount, tc.price, tc.decimals, tc.round)
		}
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: got %d, %v; want %v", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []func() (int64, error){
		func() (int64, error) { return SatsToUnits(-1, inr, 2, Floor) },
		func() (int64, error) { return UnitsToSats(-1, inr, 2, Ceil) },
		func() (int64, error) { return SatsToUnits(1, inr, 19, Floor) },
		func() (int64, error) { return SatsToUnits(1, inr, 2, 0) },
		func() (int64, error) { return UnitsToSats(1, inr, 2, Rounding(7)) },
	} {
		if got, err := bad(); err == nil {
			t.Errorf("bad conversion accepted: %d", got)
		}
	}
}

// TestConversionsAgainstIssuer checks the rounding directions on random
// amounts: floor ≤ exact ≤ ceil, within one unit, and a round trip of
// reserves valued down and converted back up never creates sats.
func TestConversionsAgainstIssuer(t *testing.T) {
	prices := []Price{MustPrice("6543210.12"), MustPrice("98765.4321"), MustPrice("0.5"), MustPrice("123456789012.345678")}
	for _, p := range prices {
		for _, d := range []uint32{0, 2, 8} {
			for _, amt := range []int64{1, 2, 3, 7, 99, 100, 12345, 99999999, 100000000, 2100000000000000} {
				fl, err1 := SatsToUnits(amt, p, d, Floor)
				ce, err2 := SatsToUnits(amt, p, d, Ceil)
				if err1 != nil || err2 != nil {
					continue // overflow at extreme prices
				}
				exact := new(big.Rat).Mul(new(big.Rat).SetInt64(amt), p.Rat())
				exact.Mul(exact, new(big.Rat).SetInt(Pow10(int(d))))
				exact.Quo(exact, new(big.Rat).SetInt64(SatsPerBTC))
				if new(big.Rat).SetInt64(fl).Cmp(exact) > 0 || new(big.Rat).SetInt64(ce).Cmp(exact) < 0 || ce-fl > 1 {
					t.Errorf("price %s d %d sats %d: floor %d ceil %d exact %s", p, d, amt, fl, ce, exact.FloatString(4))
				}
				back, err := UnitsToSats(fl, p, d, Floor)
				if err == nil && back > amt {
					t.Errorf("price %s d %d: %d sats → %d units → %d sats", p, d, amt, fl, back)
				}
			}
		}
	}
}

// TestExactValues: SatsInUnits values at a zero price (nothing is worth
// anything) but UnitsInSats cannot divide by it; neither takes a missing
// or negative price.
func TestExactValues(t *testing.T) {
	zero := Price{Coefficient: new(big.Int), Scale: 2}
	if v, err := SatsInUnits(5, zero, 2); err != nil || v.Sign() != 0 {
		t.Errorf("SatsInUnits at zero = %v, %v", v, err)
	}
	if v, err := SatsInUnits(50, MustPrice("6543210.12"), 2); err != nil || v.RatString() != "163580253/500000" {
		t.Errorf("SatsInUnits(50) = %v, %v", v, err)
	}
	for _, p := range []Price{{}, {Coefficient: big.NewInt(-1)}} {
		if v, err := SatsInUnits(1, p, 2); !errors.Is(err, ErrInvalidPrice) {
			t.Errorf("SatsInUnits at %s = %v, %v", p, v, err)
		}
	}
	for _, p := range []Price{{}, zero, {Coefficient: big.NewInt(-1)}} {
		if v, err := UnitsInSats(1, p, 2); !errors.Is(err, ErrInvalidPrice) {
			t.Errorf("UnitsInSats at %s = %v, %v", p, v, err)
		}
	}
	if got := Pow10(40).String(); got != "1"+strings.Repeat("0", 40) || Pow10(0).Int64() != 1 || Pow10(-3).Int64() != 1 {
		t.Errorf("Pow10 = %s", got)
	}
	if a, b := AlignScale(MustPrice("1.5"), MustPrice("2.25")); a.Int64() != 150 || b.Int64() != 225 {
		t.Errorf("AlignScale = %s, %s", a, b)
	}
}
