package money

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in    string
		coef  string
		scale uint8
		err   string
	}{
		{"6543210.12", "654321012", 2, ""},
		{"6.54321012e6", "654321012", 2, ""},
		{"6.54321012E+6", "654321012", 2, ""},
		{"1.50", "150", 2, ""},
		{"1e3", "1000", 0, ""},
		{"0.0001", "1", 4, ""},
		{"100000", "100000", 0, ""},
		{"1e-18", "1", 18, ""},
		{"1.000000000000000000000e0", "1000000000000000000", 18, ""},
		{"123456789012345678901234567890", "123456789012345678901234567890", 0, ""},
		{"", "", 0, "empty"},
		{"0", "", 0, "is zero"},
		{"0.000", "", 0, "is zero"},
		{"0e5", "", 0, "is zero"},
		{"-1", "", 0, "negative"},
		{"+1", "", 0, "sign"},
		{"NaN", "", 0, "not a number"},
		{"nan", "", 0, "not a number"},
		{"Infinity", "", 0, "infinite"},
		{"-Inf", "", 0, "infinite"},
		{"0x10", "", 0, "unexpected"},
		{" 1", "", 0, "no digit before"},
		{"1 ", "", 0, "unexpected"},
		{"01", "", 0, "leading zero"},
		{".5", "", 0, "no digit before"},
		{"5.", "", 0, "no digit after"},
		{"1e", "", 0, "exponent"},
		{"1e+", "", 0, "exponent"},
		{"1e101", "", 0, "exponent out of range"},
		{"1e-9999", "", 0, "exponent out of range"},
		{"1e-19", "", 0, "decimal places"},
		{"1.0000000000000000001", "", 0, "decimal places"},
		{"1234567890123456789012345678901", "", 0, "digits"},
		{"1e30", "", 0, "too large"},
		{"1,5", "", 0, "unexpected"},
		{"١", "", 0, "no digit"},
		{strings.Repeat("1", 65), "", 0, "characters"},
	}
	for _, tc := range tests {
		p, err := ParsePrice(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalidPrice) {
				t.Errorf("ParsePrice(%q) = %v, %v; want error containing %q", tc.in, p, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePrice(%q): %v", tc.in, err)
			continue
		}
		if p.Coefficient.String() != tc.coef || p.Scale != tc.scale {
			t.Errorf("ParsePrice(%q) = %s/10^%d, want %s/10^%d", tc.in, p.Coefficient, p.Scale, tc.coef, tc.scale)
		}
	}
}

func TestParsePriceJSON(t *testing.T) {
	ok := map[string]string{
		`6543210.12`:     "6543210.12",
		`"6543210.12"`:   "6543210.12",
		` 6.54321012e6 `: "6543210.12",
		`"6.54321012e6"`: "6543210.12",
		`"1\u002e5"`:     "1.5",
		`1E2`:            "100",
		`"0.00000001"`:   "0.00000001",
		`123.4500`:       "123.4500",
	}
	for in, want := range ok {
		p, err := ParsePriceJSON([]byte(in))
		if err != nil || p.String() != want {
			t.Errorf("ParsePriceJSON(%s) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{`null`, `true`, `{}`, `[1]`, `"NaN"`, `"-5"`, `"`, ``, `" 1"`, `-0.5`} {
		if p, err := ParsePriceJSON([]byte(in)); err == nil {
			t.Errorf("ParsePriceJSON(%s) = %v, want error", in, p)
		}
	}
}

func TestPriceJSONRoundTrip(t *testing.T) {
	p := MustPrice("6543210.10")
	b, err := p.MarshalJSON()
	if err != nil || string(b) != `"6543210.10"` {
		t.Fatalf("MarshalJSON = %s, %v", b, err)
	}
	var q Price
	if err := q.UnmarshalJSON(b); err != nil || q.Cmp(p) != 0 || q.Scale != 2 {
		t.Fatalf("UnmarshalJSON = %v, %v", q, err)
	}
	if b, _ := (Price{}).MarshalJSON(); string(b) != "null" {
		t.Fatalf("zero price marshals as %s", b)
	}
}

func TestPriceStringCmp(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "0.05": "0.05", "1.50": "1.50", "1e-18": "0.000000000000000001", "12e3": "12000"} {
		if got := MustPrice(in).String(); got != want {
			t.Errorf("String(%s) = %s, want %s", in, got, want)
		}
	}
	if MustPrice("1.5").Cmp(MustPrice("1.50")) != 0 || MustPrice("1.49").Cmp(MustPrice("1.5")) != -1 || MustPrice("2").Cmp(MustPrice("1.999")) != 1 {
		t.Error("Cmp is wrong")
	}
	if (Price{}).String() != "no price" {
		t.Error("zero String")
	}
	if _, err := NewPrice(-1, 0); err == nil {
		t.Error("negative NewPrice accepted")
	}
	if _, err := NewPrice(1, 19); err == nil {
		t.Error("scale 19 accepted")
	}
	if err := (Price{Coefficient: new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil)}).Validate(); err == nil {
		t.Error("31-digit coefficient accepted")
	}
}

func TestShift(t *testing.T) {
	tests := []struct {
		in   string
		exp  int
		want string
		err  bool
	}{
		{"654321012", -2, "6543210.12", false},
		{"6543210.12", 0, "6543210.12", false},
		{"0.06543", 8, "6543000", false},
		{"1", -18, "0.000000000000000001", false},
		{"1", -19, "", true},
		{"100", -19, "0.00000000000000001", false}, // trailing zeros dropped to fit
		{"1e29", 1, "", true},
	}
	for _, tc := range tests {
		got, err := MustPrice(tc.in).Shift(tc.exp)
		if tc.err {
			if err == nil {
				t.Errorf("Shift(%s, %d) = %s, want error", tc.in, tc.exp, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Shift(%s, %d): %v", tc.in, tc.exp, err)
			continue
		}
		if got.Cmp(MustPrice(tc.want)) != 0 {
			t.Errorf("Shift(%s, %d) = %s, want %s", tc.in, tc.exp, got, tc.want)
		}
	}
}
