package web

import (
	"testing"
	"time"
)

func TestFormatDecimal(t *testing.T) {
	for _, c := range []struct {
		in   string
		dec  int
		want string
	}{
		{"123456789", 8, "1.23456789"},
		{"0", 8, "0.00000000"},
		{"1", 8, "0.00000001"},
		{"100000000", 8, "1.00000000"},
		{"2100000000000000", 8, "21,000,000.00000000"},
		{"9223372036854775807", 8, "92,233,720,368.54775807"},
		{"123456", 2, "1,234.56"},
		{"5", 2, "0.05"},
		{"1234567", 0, "1,234,567"},
		{"999", 0, "999"},
		{"1000", 0, "1,000"},
		{"-150", 2, "-1.50"},
		{"007", 2, "0.07"},
		{"12a", 2, "12a"},
	} {
		if got := FormatDecimal(c.in, c.dec); got != c.want {
			t.Errorf("FormatDecimal(%q, %d) = %q, want %q", c.in, c.dec, got, c.want)
		}
	}
}

func TestFormatters(t *testing.T) {
	eq := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	eq(FormatBTC(123456789), "1.23456789 BTC")
	eq(FormatSats(123456789), "123,456,789 sats")
	eq(FormatSats(1), "1 sat")
	eq(FormatInt(-1234567), "-1,234,567")
	eq(FormatUnits(26234568, 2), "262,345.68")
	eq(FormatRatio(11598), "1.15")
	eq(FormatRatio(15000), "1.50")
	eq(FormatRatio(99), "0.00")
	eq(FormatRatio(123456789), "12,345.67")
	eq(FormatPercent(11598), "115.98%")
	eq(FormatPrice("812345678", 2, "INR", 2), "INR 8,123,456.78")
	eq(FormatPrice("8123456789", 3, "INR", 2), "INR 8,123,456.78")
	eq(FormatPrice("81234567", 0, "USD", 2), "USD 81,234,567.00")
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	eq(FormatAge(now.Add(-17*time.Minute), now), "17 min ago")
	eq(FormatAge(now.Add(-(3*time.Hour+12*time.Minute)), now), "3 h 12 min ago")
	eq(FormatAge(now.Add(-50*time.Hour), now), "2 d 2 h ago")
	eq(FormatAge(now.Add(-42*time.Second), now), "42 s ago")
	eq(FormatAge(time.Time{}, now), "never")
}

func TestAssetStatus(t *testing.T) {
	for _, c := range []struct {
		a    Asset
		want Status
	}{
		{Asset{Supply: 10, CoverageBps: 10000, MinCoverageBps: 10000}, StatusBacked},
		{Asset{Supply: 10, CoverageBps: 9999, MinCoverageBps: 10000}, StatusUnderBacked},
		{Asset{Supply: 10, CoverageBps: 16000, MinCoverageBps: 15000, WarnCoverageBps: 17500}, StatusWarning},
		{Asset{Supply: 10, CoverageBps: 20000, MinCoverageBps: 15000, Stale: true}, StatusStale},
		{Asset{Supply: 10, CoverageBps: 20000, MinCoverageBps: 15000, Price: &Price{Stale: true}}, StatusStale},
		{Asset{Supply: 0, CoverageBps: 0, MinCoverageBps: 15000}, StatusBacked},
	} {
		if got := AssetStatus(&c.a); got != c.want {
			t.Errorf("AssetStatus(%+v) = %s, want %s", c.a, got, c.want)
		}
	}
}
