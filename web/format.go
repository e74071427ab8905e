package web

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/money"
)

// Amounts are formatted from integers by string arithmetic only: money never
// passes through a float.

// groupDigits inserts a comma every three digits of a string of digits.
func groupDigits(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first > 0 {
		b.WriteString(digits[:first])
	}
	for i := first; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// FormatInt returns v with thousands separators: 1234567 → "1,234,567".
func FormatInt(v int64) string {
	s := strconv.FormatInt(v, 10)
	if v < 0 {
		return "-" + groupDigits(s[1:])
	}
	return groupDigits(s)
}

// FormatDecimal places a decimal point decimals digits from the right of a
// decimal integer string (an optional leading "-" and digits) and groups
// the integer part: ("123456789", 8) → "1.23456789", ("123456", 2) →
// "1,234.56". Every fractional digit is kept, so equal precision lines up.
// A string that is not a decimal integer is returned unchanged.
func FormatDecimal(digits string, decimals int) string {
	neg := strings.HasPrefix(digits, "-")
	if neg {
		digits = digits[1:]
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" || decimals < 0 {
		return digits
	}
	digits = strings.TrimLeft(digits, "0")
	if len(digits) <= decimals {
		digits = strings.Repeat("0", decimals-len(digits)+1) + digits
	}
	if digits == "" {
		digits = "0"
	}
	ip, fp := digits[:len(digits)-decimals], digits[len(digits)-decimals:]
	s := groupDigits(ip)
	if decimals > 0 {
		s += "." + fp
	}
	if neg && strings.Trim(digits, "0") != "" {
		s = "-" + s
	}
	return s
}

// FormatUnits formats v base units of an asset with the given decimals.
func FormatUnits(v int64, decimals int) string {
	return FormatDecimal(strconv.FormatInt(v, 10), decimals)
}

// FormatBTC formats sats as bitcoin: 123456789 → "1.23456789 BTC".
func FormatBTC(sats int64) string { return FormatUnits(sats, 8) + " BTC" }

// FormatSats formats sats with separators: 123456789 → "123,456,789 sats".
func FormatSats(sats int64) string {
	if sats == 1 {
		return "1 sat"
	}
	return FormatInt(sats) + " sats"
}

// FormatRatio formats basis points as a ratio with two decimals, rounded
// down (against the issuer): 15234 → "1.52".
func FormatRatio(bps int64) string {
	if bps < 0 {
		return "-" + FormatRatio(-bps)
	}
	return FormatDecimal(strconv.FormatInt(bps/100, 10), 2)
}

// FormatPercent formats basis points as a percentage with two decimals:
// 15234 → "152.34%".
func FormatPercent(bps int64) string { return FormatDecimal(strconv.FormatInt(bps, 10), 2) + "%" }

// FormatPrice formats the price of one bitcoin, coefficient / 10^scale
// units of currency, with the currency's decimals: ("500000000", 2, "INR",
// 2) → "INR 5,000,000.00". Extra precision is truncated, missing digits
// padded.
func FormatPrice(coefficient string, scale int, currency string, decimals int) string {
	c, ok := new(big.Int).SetString(coefficient, 10)
	if !ok || c.Sign() < 0 || scale < 0 || decimals < 0 {
		return currency + " " + coefficient + "e-" + strconv.Itoa(scale)
	}
	// value × 10^decimals = coefficient × 10^(decimals-scale)
	if decimals >= scale {
		c.Mul(c, money.Pow10(decimals-scale))
	} else {
		c.Quo(c, money.Pow10(scale-decimals))
	}
	return strings.TrimSpace(currency + " " + FormatDecimal(c.String(), decimals))
}

// FormatAge describes how long ago t was, at now: "just now", "42 s ago",
// "5 min ago", "3 h 12 min ago", "2 d 4 h ago".
func FormatAge(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in the future (clock skew)"
	}
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min ago", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%d d %d h ago", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

// FormatTime writes t in UTC, to the second.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// shortHex abbreviates a long hex string for narrow screens: first 8 … last 8.
func shortHex(s string) string {
	if len(s) <= 20 {
		return s
	}
	return s[:8] + "…" + s[len(s)-8:]
}
