package verify

import (
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/proofs/attest"
)

// policyVectors is testdata/policy/vectors.json, written by proofs/attest
// TestPolicyVectors and read by the browser suite "policy" too.
const policyVectors = "../../testdata/policy/vectors.json"

type policyVectorFile struct {
	Defaults struct {
		MinCoverageBps     int64 `json:"min_coverage_bps"`
		MaxPriceAgeSeconds int64 `json:"max_price_age_seconds"`
		MaxBehind          int64 `json:"max_behind"`
	} `json:"defaults"`
	Cases []struct {
		Name   string `json:"name"`
		Policy struct {
			MinCoverageBps     int64 `json:"min_coverage_bps"`
			MaxPriceAgeSeconds int64 `json:"max_price_age_seconds"`
		} `json:"policy"`
		Document     string   `json:"document"`
		Verifies     bool     `json:"verifies"`
		Failures     []string `json:"failures"`
		Warnings     []string `json:"warnings"`
		Declarations []string `json:"declarations"`
		CoverageBps  string   `json:"coverage_bps"`
		Summary      string   `json:"summary"`
	} `json:"cases"`
	Ratios []struct {
		Text  string `json:"text"`
		Bps   int64  `json:"bps"`
		Error string `json:"error"`
	} `json:"ratios"`
	Formats []struct{ Bps, Text string } `json:"formats"`
	Ages    []struct {
		Seconds int64  `json:"seconds"`
		Text    string `json:"text"`
	} `json:"ages"`
}

// TestPolicyVectorFile reads the shared policy vectors as any other
// implementation would and checks every verdict with Policy.Check.
func TestPolicyVectorFile(t *testing.T) {
	b, err := os.ReadFile(policyVectors)
	if err != nil {
		t.Fatal(err)
	}
	var f policyVectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if d := DefaultPolicy(); f.Defaults.MinCoverageBps != d.MinCoverageBps || f.Defaults.MaxPriceAgeSeconds != int64(d.MaxPriceAge/time.Second) ||
		f.Defaults.MaxBehind != d.MaxBehind {
		t.Errorf("the file's defaults %+v are not DefaultPolicy %+v", f.Defaults, d)
	}
	if len(f.Cases) < 15 || len(f.Ratios) < 10 || len(f.Formats) < 5 || len(f.Ages) < 5 {
		t.Fatalf("%d cases, %d ratios, %d formats, %d ages: the file is truncated", len(f.Cases), len(f.Ratios), len(f.Formats), len(f.Ages))
	}
	for _, c := range f.Cases {
		a, err := Document([]byte(c.Document))
		if a == nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if (err == nil) != c.Verifies {
			t.Errorf("%s: verifies %v, want %v (%v)", c.Name, err == nil, c.Verifies, err)
		}
		p := Policy{MinCoverageBps: c.Policy.MinCoverageBps, MaxPriceAge: time.Duration(c.Policy.MaxPriceAgeSeconds) * time.Second}
		v := p.Check(a)
		var fails []string
		for _, e := range v.Failures {
			fails = append(fails, e.Msg)
			if !errors.Is(e, attest.ErrPolicy) {
				t.Errorf("%s: %q is not an ErrPolicy", c.Name, e.Msg)
			}
		}
		cov := ""
		if v.CoverageBps != nil {
			cov = v.CoverageBps.String()
		}
		if !slices.Equal(fails, c.Failures) || !slices.Equal(v.Warnings, c.Warnings) || !slices.Equal(v.Declarations, c.Declarations) ||
			cov != c.CoverageBps || v.Summary != c.Summary {
			t.Errorf("%s:\n failures %q\n want     %q\n warnings %q\n want     %q\n declarations %q\n want         %q\n coverage %s, want %s\n summary %q\n want    %q",
				c.Name, fails, c.Failures, v.Warnings, c.Warnings, v.Declarations, c.Declarations, cov, c.CoverageBps, v.Summary, c.Summary)
		}
		if (v.Err() == nil) != (len(c.Failures) == 0) {
			t.Errorf("%s: Err() is %v", c.Name, v.Err())
		}
	}
	for _, r := range f.Ratios {
		bps, err := ParseRatio(r.Text)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != r.Error || err == nil && bps != r.Bps {
			t.Errorf("ParseRatio(%q) = %d, %q; want %d, %q", r.Text, bps, got, r.Bps, r.Error)
		}
	}
	for _, r := range f.Formats {
		n, _ := new(big.Int).SetString(r.Bps, 10)
		if got := FormatRatio(n); got != r.Text {
			t.Errorf("FormatRatio(%s) = %q, want %q", r.Bps, got, r.Text)
		}
	}
	for _, r := range f.Ages {
		if got := FormatAge(r.Seconds); got != r.Text {
			t.Errorf("FormatAge(%d) = %q, want %q", r.Seconds, got, r.Text)
		}
	}
}

// TestPolicyRefusesWhatTheIssuerCallsBacked: an attestation in which the
// issuer set its minimum to 0 and counts nothing says "backed: true"; the
// holder's default policy refuses it, whatever the issuer's flag says.
func TestPolicyRefusesWhatTheIssuerCallsBacked(t *testing.T) {
	a := &attest.Attestation{Version: 1, Time: "2026-11-23T02:00:00Z",
		Assets: []attest.Asset{{Code: "SAT", Peg: attest.PegSat, MinCoverageBps: 0,
			Liabilities: attest.Liabilities{Total: 1_000, Accounts: 1, Height: 1}}}}
	cov, err := attest.ComputeCoverage(0, a.Assets)
	if err != nil || !cov.Backed {
		t.Fatalf("the issuer's own rule: backed %v, %v; the test needs a document the issuer calls backed", cov.Backed, err)
	}
	a.Coverage = cov
	v := DefaultPolicy().Check(a)
	if len(v.Failures) != 1 || !strings.Contains(v.Failures[0].Msg, "asset SAT is covered at 0.00") ||
		!slices.Contains(v.Declarations, "by those minimums the liabilities are backed (0 sats counted, 0 sats required)") {
		t.Errorf("failures %q, declarations %q", v.Failures, v.Declarations)
	}
}

// TestBehind: the attested block may be at most MaxBehind blocks behind
// the holder's tip; 0 turns the rule off.
func TestBehind(t *testing.T) {
	a := &attest.Attestation{Block: attest.Block{Height: 100}}
	for _, c := range []struct {
		maxBehind, tip int64
		want           string
	}{
		{6, 100, ""}, {6, 106, ""}, {6, 99, ""},
		{6, 107, "the attested block 100 is 7 blocks behind your node's tip 107, more than your limit of 6: the attestation is not recent"},
		{1, 102, "the attested block 100 is 2 blocks behind your node's tip 102, more than your limit of 1: the attestation is not recent"},
		{0, 100_000, ""},
	} {
		p := DefaultPolicy()
		p.MaxBehind = c.maxBehind
		got := ""
		if err := p.Behind(a, c.tip); err != nil {
			got = err.Msg
			if !errors.Is(err, attest.ErrPolicy) {
				t.Errorf("%q is not an ErrPolicy", got)
			}
		}
		if got != c.want {
			t.Errorf("max %d, tip %d: %q, want %q", c.maxBehind, c.tip, got, c.want)
		}
	}
}
