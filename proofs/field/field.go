package field

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/kosh-reserve/kosh/proofs/failure"
)

// Amount is a non-negative amount in base units (sats, paise). In JSON it is
// a string holding a canonical decimal integer ("0", "150000"; no sign, no
// leading zero, at most 2^63-1), because JavaScript numbers lose precision
// above 2^53.
type Amount int64

// MarshalJSON encodes the amount as a decimal string.
func (a Amount) MarshalJSON() ([]byte, error) {
	if a < 0 {
		return nil, fmt.Errorf("amount %d is negative", int64(a))
	}
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(a), 10)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes a canonical decimal string.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s, err := unquoteDecimal(b)
	if err != nil {
		return err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("amount %s exceeds 2^63-1", s)
	}
	*a = Amount(v)
	return nil
}

// String returns the decimal form.
func (a Amount) String() string { return strconv.FormatInt(int64(a), 10) }

// BigInt is a non-negative integer of any size, a canonical decimal string
// in JSON. It holds figures that may exceed int64, such as a coverage in
// basis points or a price coefficient.
type BigInt struct{ big.Int }

// NewBigInt returns a BigInt holding v.
func NewBigInt(v *big.Int) BigInt {
	var b BigInt
	b.Set(v)
	return b
}

// MarshalJSON encodes the integer as a decimal string.
func (b BigInt) MarshalJSON() ([]byte, error) {
	if b.Sign() < 0 {
		return nil, fmt.Errorf("integer %s is negative", b.String())
	}
	return []byte(`"` + b.String() + `"`), nil
}

// MaxBigIntDigits bounds a BigInt (a price coefficient): 78 digits, as
// many as 2^256 has.
const MaxBigIntDigits = 78

// UnmarshalJSON decodes a canonical decimal string of at most
// MaxBigIntDigits digits.
func (b *BigInt) UnmarshalJSON(data []byte) error {
	return unmarshalBig(&b.Int, data, MaxBigIntDigits)
}

// MaxCoverageDigits bounds a CoverageBps: 111 digits, the most a coverage
// in basis points can have under the attestation's other bounds. The
// largest is MaxSum sats counted against one base unit of a fiat asset of
// 18 decimals priced at a coefficient of 78 nines with scale 0:
// floor(MaxSum × 10000 / (10^8 / (10^18 × (10^78 − 1)))) =
// MaxSum × 10^14 × (10^78 − 1), 111 digits (docs/proofs.md §1).
const MaxCoverageDigits = 111

// CoverageBps is a coverage in basis points, a non-negative integer of at
// most MaxCoverageDigits digits, a canonical decimal string in JSON.
type CoverageBps struct{ big.Int }

// NewCoverageBps returns a CoverageBps holding v.
func NewCoverageBps(v *big.Int) CoverageBps {
	var b CoverageBps
	b.Set(v)
	return b
}

// MarshalJSON encodes the integer as a decimal string.
func (b CoverageBps) MarshalJSON() ([]byte, error) { return BigInt(b).MarshalJSON() }

// UnmarshalJSON decodes a canonical decimal string of at most
// MaxCoverageDigits digits.
func (b *CoverageBps) UnmarshalJSON(data []byte) error {
	return unmarshalBig(&b.Int, data, MaxCoverageDigits)
}

// unmarshalBig decodes a canonical decimal string of at most max digits
// into b.
func unmarshalBig(b *big.Int, data []byte, max int) error {
	s, err := unquoteDecimal(data)
	if err != nil {
		return err
	}
	if len(s) > max {
		return fmt.Errorf("integer of %d digits is too long", len(s))
	}
	if _, ok := b.SetString(s, 10); !ok {
		return fmt.Errorf("%q is not a decimal integer", s)
	}
	return nil
}

// unquoteDecimal checks that b is a JSON string of decimal digits with no
// leading zero (unless it is "0") and returns the digits.
func unquoteDecimal(b []byte) (string, error) {
	if len(b) < 3 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", fmt.Errorf("amount %s is not a decimal string", b)
	}
	s := string(b[1 : len(b)-1])
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", fmt.Errorf("amount %q is not a decimal integer", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return "", fmt.Errorf("amount %q has a leading zero", s)
	}
	return s, nil
}

// TimeLayout is the only accepted form of a time in Kosh's documents:
// RFC 3339, UTC, whole seconds, "Z".
const TimeLayout = "2006-01-02T15:04:05Z"

// ParseTime parses a time in TimeLayout.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil || t.Format(TimeLayout) != s {
		return time.Time{}, failure.New(failure.ErrMalformed, "time %q is not an RFC 3339 UTC time of the form 2006-01-02T15:04:05Z", s)
	}
	return t, nil
}

// IsLowerHex reports whether s is exactly n lower-case hex digits.
func IsLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
