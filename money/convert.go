package money

import (
	"fmt"
	"math/big"
)

// Rounding says which way a conversion rounds a result that is not a whole
// number of units. There is no default: the zero value is invalid, so each
// caller states the direction that goes against the issuer.
type Rounding uint8

const (
	// Floor rounds down. Use it to value what the issuer holds (reserves
	// converted to asset units).
	Floor Rounding = iota + 1
	// Ceil rounds up. Use it for what the issuer owes (liabilities
	// converted to the sats they require).
	Ceil
)

// String names the rounding mode.
func (r Rounding) String() string {
	switch r {
	case Floor:
		return "floor"
	case Ceil:
		return "ceil"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// SatsInUnits returns exactly what sats of bitcoin are worth in base units
// of an asset denominated in p's currency with the given decimals (paise:
// decimals 2 for INR):
//
//	sats × Coefficient × 10^decimals / (10^8 × 10^Scale)
//
// It checks only that p has a coefficient that is not negative (a zero
// price values everything at zero); amount, scale and decimals are the
// caller's to bound. Round the result with Round, or use SatsToUnits.
func SatsInUnits(sats int64, p Price, decimals uint32) (*big.Rat, error) {
	if p.Coefficient == nil || p.Coefficient.Sign() < 0 {
		return nil, fmt.Errorf("%w: cannot value sats at %s", ErrInvalidPrice, p)
	}
	num := new(big.Int).Mul(big.NewInt(sats), p.Coefficient)
	num.Mul(num, Pow10(int(decimals)))
	den := new(big.Int).Mul(big.NewInt(SatsPerBTC), Pow10(int(p.Scale)))
	return new(big.Rat).SetFrac(num, den), nil
}

// UnitsInSats returns exactly what units (base units of an asset
// denominated in p's currency with the given decimals) are worth in sats:
//
//	units × 10^8 × 10^Scale / (10^decimals × Coefficient)
//
// It checks only that p's coefficient is positive; amount, scale and
// decimals are the caller's to bound. Round the result with Round, or use
// UnitsToSats.
func UnitsInSats(units int64, p Price, decimals uint32) (*big.Rat, error) {
	if p.Coefficient == nil || p.Coefficient.Sign() <= 0 {
		return nil, fmt.Errorf("%w: cannot value units at %s", ErrInvalidPrice, p)
	}
	num := new(big.Int).Mul(big.NewInt(units), big.NewInt(SatsPerBTC))
	num.Mul(num, Pow10(int(p.Scale)))
	den := new(big.Int).Mul(Pow10(int(decimals)), p.Coefficient)
	return new(big.Rat).SetFrac(num, den), nil
}

// SatsToUnits converts sats into base units of an asset denominated in the
// price's currency with the given decimals: SatsInUnits rounded by round.
// Valuing reserves, round must be Floor. It fails for negative sats,
// decimals above MaxDecimals, a price that is not positive or has a Scale
// above MaxScale (wrapping ErrInvalidPrice), and a result beyond int64
// (wrapping ErrOverflow).
func SatsToUnits(sats int64, price Price, decimals uint32, round Rounding) (int64, error) {
	if err := checkConversion(sats, price, decimals, round); err != nil {
		return 0, fmt.Errorf("convert %d sats to units: %w", sats, err)
	}
	v, _ := SatsInUnits(sats, price, decimals) // checked above
	q, err := roundInt64(v, round)
	if err != nil {
		return 0, fmt.Errorf("convert %d sats to units at %s: %w", sats, price, err)
	}
	return q, nil
}

// UnitsToSats converts base units of an asset denominated in the price's
// currency with the given decimals into sats: UnitsInSats rounded by round.
// Converting liabilities into the sats that must back them, round must be
// Ceil. It fails as SatsToUnits does.
func UnitsToSats(units int64, price Price, decimals uint32, round Rounding) (int64, error) {
	if err := checkConversion(units, price, decimals, round); err != nil {
		return 0, fmt.Errorf("convert %d units to sats: %w", units, err)
	}
	v, _ := UnitsInSats(units, price, decimals) // checked above
	q, err := roundInt64(v, round)
	if err != nil {
		return 0, fmt.Errorf("convert %d units to sats at %s: %w", units, price, err)
	}
	return q, nil
}

// checkConversion bounds the inputs of a checked conversion. It does not
// require Validate's MaxDigits (a bound on parsed text, not on arithmetic).
func checkConversion(amount int64, price Price, decimals uint32, round Rounding) error {
	switch {
	case amount < 0:
		return fmt.Errorf("negative amount %d", amount)
	case decimals > MaxDecimals:
		return fmt.Errorf("%d decimals exceed %d", decimals, MaxDecimals)
	case round != Floor && round != Ceil:
		return fmt.Errorf("invalid rounding %s (use Floor or Ceil)", round)
	case price.Coefficient == nil:
		return fmt.Errorf("%w: no price", ErrInvalidPrice)
	case price.Coefficient.Sign() <= 0:
		return fmt.Errorf("%w: price %s is not positive", ErrInvalidPrice, price)
	case price.Scale > MaxScale:
		return fmt.Errorf("%w: scale %d exceeds %d", ErrInvalidPrice, price.Scale, MaxScale)
	}
	return nil
}

// Round returns r rounded to an integer by mode: Floor to the largest
// integer not above r, Ceil to the smallest not below it (for a negative r
// too). Any other mode rounds toward zero.
func Round(r *big.Rat, mode Rounding) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	switch {
	case mode == Ceil && m.Sign() > 0:
		q.Add(q, big.NewInt(1))
	case mode == Floor && m.Sign() < 0:
		q.Sub(q, big.NewInt(1))
	}
	return q
}

// roundInt64 rounds r by mode, wrapping ErrOverflow beyond int64.
func roundInt64(r *big.Rat, mode Rounding) (int64, error) {
	q := Round(r, mode)
	if !q.IsInt64() {
		return 0, ErrOverflow
	}
	return q.Int64(), nil
}

var pow10Table = func() [2*MaxScale + MaxDigits + 1]*big.Int {
	var t [2*MaxScale + MaxDigits + 1]*big.Int
	t[0] = big.NewInt(1)
	for i := 1; i < len(t); i++ {
		t[i] = new(big.Int).Mul(t[i-1], big.NewInt(10))
	}
	return t
}()

// Pow10 returns 10^n as a new big.Int (1 for n ≤ 0).
func Pow10(n int) *big.Int {
	if n >= 0 && n < len(pow10Table) {
		return new(big.Int).Set(pow10Table[n])
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
