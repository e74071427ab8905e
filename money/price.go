package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Limits on prices and conversions. They keep every computation small and
// reject quotes no real market produces.
const (
	// SatsPerBTC is the number of satoshis in one bitcoin.
	SatsPerBTC = 100_000_000
	// MaxScale is the largest Price.Scale accepted (18 decimal places).
	MaxScale = 18
	// MaxDigits is the largest number of significant decimal digits of a
	// Price.Coefficient.
	MaxDigits = 30
	// MaxDecimals is the largest number of asset decimals a conversion
	// accepts.
	MaxDecimals = 18
	// maxPriceText bounds the length of a price's text before it is parsed.
	maxPriceText = 64
	// basisPoints is one whole in basis points.
	basisPoints = 10_000
	// maxExponent bounds the absolute value of an exponent in a price's text.
	maxExponent = 100
)

var (
	// ErrInvalidPrice is wrapped by every error about a price that cannot
	// be used: unparsable, not positive, too precise or too large.
	ErrInvalidPrice = errors.New("invalid price")
	// ErrOverflow is wrapped when a conversion's result does not fit in an
	// int64.
	ErrOverflow = errors.New("result out of int64 range")
)

// Price is the price of one bitcoin in a quote currency, in fixed point:
// Coefficient / 10^Scale whole units of the currency (e.g. rupees) per BTC.
// It is never a float. A usable price has a positive Coefficient of at most
// MaxDigits digits and a Scale of at most MaxScale (see Validate).
//
// Two prices with different Scale may have the same value ("1.50" is
// Coefficient 150, Scale 2; "1.5" is 15, 1): compare with Cmp, not ==.
type Price struct {
	Coefficient *big.Int
	Scale       uint8
}

// NewPrice returns the price coefficient / 10^scale, validated.
func NewPrice(coefficient int64, scale uint8) (Price, error) {
	p := Price{Coefficient: big.NewInt(coefficient), Scale: scale}
	if err := p.Validate(); err != nil {
		return Price{}, err
	}
	return p, nil
}

// MustPrice parses s with ParsePrice and panics on error. It is meant for
// constants in tests and examples.
func MustPrice(s string) Price {
	p, err := ParsePrice(s)
	if err != nil {
		panic(err)
	}
	return p
}

// IsZero reports whether p is the zero value (no price).
func (p Price) IsZero() bool { return p.Coefficient == nil }

// Validate reports why p is not a usable price, wrapping ErrInvalidPrice.
func (p Price) Validate() error {
	switch {
	case p.Coefficient == nil:
		return fmt.Errorf("%w: no price", ErrInvalidPrice)
	case p.Coefficient.Sign() == 0:
		return fmt.Errorf("%w: price is zero", ErrInvalidPrice)
	case p.Coefficient.Sign() < 0:
		return fmt.Errorf("%w: price %s is negative", ErrInvalidPrice, p)
	case p.Scale > MaxScale:
		return fmt.Errorf("%w: scale %d exceeds %d", ErrInvalidPrice, p.Scale, MaxScale)
	}
	if n := len(p.Coefficient.String()); n > MaxDigits {
		return fmt.Errorf("%w: coefficient has %d digits (max %d)", ErrInvalidPrice, n, MaxDigits)
	}
	return nil
}

// String renders p as a plain decimal with exactly Scale fractional digits,
// e.g. "6543210.12"; the zero Price renders as "no price".
func (p Price) String() string {
	if p.Coefficient == nil {
		return "no price"
	}
	neg := p.Coefficient.Sign() < 0
	d := new(big.Int).Abs(p.Coefficient).String()
	if p.Scale > 0 {
		if len(d) <= int(p.Scale) {
			d = strings.Repeat("0", int(p.Scale)-len(d)+1) + d
		}
		d = d[:len(d)-int(p.Scale)] + "." + d[len(d)-int(p.Scale):]
	}
	if neg {
		d = "-" + d
	}
	return d
}

// Rat returns p's exact value as a rational (nil for the zero Price).
func (p Price) Rat() *big.Rat {
	if p.Coefficient == nil {
		return nil
	}
	return new(big.Rat).SetFrac(p.Coefficient, Pow10(int(p.Scale)))
}

// Cmp compares the values of p and q exactly: -1 if p < q, 0 if equal, +1
// if p > q. Both must be non-zero Prices.
func (p Price) Cmp(q Price) int {
	a, b := AlignScale(p, q)
	return a.Cmp(b)
}

// AlignScale returns new copies of the coefficients of p and q at their
// common (larger) scale, so that comparing or subtracting them compares or
// subtracts the prices exactly.
func AlignScale(p, q Price) (*big.Int, *big.Int) {
	a, b := new(big.Int).Set(p.Coefficient), new(big.Int).Set(q.Coefficient)
	if p.Scale < q.Scale {
		a.Mul(a, Pow10(int(q.Scale-p.Scale)))
	} else if q.Scale < p.Scale {
		b.Mul(b, Pow10(int(p.Scale-q.Scale)))
	}
	return a, b
}

// DeviationBps returns |p − m| / m in basis points, rounded up (saturating
// at the largest int64): how far a source's price p lies from the quoted
// price m, which must be positive.
func DeviationBps(p, m Price) int64 {
	a, b := AlignScale(p, m)
	d := new(big.Int).Sub(a, b)
	d.Abs(d).Mul(d, big.NewInt(basisPoints))
	q := Round(new(big.Rat).SetFrac(d, b), Ceil)
	if !q.IsInt64() {
		return 1<<63 - 1
	}
	return q.Int64()
}

// MarshalJSON encodes p as a JSON string holding its decimal text (strings,
// not numbers, so no JSON reader turns it into a float).
func (p Price) MarshalJSON() ([]byte, error) {
	if p.Coefficient == nil {
		return []byte("null"), nil
	}
	return json.Marshal(p.String())
}

// UnmarshalJSON decodes a price from a JSON string or number with
// ParsePriceJSON.
func (p *Price) UnmarshalJSON(b []byte) error {
	q, err := ParsePriceJSON(b)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParsePriceJSON parses a price from one JSON value: a number
// (6543210.12, 6.54321012e6) or a string holding such a number
// ("6543210.12"), with the rules of ParsePrice. Surrounding JSON whitespace
// is allowed; null, booleans, objects and arrays are not.
func ParsePriceJSON(b []byte) (Price, error) {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		var t string
		if err := json.Unmarshal([]byte(s), &t); err != nil {
			return Price{}, fmt.Errorf("%w: bad JSON string: %w", ErrInvalidPrice, err)
		}
		return ParsePrice(t)
	}
	if s == "" || s == "null" || s == "true" || s == "false" || s[0] == '{' || s[0] == '[' {
		return Price{}, fmt.Errorf("%w: JSON value %.20q is not a number or a string", ErrInvalidPrice, s)
	}
	return ParsePrice(s)
}

// ParsePrice parses a positive decimal price. It accepts exactly the JSON
// number grammar without a minus sign: an integer part ("0" or digits not
// starting with 0), an optional fraction ("." and digits) and an optional
// exponent ("e" or "E", optional sign, digits) — "6543210.12",
// "6.54321012e6", "1E+3". It rejects everything else with an error naming
// the problem: empty text, surrounding space, a sign, NaN, Infinity, hex,
// zero, more than MaxDigits significant digits, more than MaxScale decimal
// places once trailing zeros are dropped, and exponents beyond ±100.
//
// The scale is kept as written ("1.50" has Scale 2) unless trailing zeros
// must be dropped to fit MaxScale; a positive exponent multiplies the
// coefficient ("1e3" is Coefficient 1000, Scale 0).
func ParsePrice(s string) (Price, error) {
	if s == "" {
		return Price{}, fmt.Errorf("%w: empty", ErrInvalidPrice)
	}
	if len(s) > maxPriceText {
		return Price{}, fmt.Errorf("%w: %d characters (max %d)", ErrInvalidPrice, len(s), maxPriceText)
	}
	low := strings.ToLower(strings.TrimLeft(s, "+-"))
	switch {
	case strings.HasPrefix(low, "nan"):
		return Price{}, fmt.Errorf("%w: %q is not a number", ErrInvalidPrice, s)
	case strings.HasPrefix(low, "inf"):
		return Price{}, fmt.Errorf("%w: %q is infinite", ErrInvalidPrice, s)
	case s[0] == '-':
		return Price{}, fmt.Errorf("%w: %q is negative", ErrInvalidPrice, s)
	case s[0] == '+':
		return Price{}, fmt.Errorf("%w: %q has a sign (write the number alone)", ErrInvalidPrice, s)
	}
	bad := func(why string) (Price, error) {
		return Price{}, fmt.Errorf("%w: %q is not a decimal number: %s", ErrInvalidPrice, s, why)
	}
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	intStart := i
	if digits() == 0 {
		return bad("no digit before the point")
	}
	intPart := s[intStart:i]
	if len(intPart) > 1 && intPart[0] == '0' {
		return bad("leading zero")
	}
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		if digits() == 0 {
			return bad("no digit after the point")
		}
		frac = s[fs:i]
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		es := i
		if digits() == 0 {
			return bad("no digit in the exponent")
		}
		e := strings.TrimLeft(s[es:i], "0")
		if len(e) > 3 {
			return Price{}, fmt.Errorf("%w: %q: exponent out of range (max ±%d)", ErrInvalidPrice, s, maxExponent)
		}
		for _, c := range e {
			exp = exp*10 + int(c-'0')
		}
		if exp > maxExponent {
			return Price{}, fmt.Errorf("%w: %q: exponent out of range (max ±%d)", ErrInvalidPrice, s, maxExponent)
		}
		if neg {
			exp = -exp
		}
	}
	if i != len(s) {
		return bad(fmt.Sprintf("unexpected %q", s[i:]))
	}
	mant := strings.TrimLeft(intPart+frac, "0")
	if mant == "" {
		return Price{}, fmt.Errorf("%w: %q is zero", ErrInvalidPrice, s)
	}
	p, err := scaleDigits(mant, exp-len(frac))
	if err != nil {
		return Price{}, fmt.Errorf("%q: %w", s, err)
	}
	return p, nil
}

// scaleDigits builds the price mant × 10^exp from significant digits mant
// (no leading zero), dropping trailing zeros only as needed to fit
// MaxScale.
func scaleDigits(mant string, exp int) (Price, error) {
	for exp < 0 && -exp > MaxScale && strings.HasSuffix(mant, "0") {
		mant = mant[:len(mant)-1]
		exp++
	}
	if -exp > MaxScale {
		return Price{}, fmt.Errorf("%w: more than %d decimal places", ErrInvalidPrice, MaxScale)
	}
	sig := len(strings.TrimRight(mant, "0"))
	if sig > MaxDigits {
		return Price{}, fmt.Errorf("%w: %d significant digits (max %d)", ErrInvalidPrice, sig, MaxDigits)
	}
	if exp > 0 {
		if len(mant)+exp > MaxDigits {
			return Price{}, fmt.Errorf("%w: too large (more than %d digits)", ErrInvalidPrice, MaxDigits)
		}
		mant += strings.Repeat("0", exp)
		exp = 0
	}
	if len(mant) > MaxDigits {
		return Price{}, fmt.Errorf("%w: %d digits (max %d)", ErrInvalidPrice, len(mant), MaxDigits)
	}
	c, ok := new(big.Int).SetString(mant, 10)
	if !ok {
		return Price{}, fmt.Errorf("%w: bad digits %q", ErrInvalidPrice, mant)
	}
	return Price{Coefficient: c, Scale: uint8(-exp)}, nil
}

// Shift returns p × 10^exp, exactly (for a source quoting in cents, exp is
// -2). It fails, wrapping ErrInvalidPrice, when the result would exceed
// MaxScale or MaxDigits.
func (p Price) Shift(exp int) (Price, error) {
	if err := p.Validate(); err != nil {
		return Price{}, err
	}
	if exp < -2*MaxScale || exp > MaxDigits {
		return Price{}, fmt.Errorf("%w: shift by 10^%d out of range", ErrInvalidPrice, exp)
	}
	return scaleDigits(p.Coefficient.String(), exp-int(p.Scale))
}
