package jcs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FormatNumber returns the RFC 8785 serialization of f, which is the
// ECMAScript Number-to-String conversion (ECMA-262, Number::toString with
// radix 10): -0 is "0"; with s the shortest decimal digit string that reads
// back as f, k its length and n the position of the decimal point
// (f = 0.s × 10^n), the result is s followed by n-k zeros when k ≤ n ≤ 21,
// s with a decimal point inserted when 0 < n ≤ 21, "0." followed by -n zeros
// and s when -6 < n ≤ 0, and exponential notation ("1e+21", "1.5e-7")
// otherwise. NaN and ±Inf have no JSON form and return an error wrapping
// ErrNumber.
func FormatNumber(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("jcs: %v has no JSON representation: %w", f, ErrNumber)
	}
	return string(appendNumber(nil, f)), nil
}

// appendNumber appends the ECMAScript form of the finite double f.
func appendNumber(b []byte, f float64) []byte {
	if f == 0 { // +0 and -0
		return append(b, '0')
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	// Shortest round-trip digits in the form d.ddddde±XX; strconv picks,
	// among the shortest, the digit string closest to f, as ECMA-262 asks.
	e := strconv.AppendFloat(nil, f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(string(e), "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, err := strconv.Atoi(exp)
	if err != nil {
		panic("jcs: strconv produced exponent " + exp) // unreachable
	}
	k := len(digits)
	n := x + 1 // f = 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		b = append(b, digits...)
		for range n - k {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		b = append(b, digits[n:]...)
	case -6 < n && n <= 0:
		b = append(b, '0', '.')
		for range -n {
			b = append(b, '0')
		}
		b = append(b, digits...)
	default:
		b = append(b, digits[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if n-1 >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(n-1), 10)
	}
	return b
}
