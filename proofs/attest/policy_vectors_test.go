package attest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// policyPath is the shared vector file of the holder's policy
// (docs/proofs.md §4.6 and §8.2): signed documents, each with the verdict
// of a holder's policy that Go (verify.Policy.Check) and the browser
// (verify.js checkPolicy) must both give, sentence for sentence.
const policyPath = "../../testdata/policy/vectors.json"

// policyFile is the layout of testdata/policy/vectors.json; the reader in
// proofs/verify (policy_test.go) and web/testdata/vectors.js read the same.
type policyFile struct {
	Comment  string         `json:"comment"`
	Defaults policyParams   `json:"defaults"`
	Cases    []policyCase   `json:"cases"`
	Ratios   []policyRatio  `json:"ratios"`
	Formats  []policyFormat `json:"formats"`
	Ages     []policyAge    `json:"ages"`
}

type policyParams struct {
	MinCoverageBps     int64 `json:"min_coverage_bps"`
	MaxPriceAgeSeconds int64 `json:"max_price_age_seconds"`
	MaxBehind          int64 `json:"max_behind,omitempty"`
}

type policyCase struct {
	Name   string       `json:"name"`
	Policy policyParams `json:"policy"`
	// Document is the signed canonical document.
	Document string `json:"document"`
	// Verifies says whether the document verifies (verify.Document); the
	// policy is judged on the parsed document either way.
	Verifies     bool     `json:"verifies"`
	Failures     []string `json:"failures"`
	Warnings     []string `json:"warnings"`
	Declarations []string `json:"declarations"`
	// CoverageBps is the holder's coverage, "" when nothing is outstanding.
	CoverageBps string `json:"coverage_bps"`
	Summary     string `json:"summary"`
}

type policyRatio struct {
	Text  string `json:"text"`
	Bps   int64  `json:"bps"`
	Error string `json:"error"`
}

type policyFormat struct {
	Bps  string `json:"bps"`
	Text string `json:"text"`
}

type policyAge struct {
	Seconds int64  `json:"seconds"`
	Text    string `json:"text"`
}

func (p policyParams) policy() verify.Policy {
	return verify.Policy{MinCoverageBps: p.MinCoverageBps, MaxPriceAge: time.Duration(p.MaxPriceAgeSeconds) * time.Second, MaxBehind: p.MaxBehind}
}

// policyVerdict fills c's verdict from its document and policy.
func policyVerdict(t *testing.T, c *policyCase) {
	t.Helper()
	a, err := attest.Parse([]byte(c.Document))
	if err != nil {
		t.Fatalf("policy case %q: %v", c.Name, err)
	}
	c.Verifies = verify.Attestation(a) == nil
	v := c.Policy.policy().Check(a)
	c.Failures, c.Warnings, c.Declarations = []string{}, v.Warnings, v.Declarations
	for _, f := range v.Failures {
		c.Failures = append(c.Failures, f.Msg)
		if !errors.Is(f, attest.ErrPolicy) {
			t.Errorf("policy case %q: failure %q is not an ErrPolicy", c.Name, f.Msg)
		}
	}
	if c.Warnings == nil {
		c.Warnings = []string{}
	}
	c.CoverageBps = ""
	if v.CoverageBps != nil {
		c.CoverageBps = v.CoverageBps.String()
	}
	c.Summary = v.Summary
}

// sourced gives a's asset INR a price made from three oracle sources (the
// lower median of 8,123,456.78, 8,123,456.78 and 8,200,000.000 INR per
// BTC), its time the oldest quote's, age before the attestation's time.
func sourced(t testing.TB, a *attest.Attestation, age time.Duration) {
	t.Helper()
	at, err := attest.ParseTime(a.Time)
	if err != nil {
		t.Fatal(err)
	}
	ts := func(d time.Duration) string { return at.Add(-d).Format(attest.TimeLayout) }
	pr := inrPrice(t, a)
	pr.Manual = false
	pr.Time = ts(age)
	pr.Sources = []attest.PriceSource{
		{Name: "exchange-a", Coefficient: attest.NewBigInt(big.NewInt(812345678)), Scale: 2, Time: ts(age)},
		{Name: "exchange-b", Coefficient: attest.NewBigInt(big.NewInt(812345678)), Scale: 2, Time: ts(age / 2)},
		{Name: "exchange-c", Coefficient: attest.NewBigInt(big.NewInt(8200000000)), Scale: 3, Time: ts(age / 4)},
	}
	// The spread: the largest deviation from the price, rounded up.
	p := pr.Rat()
	pr.SpreadBps = 0
	for _, s := range pr.Sources {
		d := new(big.Rat).Sub(s.Rat(), p)
		d.Abs(d).Mul(d, big.NewRat(attest.BasisPoints, 1)).Quo(d, p)
		pr.SpreadBps = max(pr.SpreadBps, attest.CeilRat(d).Int64())
	}
}

func inrPrice(t testing.TB, a *attest.Attestation) *attest.Price {
	t.Helper()
	for i := range a.Assets {
		if a.Assets[i].Code == "INR" && a.Assets[i].Price != nil {
			return a.Assets[i].Price
		}
	}
	t.Fatal("the fixture has no INR price")
	return nil
}

func buildPolicyVectors(t *testing.T) *policyFile {
	v1 := buildChain(t)[2].a
	v2 := buildChainVersion(t, 2)
	// edit copies base, applies f, recomputes every figure and re-signs, so
	// that the document verifies (unless f breaks a rule on purpose).
	edit := func(base *attest.Attestation, f func(a *attest.Attestation)) string {
		a := clone(t, base)
		f(a)
		if err := a.Fill(); err != nil {
			t.Fatal(err)
		}
		resign(t, a)
		return string(mustMarshal(t, a))
	}
	base := v2[1].a // attestation 2 of the version 2 chain: not stale
	at, err := attest.ParseTime(base.Time)
	if err != nil {
		t.Fatal(err)
	}
	good := edit(base, func(a *attest.Attestation) { sourced(t, a, 2*time.Minute) })
	ga, err := verify.Document([]byte(good))
	if err != nil {
		t.Fatalf("the sourced document does not verify: %v", err)
	}
	bps := ga.Coverage.Bps.Int64()
	def := policyParams{MinCoverageBps: verify.DefaultMinCoverageBps, MaxPriceAgeSeconds: int64(verify.DefaultMaxPriceAge / time.Second)}
	with := func(minBps, ageSecs int64) policyParams {
		p := def
		if minBps >= 0 {
			p.MinCoverageBps = minBps
		}
		if ageSecs >= 0 {
			p.MaxPriceAgeSeconds = ageSecs
		}
		return p
	}
	nothingCounted := func(a *attest.Attestation) {
		sourced(t, a, 2*time.Minute)
		a.Counting.Onchain.Counts = false
		a.Counting.Lightning.Counts = false
		a.Counting.LightningClaimed = &attest.ClassRule{Counts: false}
		for i := range a.Assets {
			a.Assets[i].MinCoverageBps = 0
		}
	}
	manual := func(age time.Duration) func(a *attest.Attestation) {
		return func(a *attest.Attestation) {
			pr := inrPrice(t, a)
			pr.Manual, pr.Sources, pr.SpreadBps = true, nil, 0
			pr.Time = at.Add(-age).Format(attest.TimeLayout)
		}
	}
	cases := []policyCase{
		{Name: "sourced price, covered", Policy: def, Document: good},
		{Name: "holder minimum equal to the coverage", Policy: with(bps, -1), Document: good},
		{Name: "holder minimum one basis point above the coverage", Policy: with(bps+1, -1), Document: good},
		{Name: "holder minimum 1.50", Policy: with(15000, -1), Document: good},
		{Name: "issuer minimum 0 and nothing counted, which the issuer calls backed", Policy: def, Document: edit(base, nothingCounted)},
		{Name: "issuer minimum 0 and nothing counted, holder minimum 0", Policy: with(0, -1), Document: edit(base, nothingCounted)},
		{Name: "price not manual, no sources (as the attestation vectors)", Policy: def, Document: string(mustMarshal(t, base))},
		{Name: "version 1, price not manual, no sources (testdata/attest/latest.json)", Policy: def, Document: string(mustMarshal(t, v1))},
		{Name: "manual price, 10 minutes old", Policy: def, Document: edit(base, manual(10*time.Minute))},
		{Name: "manual price, 2 hours old", Policy: def, Document: edit(base, manual(2*time.Hour))},
		{Name: "price exactly 1 hour old", Policy: def, Document: edit(base, func(a *attest.Attestation) { sourced(t, a, time.Hour) })},
		{Name: "price 1 hour and 1 second old", Policy: def, Document: edit(base, func(a *attest.Attestation) { sourced(t, a, time.Hour+time.Second) })},
		{Name: "price time fresh, one source 2 hours old", Policy: def, Document: edit(base, func(a *attest.Attestation) {
			sourced(t, a, 2*time.Minute)
			inrPrice(t, a).Sources[1].Time = at.Add(-2 * time.Hour).Format(attest.TimeLayout)
		})},
		{Name: "one source 2 hours old, holder limit 3 hours", Policy: with(-1, 3*3600), Document: edit(base, func(a *attest.Attestation) {
			sourced(t, a, 2*time.Minute)
			inrPrice(t, a).Sources[1].Time = at.Add(-2 * time.Hour).Format(attest.TimeLayout)
		})},
		{Name: "price dated after the attestation", Policy: def, Document: edit(base, func(a *attest.Attestation) {
			sourced(t, a, 2*time.Minute)
			inrPrice(t, a).Time = at.Add(time.Second).Format(attest.TimeLayout)
		})},
		{Name: "source dated after the attestation", Policy: def, Document: edit(base, func(a *attest.Attestation) {
			sourced(t, a, 2*time.Minute)
			inrPrice(t, a).Sources[2].Time = at.Add(90 * time.Minute).Format(attest.TimeLayout)
		})},
		{Name: "nothing outstanding", Policy: def, Document: edit(base, func(a *attest.Attestation) {
			sourced(t, a, 2*time.Minute)
			for i := range a.Assets {
				a.Assets[i].Liabilities.Total, a.Assets[i].Liabilities.Accounts = 0, 0
			}
		})},
		{Name: "stale, as the issuer declares", Policy: def, Document: edit(v2[2].a, func(a *attest.Attestation) { sourced(t, a, 2*time.Minute) })},
		// Not a valid document (4.3 forbids it): the policy refuses it all
		// the same, whoever calls it.
		{Name: "channel counted with 0 confirmations", Policy: def, Document: edit(base, func(a *attest.Attestation) {
			sourced(t, a, 2*time.Minute)
			for i, c := range a.Reserves.Lightning[0].Channels {
				if c.Counted > 0 {
					a.Reserves.Lightning[0].Channels[i].Confirmations = 0
				}
			}
		})},
	}
	f := &policyFile{
		Comment: "The holder's policy (docs/proofs.md §4.6): each signed document with the verdict Go (verify.Policy.Check) and the browser " +
			"(verify.js checkPolicy) both give under the case's policy: failures, warnings and the issuer's declarations, sentence for sentence; " +
			"ratios (a holder's minimum coverage as typed), formats (basis points as shown) and ages. " +
			"Regenerate: go test ./proofs/attest -run TestPolicyVectors -update",
		Defaults: policyParams{MinCoverageBps: verify.DefaultMinCoverageBps, MaxPriceAgeSeconds: int64(verify.DefaultMaxPriceAge / time.Second),
			MaxBehind: verify.DefaultMaxBehind},
	}
	for _, c := range cases {
		policyVerdict(t, &c)
		f.Cases = append(f.Cases, c)
	}
	for _, s := range []string{"1", "1.00", "1.5", "0.9750", "0", "0.0001", "100", "100.0000", "1.23456", "", ".5", "1.", "-1", "+1", "100.0001", "1e2", " 1", "1,00", "1000"} {
		r := policyRatio{Text: s}
		b, err := verify.ParseRatio(s)
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Bps = b
		}
		f.Ratios = append(f.Ratios, r)
	}
	for _, s := range []string{"0", "1", "9500", "10000", "10001", "12340", "15042", "1000000", "123456789012345678901234567890"} {
		b, _ := new(big.Int).SetString(s, 10)
		f.Formats = append(f.Formats, policyFormat{Bps: s, Text: verify.FormatRatio(b)})
	}
	for _, s := range []int64{0, 1, 59, 60, 61, 3600, 3601, 3660, 5400, 90061, 86400 * 365} {
		f.Ages = append(f.Ages, policyAge{Seconds: s, Text: verify.FormatAge(s)})
	}
	return f
}

// TestPolicyVectors regenerates testdata/policy/vectors.json and compares
// it byte for byte (-update rewrites it), then checks that the verdicts
// are what the policy is meant to say, so that -update cannot pin a bug
// unnoticed.
func TestPolicyVectors(t *testing.T) {
	f := buildPolicyVectors(t)
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(policyPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(policyPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(policyPath)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, out) {
		t.Fatalf("%s differs from what the code produces (run with -update after checking why)", policyPath)
	}
	// What each case must say, independently of the sentences' wording.
	want := map[string]struct {
		failures, warnings int
		verifies           bool
	}{
		"sourced price, covered":                                                {0, 0, true},
		"holder minimum equal to the coverage":                                  {0, 0, true},
		"holder minimum one basis point above the coverage":                     {2, 0, true}, // INR and SAT
		"holder minimum 1.50":                                                   {2, 0, true},
		"issuer minimum 0 and nothing counted, which the issuer calls backed":   {2, 0, true},
		"issuer minimum 0 and nothing counted, holder minimum 0":                {0, 0, true},
		"price not manual, no sources (as the attestation vectors)":             {1, 0, true},
		"version 1, price not manual, no sources (testdata/attest/latest.json)": {1, 0, true},
		"manual price, 10 minutes old":                                          {0, 1, true},
		"manual price, 2 hours old":                                             {1, 1, true},
		"price exactly 1 hour old":                                              {0, 0, true},
		"price 1 hour and 1 second old":                                         {2, 0, true}, // the price and its oldest source
		"price time fresh, one source 2 hours old":                              {1, 0, true},
		"one source 2 hours old, holder limit 3 hours":                          {0, 0, true},
		"price dated after the attestation":                                     {1, 0, true},
		"source dated after the attestation":                                    {1, 0, true},
		"nothing outstanding":                                                   {0, 0, true},
		"stale, as the issuer declares":                                         {0, 0, true},
		"channel counted with 0 confirmations":                                  {1, 0, false},
	}
	if len(want) != len(f.Cases) {
		t.Errorf("%d cases, %d expectations", len(f.Cases), len(want))
	}
	for _, c := range f.Cases {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("case %q has no expectation", c.Name)
			continue
		}
		if len(c.Failures) != w.failures || len(c.Warnings) != w.warnings || c.Verifies != w.verifies {
			t.Errorf("case %q: %d failures %q, %d warnings %q, verifies %v; want %d, %d, %v",
				c.Name, len(c.Failures), c.Failures, len(c.Warnings), c.Warnings, c.Verifies, w.failures, w.warnings, w.verifies)
		}
		if (c.Summary == "") != (len(c.Failures) > 0) {
			t.Errorf("case %q: summary %q with %d failures", c.Name, c.Summary, len(c.Failures))
		}
	}
}
