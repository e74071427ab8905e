package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// policyCase is one case of testdata/policy/vectors.json.
type policyCase struct {
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
	Summary      string   `json:"summary"`
}

// policyCases reads the shared policy vectors and writes each document to
// a file, returned by case name.
func policyCases(t *testing.T) (map[string]policyCase, map[string]string) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/policy/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []policyCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases, files := map[string]policyCase{}, map[string]string{}
	for i, c := range f.Cases {
		p := filepath.Join(dir, fmt.Sprintf("case-%02d.json", i))
		if err := os.WriteFile(p, []byte(c.Document), 0o644); err != nil {
			t.Fatal(err)
		}
		cases[c.Name], files[c.Name] = c, p
	}
	if len(cases) < 15 {
		t.Fatalf("only %d policy cases", len(cases))
	}
	return cases, files
}

// TestPolicyVectors runs koshverify over every document of the shared
// policy vectors with the case's policy as flags: the issuer's
// declarations, every warning and every failure of the vector are
// printed, and it exits 1 exactly when one of them (or the document)
// fails.
func TestPolicyVectors(t *testing.T) {
	cases, files := policyCases(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, out := run(t, "attestation", files[name],
				"--min-coverage", verify.FormatRatio(big.NewInt(c.Policy.MinCoverageBps)),
				"--max-price-age", (time.Duration(c.Policy.MaxPriceAgeSeconds) * time.Second).String())
			for _, d := range c.Declarations {
				if c.Verifies && !strings.Contains(out, "\nissuer declares: "+d+"\n") {
					t.Errorf("output lacks the declaration %q", d)
				}
			}
			for _, w := range c.Warnings {
				if c.Verifies && !strings.Contains(out, "\nWARNING: "+sentence(w)+"\n") {
					t.Errorf("output lacks the warning %q", w)
				}
			}
			for _, f := range c.Failures {
				if c.Verifies && !strings.Contains(out, "\nFAIL: "+sentence(f)+"\n") {
					t.Errorf("output lacks the failure %q", f)
				}
			}
			want := 0
			if len(c.Failures) > 0 || !c.Verifies {
				want = 1
			}
			if code != want {
				t.Errorf("exit %d, want %d", code, want)
			}
			if want == 0 && !strings.Contains(out, "ok:   by your policy: "+c.Summary+"\n") {
				t.Errorf("output lacks the summary %q", c.Summary)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// TestHolderPolicy: the holder's minimum decides, not the issuer's, with
// the defaults and with flags; prices are refused as the policy says.
func TestHolderPolicy(t *testing.T) {
	_, files := policyCases(t)
	good := files["sourced price, covered"]
	zero := files["issuer minimum 0 and nothing counted, which the issuer calls backed"]
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"covered at 1.1027, default minimum", []string{good}, 0, []string{
			"issuer declares: minimum coverage 1.50 for INR, 1.00 for SAT\n",
			"ok:   by your policy: coverage 1.1027, your minimum being 1.00;", "OK: every check holds."}},
		{"the holder asks for 1.50", []string{good, "--min-coverage", "1.5"}, 1, []string{
			"FAIL: Asset INR is covered at 1.1027 by the reserves counted for all assets, below your minimum coverage of 1.50.\n",
			"FAIL: Asset SAT is covered at 1.1027 by the reserves counted for all assets, below your minimum coverage of 1.50.\n",
			"FAILED: 2 check(s) did not hold."}},
		{"the issuer's minimum 0, nothing counted, backed: true", []string{zero}, 1, []string{
			"issuer declares: by those minimums the liabilities are backed (0 sats counted, 0 sats required)\n",
			"FAIL: Asset INR is covered at 0.00 by the reserves counted for all assets, below your minimum coverage of 1.00.\n"}},
		{"the same, for a holder whose minimum is 0", []string{zero, "--min-coverage", "0"}, 0, []string{"OK: every check holds."}},
		{"a manual price is said loudly", []string{files["manual price, 10 minutes old"]}, 0, []string{
			"WARNING: The price of asset INR, 8123456.78 INR per BTC, was set by hand by the issuer (manual), not taken from oracle sources.\n"}},
		{"a price 1h1s old", []string{files["price 1 hour and 1 second old"]}, 1, []string{"older than your limit of 1h.\n"}},
		{"a price 1h1s old, limit 2h", []string{files["price 1 hour and 1 second old"], "--max-price-age", "2h"}, 0, []string{"at most 2h older"}},
		{"a source dated after the attestation, whatever the limit", []string{files["source dated after the attestation"], "--max-price-age", "1000h"}, 1,
			[]string{"after the attestation's time"}},
		{"a price that shows no source, whatever the limit", []string{files["price not manual, no sources (as the attestation vectors)"], "--max-price-age", "1000h"}, 1,
			[]string{unsourced}},
		{"a ratio with 5 decimals", []string{good, "--min-coverage", "1.00001"}, 2, []string{"--min-coverage \"1.00001\" is not a ratio"}},
		{"a price age of 0", []string{good, "--max-price-age", "0s"}, 2, []string{"--max-price-age 0s is not a whole number of seconds"}},
		{"a price age of 1.5s", []string{good, "--max-price-age", "1500ms"}, 2, []string{"not a whole number of seconds"}},
		{"a negative --max-behind", []string{good, "--max-behind", "-1"}, 2, []string{"--max-behind -1 is negative"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := run(t, append([]string{"attestation"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
	// inclusion judges the attestation by the same policy; it has no node,
	// so no --max-behind.
	if code, out := run(t, "inclusion", "--attestation", good, "--proof", filepath.Join(vectors, "bundle.json"), "--min-coverage", "2"); code != 1 ||
		!strings.Contains(out, "below your minimum coverage of 2.00") {
		t.Errorf("inclusion --min-coverage 2: exit %d\n%s", code, out)
	}
	if code, out := run(t, "inclusion", "--attestation", good, "--proof", filepath.Join(vectors, "bundle.json"), "--max-behind", "3"); code != 2 {
		t.Errorf("inclusion --max-behind: exit %d, want 2\n%s", code, out)
	}
}

// TestRecent: with a node, the attestation fails when its block is more
// than --max-behind blocks behind the node's tip (the fake chain's tip is
// 19), saying how many; --max-behind 0 turns the check off.
func TestRecent(t *testing.T) {
	f, _, _ := newFakeChain()
	for _, c := range []struct {
		height, maxBehind int64
		fails             int
		want              string
	}{
		{13, 6, 0, "ok:   the attested block 13 is 6 blocks behind your node's tip 19, at most your limit of 6"},
		{12, 6, 1, "FAIL: The attested block 12 is 7 blocks behind your node's tip 19, more than your limit of 6: the attestation is not recent."},
		{5, 10, 1, "is 14 blocks behind your node's tip 19, more than your limit of 10"},
		{5, 0, 0, "note: not checked (--max-behind 0): how far the attested block 5 is behind your node's tip"},
		{19, 1, 0, "is 0 blocks behind"},
	} {
		h, _ := f.BlockHash(context.Background(), c.height)
		a := &attest.Attestation{Block: attest.Block{Height: c.height, Hash: h.String()}}
		var out bytes.Buffer
		r := &runner{ctx: context.Background(), out: &out}
		p := verify.DefaultPolicy()
		p.MaxBehind = c.maxBehind
		r.checkRecent(a, f, p)
		if r.failures != c.fails || !strings.Contains(out.String(), c.want) {
			t.Errorf("height %d, --max-behind %d: %d failures (want %d), output lacks %q:\n%s", c.height, c.maxBehind, r.failures, c.fails, c.want, out.String())
		}
	}
}

// TestMovedSince: outputs and channel funding outputs listed in the
// attestation and spent after its block, by the node's tip, are a warning
// with their sum, not a failure.
func TestMovedSince(t *testing.T) {
	f, fund, _ := newFakeChain()
	// Block 17 also spends the channel's funding output c: the channel
	// closed after the attested block.
	closing := wire.NewMsgTx(2)
	closing.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: fund.TxHash(), Index: 2}})
	closing.AddTxOut(&wire.TxOut{Value: 19_000_000, PkScript: []byte{0x51}})
	op := func(i int) string { return fmt.Sprintf("%s:%d", fund.TxHash(), i) }
	attestAt := func(height int64) *attest.Attestation {
		h, _ := f.BlockHash(context.Background(), height)
		conf := height - 5 + 1
		return &attest.Attestation{Block: attest.Block{Height: height, Hash: h.String()},
			Reserves: attest.Reserves{
				Onchain:   []attest.UTXO{{Outpoint: op(0), Value: 100_000_000, Confirmations: conf}, {Outpoint: op(1), Value: 50_000_000, Confirmations: conf}},
				Lightning: []attest.Node{{Channels: []attest.Channel{{ChannelPoint: op(2), Capacity: 20_000_000, Confirmations: conf}}}},
			}}
	}
	check := func(a *attest.Attestation) (int, string) {
		var out bytes.Buffer
		r := &runner{ctx: context.Background(), out: &out}
		r.checkOnChain(a, f, 100)
		return r.failures, out.String()
	}
	fails, out := check(attestAt(12))
	if fails != 0 || !strings.Contains(out, "WARNING: Moved since the attested block 12: 50000000 sats in 1 output, spent by your node's tip 19; the attestation still counts them as reserves.\n") ||
		strings.Contains(out, "Closed since") {
		t.Errorf("one output spent since: %d failures\n%s", fails, out)
	}
	fails, out = check(attestAt(16))
	if fails != 1 || strings.Contains(out, "WARNING: Moved") {
		t.Errorf("spent before the attested block is a failure, not a move: %d failures\n%s", fails, out)
	}
	f.blocks[17].Transactions = append(f.blocks[17].Transactions, closing)
	delete(f.utxos, wire.OutPoint{Hash: fund.TxHash(), Index: 2})
	fails, out = check(attestAt(12))
	if fails != 0 || !strings.Contains(out, "WARNING: Moved since the attested block 12: 50000000 sats in 1 output") ||
		!strings.Contains(out, "WARNING: Closed since the attested block 12: 1 channel (20000000 sats of capacity), funding outputs spent by your node's tip 19.\n") {
		t.Errorf("an output spent and a channel closed since: %d failures\n%s", fails, out)
	}
	fails, out = check(attestAt(18))
	if fails != 2 || strings.Contains(out, "WARNING") {
		t.Errorf("both spent before the attested block 18: %d failures\n%s", fails, out)
	}
}
