package money

import (
	"errors"
	"fmt"
	"math/big"
	"testing"
)

// FuzzParsePrice checks ParsePrice against math/big's decimal parser: an
// accepted text is a positive value equal to big.Rat's reading of it, within
// the limits, and its String form parses back to the same value and scale.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"6543210.12", "6.54321012e6", "1E+3", "0.0001", "1e-18", "0", "-1", "NaN", "Infinity", "01", "1e101", "123456789012345678901234567890", "1.", ".5", "1e-19", "100e-20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrice(s)
		if err != nil {
			if p.Coefficient != nil {
				t.Fatalf("error %v with a price", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePrice(%q) = %v, invalid: %v", s, p, err)
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("ParsePrice accepted %q which big.Rat rejects", s)
		}
		if r.Cmp(p.Rat()) != 0 {
			t.Fatalf("ParsePrice(%q) = %s, big.Rat says %s", s, p, r.FloatString(20))
		}
		q, err := ParsePrice(p.String())
		if err != nil || q.Cmp(p) != 0 || q.Scale != p.Scale {
			t.Fatalf("round trip of %q via %q: %v, %v", s, p.String(), q, err)
		}
		if b, err := p.MarshalJSON(); err == nil {
			if q, err := ParsePriceJSON(b); err != nil || q.Cmp(p) != 0 {
				t.Fatalf("JSON round trip of %q: %v, %v", s, q, err)
			}
		}
	})
}

// FuzzConvert checks SatsToUnits and UnitsToSats against math/big reading
// the same quantities from decimal text: the result is the exact value
// rounded as asked when the inputs are in bounds and it fits an int64, an
// error wrapping ErrOverflow when it does not, and an error otherwise.
func FuzzConvert(f *testing.F) {
	f.Add(int64(50), []byte{0x27, 0x00, 0xd5, 0x74}, uint8(2), uint8(2), true)
	f.Add(int64(100), []byte{0x27, 0x00, 0xd5, 0x74}, uint8(2), uint8(2), false)
	f.Add(int64(1<<63-1), []byte{0x05, 0xf5, 0xe1, 0x00}, uint8(0), uint8(0), true)
	f.Add(int64(1<<63-1), []byte{0x01}, uint8(18), uint8(0), false)
	f.Add(int64(-1), []byte{0x01}, uint8(0), uint8(0), true)
	f.Add(int64(1), []byte{}, uint8(19), uint8(19), false)
	f.Fuzz(func(t *testing.T, amount int64, coef []byte, scale, decimals uint8, sats bool) {
		if len(coef) > 16 {
			coef = coef[:16]
		}
		p := Price{Coefficient: new(big.Int).SetBytes(coef), Scale: scale}
		// Read the price and the powers of ten as decimal text, not Pow10.
		pr, ok := new(big.Rat).SetString(fmt.Sprintf("%se-%d", p.Coefficient, scale))
		if !ok {
			t.Fatalf("big.Rat rejects the price %s", p)
		}
		tenD, _ := new(big.Rat).SetString(fmt.Sprintf("1e%d", decimals))
		exact := new(big.Rat).SetInt64(amount)
		if sats {
			exact.Mul(exact, pr).Mul(exact, tenD).Quo(exact, big.NewRat(100_000_000, 1))
		} else if pr.Sign() > 0 {
			exact.Mul(exact, big.NewRat(100_000_000, 1)).Quo(exact, tenD).Quo(exact, pr)
		}
		valid := amount >= 0 && p.Coefficient.Sign() > 0 && scale <= MaxScale && decimals <= MaxDecimals
		for _, r := range []Rounding{Floor, Ceil} {
			conv := UnitsToSats
			if sats {
				conv = SatsToUnits
			}
			got, err := conv(amount, p, uint32(decimals), r)
			if !valid {
				if err == nil || errors.Is(err, ErrOverflow) {
					t.Fatalf("%d at %s, %d decimals: got %d, %v; want an input error", amount, p, decimals, got, err)
				}
				continue
			}
			want := new(big.Int).Div(exact.Num(), exact.Denom()) // Euclidean: floor, the denominator is positive
			if r == Ceil {
				want.Neg(new(big.Int).Div(new(big.Int).Neg(exact.Num()), exact.Denom()))
			}
			if !want.IsInt64() {
				if !errors.Is(err, ErrOverflow) {
					t.Fatalf("%d at %s, %d decimals, %s: got %d, %v; want overflow (%s)", amount, p, decimals, r, got, err, want)
				}
				continue
			}
			if err != nil || got != want.Int64() {
				t.Fatalf("%d at %s, %d decimals, %s: got %d, %v; want %s", amount, p, decimals, r, got, err, want)
			}
		}
	})
}

// FuzzRound checks that Round brackets any fraction of either sign between
// integers at most one apart, and equal for an integer.
func FuzzRound(f *testing.F) {
	f.Add(int64(-3), int64(2))
	f.Add(int64(7), int64(7))
	f.Fuzz(func(t *testing.T, a, b int64) {
		if b == 0 {
			return
		}
		r := big.NewRat(a, b)
		fl, ce := Round(r, Floor), Round(r, Ceil)
		if new(big.Rat).SetInt(fl).Cmp(r) > 0 || new(big.Rat).SetInt(ce).Cmp(r) < 0 {
			t.Fatalf("%s: floor %s, ceil %s", r, fl, ce)
		}
		d := new(big.Int).Sub(ce, fl).Int64()
		if r.IsInt() && d != 0 || !r.IsInt() && d != 1 {
			t.Fatalf("%s: floor %s, ceil %s", r, fl, ce)
		}
	})
}
