package money

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/money/vectors.json from math/big")

// vectorPath is the file this test and proofs/attest's TestMoneyVectors
// both check: the verifier keeps its own copy of the units-to-sats rule.
const vectorPath = "../testdata/money/vectors.json"

// vectorFile is the layout of testdata/money/vectors.json. Every number is
// a decimal string, so readers without 64-bit integers lose nothing.
type vectorFile struct {
	About       []string      `json:"about"`
	UnitsToSats []convVector  `json:"units_to_sats"`
	SatsToUnits []convVector  `json:"sats_to_units"`
	Round       []roundVector `json:"round"`
	Deviation   []devVector   `json:"deviation_bps"`
}

// devVector is a source's price against the quoted price, both
// coefficient / 10^scale, and Bps = ceil(|source − price| × 10000 / price)
// as a decimal of any size (beyond int64, DeviationBps saturates and the
// verifier refuses the spread).
type devVector struct {
	Price       string `json:"price_coefficient"`
	PriceScale  int    `json:"price_scale"`
	Source      string `json:"source_coefficient"`
	SourceScale int    `json:"source_scale"`
	Bps         string `json:"bps"`
}

// convVector is one conversion: Amount (units or sats) at the price
// Coefficient / 10^Scale with Decimals. Exact is the value as a reduced
// fraction "num/den"; Floor and Ceil are it rounded, as decimal integers of
// any size (a result beyond int64 must fail as an overflow). Error, when
// set, names an input the conversion refuses instead: "negative",
// "invalid_price" (not positive) or "out_of_range" (scale or decimals
// above 18).
type convVector struct {
	Name        string `json:"name"`
	Amount      string `json:"amount"`
	Coefficient string `json:"coefficient"`
	Scale       int    `json:"scale"`
	Decimals    int    `json:"decimals"`
	Exact       string `json:"exact,omitempty"`
	Floor       string `json:"floor,omitempty"`
	Ceil        string `json:"ceil,omitempty"`
	Error       string `json:"error,omitempty"`
}

// roundVector is one rational Num/Den (Den > 0) and its floor and ceiling.
type roundVector struct {
	Num   string `json:"num"`
	Den   string `json:"den"`
	Floor string `json:"floor"`
	Ceil  string `json:"ceil"`
}

const maxInt64 = "9223372036854775807"

// vectorInputs are the cases; -update computes their answers with big.Rat
// from decimal text, independently of this package.
var vectorInputs = vectorFile{
	About: []string{
		"Money arithmetic shared by package money and the verifier (proofs/attest), checked by the tests of both.",
		"units_to_sats: sats = amount × 10^8 × 10^scale / (10^decimals × coefficient); sats_to_units: units = amount × coefficient × 10^decimals / (10^8 × 10^scale).",
		"exact is the reduced fraction; floor and ceil are it rounded down and up. A checked conversion returns them when they fit in int64 and fails with an overflow otherwise.",
		"Liabilities become sats rounded up (ceil); reserves become units rounded down (floor): always against the issuer.",
		"error names an input refused instead: negative, invalid_price (coefficient not positive), out_of_range (scale or decimals above 18).",
		"deviation_bps: ceil(|source − price| × 10000 / price), the spread of an oracle source from the quoted price; beyond int64 the oracle saturates and the verifier refuses the spread.",
		"Regenerate with: go test ./money -run TestVectors -update",
	},
	UnitsToSats: []convVector{
		{Name: "zero units", Amount: "0", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "one rupee at INR 6543210.12", Amount: "100", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "exactly one bitcoin", Amount: "654321012", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "one bitcoin and one paisa", Amount: "654321013", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "a third of a sat boundary", Amount: "1", Coefficient: "3", Scale: 0, Decimals: 0},
		{Name: "one unit at a 30-digit price", Amount: "1", Coefficient: "999999999999999999999999999999", Scale: 0, Decimals: 0},
		{Name: "max scale and decimals", Amount: "1", Coefficient: "1", Scale: 18, Decimals: 18},
		{Name: "one whole unit of 18 decimals", Amount: "1000000000000000000", Coefficient: "1", Scale: 0, Decimals: 18},
		{Name: "max units at one sat per unit", Amount: maxInt64, Coefficient: "100000000", Scale: 0, Decimals: 0},
		{Name: "floor is max-1, ceil is max", Amount: "9223372036854775797", Coefficient: "999999999999999999", Scale: 18, Decimals: 8},
		{Name: "floor is max, ceil overflows", Amount: "9223372036854775798", Coefficient: "999999999999999999", Scale: 18, Decimals: 8},
		{Name: "max units just over one sat per unit", Amount: maxInt64, Coefficient: "9999999999999999", Scale: 8, Decimals: 0},
		{Name: "max units at a tiny price", Amount: maxInt64, Coefficient: "1", Scale: 18, Decimals: 0},
		{Name: "zero price", Amount: "1", Coefficient: "0", Scale: 2, Decimals: 2, Error: "invalid_price"},
		{Name: "scale 19", Amount: "1", Coefficient: "1", Scale: 19, Decimals: 2, Error: "out_of_range"},
		{Name: "decimals 19", Amount: "1", Coefficient: "1", Scale: 2, Decimals: 19, Error: "out_of_range"},
		{Name: "negative units", Amount: "-1", Coefficient: "654321012", Scale: 2, Decimals: 2, Error: "negative"},
	},
	SatsToUnits: []convVector{
		{Name: "zero sats", Amount: "0", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "one bitcoin in paise", Amount: "100000000", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "one sat in paise", Amount: "1", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "fifty sats in paise", Amount: "50", Coefficient: "654321012", Scale: 2, Decimals: 2},
		{Name: "just below a whole unit", Amount: "12345", Coefficient: "9999999999999999", Scale: 8, Decimals: 0},
		{Name: "max sats at one unit per sat", Amount: maxInt64, Coefficient: "100000000", Scale: 0, Decimals: 0},
		{Name: "floor is max, ceil overflows", Amount: maxInt64, Coefficient: "100000000000000000000000001", Scale: 18, Decimals: 0},
		{Name: "max sats just over one unit per sat", Amount: maxInt64, Coefficient: "10000000000000001", Scale: 8, Decimals: 0},
		{Name: "all bitcoin at a 30-digit price, 18 decimals", Amount: "2100000000000000", Coefficient: "999999999999999999999999999999", Scale: 0, Decimals: 18},
		{Name: "max scale and decimals", Amount: "1", Coefficient: "1", Scale: 18, Decimals: 18},
		{Name: "zero price", Amount: "1", Coefficient: "0", Scale: 2, Decimals: 2, Error: "invalid_price"},
		{Name: "scale 19", Amount: "1", Coefficient: "1", Scale: 19, Decimals: 2, Error: "out_of_range"},
		{Name: "decimals 19", Amount: "1", Coefficient: "1", Scale: 2, Decimals: 19, Error: "out_of_range"},
		{Name: "negative sats", Amount: "-1", Coefficient: "654321012", Scale: 2, Decimals: 2, Error: "negative"},
	},
	Round: []roundVector{
		{Num: "0", Den: "1"}, {Num: "3", Den: "2"}, {Num: "-3", Den: "2"}, {Num: "7", Den: "1"},
		{Num: "-7", Den: "1"}, {Num: "1", Den: "1000000000000000000000000000000"},
		{Num: "9223372036854775808", Den: "1"}, {Num: "18446744073709551615", Den: "2"},
		{Num: "-1", Den: "3"},
	},
	Deviation: []devVector{
		{Price: "10000", Source: "10000"},
		{Price: "150", PriceScale: 2, Source: "15", SourceScale: 1},
		{Price: "10000", Source: "10100"},
		{Price: "10000", Source: "1010001", SourceScale: 2},
		{Price: "10000", Source: "989999", SourceScale: 2},
		{Price: "654321012", PriceScale: 2, Source: "6540000", SourceScale: 0},
		{Price: "1", Source: "922337203685478"},
		{Price: "1", Source: "922337203685479"},
		{Price: "1", PriceScale: 18, Source: "999999999999999999999999999999"},
	},
}

// answer fills v's exact value and roundings with big.Rat from text.
func answer(v *convVector, sats bool) {
	if v.Error != "" {
		return
	}
	r := rat(v.Amount)
	price := rat(fmt.Sprintf("%se-%d", v.Coefficient, v.Scale))
	tenD := rat(fmt.Sprintf("1e%d", v.Decimals))
	if sats {
		r.Mul(r, price).Mul(r, tenD).Quo(r, rat("1e8"))
	} else {
		r.Mul(r, rat("1e8")).Quo(r, tenD).Quo(r, price)
	}
	v.Exact = r.Num().String() + "/" + r.Denom().String()
	fl, ce := floorCeil(r)
	v.Floor, v.Ceil = fl.String(), ce.String()
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad number " + s)
	}
	return r
}

// floorCeil rounds r with Euclidean division (the denominator is positive).
func floorCeil(r *big.Rat) (*big.Int, *big.Int) {
	fl := new(big.Int).Div(r.Num(), r.Denom())
	ce := new(big.Int).Neg(new(big.Int).Div(new(big.Int).Neg(r.Num()), r.Denom()))
	return fl, ce
}

func TestVectors(t *testing.T) {
	if *update {
		f := vectorInputs
		for i := range f.UnitsToSats {
			answer(&f.UnitsToSats[i], false)
		}
		for i := range f.SatsToUnits {
			answer(&f.SatsToUnits[i], true)
		}
		for i := range f.Round {
			fl, ce := floorCeil(rat(f.Round[i].Num + "/" + f.Round[i].Den))
			f.Round[i].Floor, f.Round[i].Ceil = fl.String(), ce.String()
		}
		for i := range f.Deviation {
			v := &f.Deviation[i]
			p, q := rat(fmt.Sprintf("%se-%d", v.Price, v.PriceScale)), rat(fmt.Sprintf("%se-%d", v.Source, v.SourceScale))
			d := new(big.Rat).Sub(q, p)
			d.Abs(d).Mul(d, rat("10000")).Quo(d, p)
			_, ce := floorCeil(d)
			v.Bps = ce.String()
		}
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(vectorPath)
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.UnitsToSats) == 0 || len(f.SatsToUnits) == 0 || len(f.Round) == 0 || len(f.Deviation) == 0 {
		t.Fatal("empty vector file")
	}
	for _, v := range f.UnitsToSats {
		checkConv(t, "units_to_sats", v, UnitsInSats, UnitsToSats)
	}
	for _, v := range f.SatsToUnits {
		checkConv(t, "sats_to_units", v, SatsInUnits, SatsToUnits)
	}
	for _, v := range f.Round {
		r := rat(v.Num + "/" + v.Den)
		if fl, ce := Round(r, Floor), Round(r, Ceil); fl.String() != v.Floor || ce.String() != v.Ceil {
			t.Errorf("Round(%s/%s) = %s, %s; want %s, %s", v.Num, v.Den, fl, ce, v.Floor, v.Ceil)
		}
	}
	for _, v := range f.Deviation {
		p, _ := new(big.Int).SetString(v.Price, 10)
		q, _ := new(big.Int).SetString(v.Source, 10)
		want, _ := new(big.Int).SetString(v.Bps, 10)
		if !want.IsInt64() {
			want.SetInt64(1<<63 - 1)
		}
		got := DeviationBps(Price{Coefficient: q, Scale: uint8(v.SourceScale)}, Price{Coefficient: p, Scale: uint8(v.PriceScale)})
		if got != want.Int64() {
			t.Errorf("DeviationBps(%se-%d, %se-%d) = %d, want %s", v.Source, v.SourceScale, v.Price, v.PriceScale, got, want)
		}
	}
}

func checkConv(t *testing.T, kind string, v convVector,
	exact func(int64, Price, uint32) (*big.Rat, error),
	conv func(int64, Price, uint32, Rounding) (int64, error)) {
	t.Helper()
	amount, err := parseInt64(v.Amount)
	if err != nil {
		t.Fatalf("%s %q: %v", kind, v.Name, err)
	}
	c, _ := new(big.Int).SetString(v.Coefficient, 10)
	p := Price{Coefficient: c, Scale: uint8(v.Scale)}
	for _, r := range []Rounding{Floor, Ceil} {
		got, err := conv(amount, p, uint32(v.Decimals), r)
		if v.Error != "" {
			if err == nil || errors.Is(err, ErrOverflow) || v.Error == "invalid_price" && !errors.Is(err, ErrInvalidPrice) {
				t.Errorf("%s %q %s: got %d, %v; want a %s error", kind, v.Name, r, got, err, v.Error)
			}
			continue
		}
		want, _ := new(big.Int).SetString(map[Rounding]string{Floor: v.Floor, Ceil: v.Ceil}[r], 10)
		if !want.IsInt64() {
			if !errors.Is(err, ErrOverflow) {
				t.Errorf("%s %q %s: got %d, %v; want overflow (%s)", kind, v.Name, r, got, err, want)
			}
			continue
		}
		if err != nil || got != want.Int64() {
			t.Errorf("%s %q %s: got %d, %v; want %s", kind, v.Name, r, got, err, want)
		}
	}
	if v.Error == "" {
		if e, err := exact(amount, p, uint32(v.Decimals)); err != nil || e.Num().String()+"/"+e.Denom().String() != v.Exact {
			t.Errorf("%s %q: exact %v, %v; want %s", kind, v.Name, e, err, v.Exact)
		}
	}
}

func parseInt64(s string) (int64, error) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || !n.IsInt64() {
		return 0, fmt.Errorf("amount %q is not an int64", s)
	}
	return n.Int64(), nil
}
