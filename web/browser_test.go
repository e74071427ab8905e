package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kosh-reserve/kosh/web/headless"
)

// Browser tests drive Debian's Chromium (web/install-chromium.sh installs
// it) in headless mode through chromedp. Without Chromium they skip, except
// under CI=true, where they fail.

// chromiumPath is the browser binary; KOSH_CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("KOSH_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browser is one headless Chromium with a fresh profile, and the console
// errors, exceptions and log errors (CSP violations, failed loads) it saw.
type browser struct {
	*headless.Browser
	ctx context.Context
}

func (b *browser) errors() []string { return b.Errors() }

func newBrowser(t testing.TB) *browser {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium not found at %s (run web/install-chromium.sh): %v", path, err)
		}
		t.Skipf("Chromium not found at %s (run web/install-chromium.sh); skipping browser test", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	hb, err := headless.Start(ctx, headless.Config{Path: path, ProfileDir: t.TempDir(), Width: 1280, Height: 900})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { hb.Close(); cancel() })
	return &browser{Browser: hb, ctx: hb.Ctx}
}

func (b *browser) do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// get runs one action and returns its value.
func bget[T any](t testing.TB, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// click presses a button and waits for its result box to turn green or red;
// it returns the box's class and text.
func (b *browser) click(t *testing.T, button, box string) (string, string) {
	t.Helper()
	b.do(t, chromedp.Click(chromedp.ID(button)), waitResult(box))
	return b.result(t, box)
}

// result returns the class and text of a result box that is already
// filled.
func (b *browser) result(t *testing.T, box string) (string, string) {
	t.Helper()
	// Class and text in one read, so that they belong together.
	v := bget(t, b, chromedp.Evaluate[[]string](fmt.Sprintf(`(() => { const e = document.getElementById(%q); return [e.className, e.textContent]; })()`, box)))
	if len(v) != 2 {
		t.Fatalf("result box %s: %v", box, v)
	}
	return v[0], v[1]
}

func (b *browser) noErrors(t *testing.T) {
	t.Helper()
	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("the browser reported %d error(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// vectorResult is what web/testdata/vectors.js leaves in window.__koshVectors.
type vectorResult struct {
	Done   bool   `json:"done"`
	Error  string `json:"error"`
	Suites map[string]struct {
		Passed int `json:"passed"`
		Failed int `json:"failed"`
	} `json:"suites"`
	Failures []string `json:"failures"`
}

// TestJSVectors runs the shared test vectors (BIP-340, RFC 8785, sumtree
// versions 1 and 2, proofs of control, attestations of versions 1 to 3
// with their bundles and absence statements, the hand-derived
// attestations, strict decoding, the holder's policy) against
// static/verify.js in Chromium.
func TestJSVectors(t *testing.T) {
	b := newBrowser(t)
	srv := httptest.NewServer(testMux(newFixture(t)))
	defer srv.Close()
	b.do(t, chromedp.Navigate(srv.URL+"/vectors"))
	bget(t, b, chromedp.Poll[bool](`window.__koshVectors && window.__koshVectors.done`, chromedp.WithPollingTimeout(60*time.Second)))
	res := bget(t, b, chromedp.Evaluate[vectorResult](`window.__koshVectors`))
	b.noErrors(t)
	if res.Error != "" {
		t.Fatalf("vector run failed: %s", res.Error)
	}
	for _, f := range res.Failures {
		t.Error(f)
	}
	// Each suite must have run its vectors: an empty or truncated load must
	// not pass.
	min := map[string]int{"bip340": 25, "jcs": 2800, "sumtree": 220, "sumtree2": 1800, "control": 180, "attest": 200, "handmade": 25, "strict": 70, "anchor": 6, "policy": 150}
	for _, name := range []string{"bip340", "jcs", "sumtree", "sumtree2", "control", "attest", "handmade", "strict", "anchor", "policy"} {
		s := res.Suites[name]
		t.Logf("%s: %d passed, %d failed", name, s.Passed, s.Failed)
		if s.Passed < min[name] {
			t.Errorf("suite %s passed %d checks, want at least %d", name, s.Passed, min[name])
		}
	}
}

// pageServer serves the page with the fixture on 127.0.0.1.
func pageServer(t *testing.T) (*fakeSource, string) {
	src := newFixture(t)
	srv := httptest.NewServer(testMux(src))
	t.Cleanup(srv.Close)
	return src, srv.URL
}

func waitResult(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](fmt.Sprintf(`(() => { const c = document.getElementById(%q).className; return c.includes(" ok") || c.includes(" bad"); })()`, id),
			chromedp.WithPollingTimeout(30*time.Second))(ctx, tg)
		return err
	})
}

func TestBrowserPage(t *testing.T) {
	b := newBrowser(t)
	src, url := pageServer(t)
	b.do(t, chromedp.Navigate(url+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	text := bget(t, b, chromedp.Text(chromedp.CSS("body")))
	for _, want := range []string{
		"Kosh Community Treasury", "1.19321067 BTC", "1.02879494 BTC", "INR 262,345.68", "0.03229484 BTC",
		"1 BTC = INR 8,123,456.78", "99,650,010 SAT", "1.11234567 BTC", latestFixtureID, "880,018",
		"c7e2e128ac0e2f97d25445a173ff9d30c2dbaef85645d9c65071318bb3e25b0d", "17 min ago",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}

	// Valid attestation: green. By the holder's default policy it fails on
	// its unsourced INR price (docs/proofs.md 4.6), shown apart, and what
	// the issuer says of itself is shown as its word.
	cls, msg := b.click(t, "verify-btn", "verify-result")
	if !strings.Contains(cls, "ok") || msg != "Signature valid, sums add up." {
		t.Errorf("valid attestation: class %q, message %q", cls, msg)
	}
	if cls, msg := b.result(t, "policy-result"); !strings.Contains(cls, "bad") ||
		msg != "By your standard this attestation fails: The price of asset INR is not marked manual but lists no oracle sources, so nothing shows where it came from." {
		t.Errorf("the holder's verdict: class %q, message %q", cls, msg)
	}
	policy := bget(t, b, chromedp.Text(chromedp.ID("policy-detail")))
	for _, want := range []string{"The issuer declares (its own word, not a verdict):", "Minimum coverage 1.50 for INR, 1.00 for SAT.",
		"By those minimums the liabilities are backed (119321067 sats counted, 104494235 sats required).", "Stale sources: bob."} {
		if !strings.Contains(policy, want) {
			t.Errorf("the policy detail lacks %q; it is:\n%s", want, policy)
		}
	}

	// Inclusion: the holder's bundle is green, a raised balance red.
	bundle := bundleFixture(t)
	b.do(t, chromedp.SetValue(chromedp.ID("bundle"), bundle))
	cls, msg = b.click(t, "bundle-btn", "bundle-result")
	if !strings.Contains(cls, "ok") || !strings.Contains(msg, "account acct-dana holds 97000000 SAT") {
		t.Errorf("valid bundle: class %q, message %q", cls, msg)
	}
	bad := strings.Replace(bundle, `"balance":"97000000"`, `"balance":"97000001"`, 1)
	if bad == bundle {
		t.Fatal("bundle fixture has no balance 97000000 to tamper with")
	}
	b.do(t, chromedp.SetValue(chromedp.ID("bundle"), bad))
	cls, msg = b.click(t, "bundle-btn", "bundle-result")
	if !strings.Contains(cls, "bad") || msg != "Account acct-dana with balance 97000001 is not in the SAT liability tree of this attestation: root hash does not match the attested root." {
		t.Errorf("tampered bundle: class %q, message %q", cls, msg)
	}

	// Tampered attestation (one byte of one balance): red, with the sentence.
	src.setTamper(func(d []byte) []byte {
		s := strings.Replace(string(d), `"value":"60000000"`, `"value":"60000001"`, 1)
		if s == string(d) {
			t.Error("fixture has no output value 60000000 to tamper with")
		}
		return []byte(s)
	})
	b.do(t, chromedp.Reload(), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	cls, msg = b.click(t, "verify-btn", "verify-result")
	if !strings.Contains(cls, "bad") || msg != "The issuer signature does not verify under issuer key c7e2e128ac0e2f97d25445a173ff9d30c2dbaef85645d9c65071318bb3e25b0d." {
		t.Errorf("tampered attestation: class %q, message %q", cls, msg)
	}
	// A bundle checked against a tampered attestation is red too.
	b.do(t, chromedp.SetValue(chromedp.ID("bundle"), bundle))
	if cls, msg = b.click(t, "bundle-btn", "bundle-result"); !strings.Contains(cls, "bad") {
		t.Errorf("bundle against a tampered attestation: class %q, message %q", cls, msg)
	}
	b.noErrors(t)
}

// TestBrowserPageV2 loads a version 2 attestation (testdata/attest/
// chain-v2): the in-browser check verifies its proofs of control and says
// which outputs count, why the others do not, which channels are claims
// and what is left to koshverify; the server-rendered view says the same
// of the document.
func TestBrowserPageV2(t *testing.T) {
	b := newBrowser(t)
	srv := httptest.NewServer(testMux(newFixtureFrom(t, chainFiles(t, "chain-v2"), latestV2FixtureID)))
	defer srv.Close()
	b.do(t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	const (
		foreign = "7c43c9a3e73decf6706d8d6502b8c757d5d8ee22f8d4ff0bb30d95fb98e90267:7"
		expired = "ace212d65dd96075cf19f27a0df76f7c2bab17c2565452466d098c889afc1627:1"
		claimed = "b6a653964ec5dec61ab6edf72deefaa8e05451010f4cef06f8f69b2905c473a4:0"
	)
	outputs := bget(t, b, chromedp.Text(chromedp.ID("att-outputs")))
	for _, want := range []string{
		"3 of 5 counted (1.11234567 BTC), each with a proof of control at most 1,000 blocks old and at least 6 confirmations.",
		foreign + " (9.00000000 BTC): no proof of control",
		expired + " (0.25000000 BTC): its proof of control from block 879017 is older than 1000 blocks",
	} {
		if !strings.Contains(outputs, want) {
			t.Errorf("the attestation's outputs %q lack %q", outputs, want)
		}
	}
	if ch := bget(t, b, chromedp.Text(chromedp.ID("att-channels"))); !strings.Contains(ch, "2 announced in the Lightning graph; claimed, on the node's word alone (0.07832000 BTC, not counted):") ||
		!strings.Contains(ch, claimed+" (bob): 0.07832000 BTC") {
		t.Errorf("the attestation's channels: %q", ch)
	}

	cls, msg := b.click(t, "verify-btn", "verify-result")
	if !strings.Contains(cls, "ok") || msg != "Signature valid, sums add up, proofs of control hold." {
		t.Errorf("version 2 attestation: class %q, message %q", cls, msg)
	}
	if cls, msg := b.result(t, "policy-result"); !strings.Contains(cls, "bad") || !strings.Contains(msg, "The price of asset INR is not marked manual but lists no oracle sources") {
		t.Errorf("the holder's verdict: class %q, message %q", cls, msg)
	}
	if policy := bget(t, b, chromedp.Text(chromedp.ID("policy-detail"))); !strings.Contains(policy, "Stale sources: bob.") {
		t.Errorf("the policy detail lacks the issuer's stale sources: %s", policy)
	}
	detail := bget(t, b, chromedp.Text(chromedp.ID("verify-detail")))
	for _, want := range []string{
		"On-chain: 3 of 5 listed outputs proven and counted (1.11234567 BTC), each by a proof of control verified in this browser. Listed, not counted:",
		foreign + " (9.00000000 BTC): no proof of control",
		expired + " (0.25000000 BTC): its proof of control from block 879017 is older than 1000 blocks",
		"Lightning: 2 announced channels; 1 claimed channel, shown apart: the node's word, which nobody can check, not counted:",
		claimed + " (bob): claims 0.07832000 BTC",
		"With your own bitcoin node: that each listed output is on the chain, unspent at block 880018, with the listed value and script, and that each proof's block is in the best chain.",
		"With your own bitcoin node: that block 880018 is at most 6 blocks behind your node's tip, and how much of the listed reserves has moved since.",
		"With your own lnd (koshverify --lnd): that the 2 announced channels are in the Lightning graph with the issuer's node at one end.",
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("the verdict's detail lacks %q; it is:\n%s", want, detail)
		}
	}
	if strings.Contains(detail, "not checked in the browser") {
		t.Errorf("every proof of the fixture uses a script the browser checks, yet the detail says %q", detail)
	}
	b.noErrors(t)
}

// TestBrowserPageAnchored loads an attestation that lists a bitcoin anchor
// (testdata/attest/chain-anchored): the page shows the anchor with the
// commitment koshd computed, the in-browser check recomputes it and says
// they agree, and leaves the transaction to koshverify --btcd; the
// version 2 document before any anchor is shown as not anchored.
func TestBrowserPageAnchored(t *testing.T) {
	b := newBrowser(t)
	srv := httptest.NewServer(testMux(newFixtureFrom(t, chainFiles(t, "chain-anchored"), "8b330c411139194ca5a0ecbe8baa3db91757cfccfeb8ad947e4dfacb2832892c")))
	defer srv.Close()
	b.do(t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	shown := bget(t, b, chromedp.Text(chromedp.ID("att-anchor")))
	commitment := bget(t, b, chromedp.Text(chromedp.ID("anchor-commitment")))
	if !strings.Contains(shown, "attestation #2 is committed to by transaction") || len(commitment) != 64 {
		t.Fatalf("the anchor as the page shows it: %q (commitment %q)", shown, commitment)
	}
	cls, _ := b.click(t, "verify-btn", "verify-result")
	if !strings.Contains(cls, "ok") {
		t.Fatalf("anchored attestation: class %q", cls)
	}
	detail := bget(t, b, chromedp.Text(chromedp.ID("verify-detail")))
	for _, want := range []string{
		"commits to attestation #2",
		"recomputed in this browser from the issuer key, #2 and that id, is " + commitment + ", as the page shows.",
		"With your own bitcoin node (koshverify --btcd): that transaction",
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("the verdict's detail lacks %q; it is:\n%s", want, detail)
		}
	}
	b.noErrors(t)

	srv2 := httptest.NewServer(testMux(newFixtureFrom(t, chainFiles(t, "chain-v2"), latestV2FixtureID)))
	defer srv2.Close()
	b.do(t, chromedp.Navigate(srv2.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	if got := bget(t, b, chromedp.Text(chromedp.ID("att-anchor"))); !strings.Contains(got, "not anchored") {
		t.Errorf("a version 2 attestation without an anchor: %q", got)
	}
}

// TestBrowserPageIssuerAccounts loads an attestation that lists accounts
// the issuer holds itself (testdata/attest/chain-issuer, attestation 2):
// the in-browser check verifies each one's inclusion and the detail names
// each with its balance.
func TestBrowserPageIssuerAccounts(t *testing.T) {
	b := newBrowser(t)
	files := chainFiles(t, "chain-issuer")
	srv := httptest.NewServer(testMux(newFixtureFrom(t, files[:2], "")))
	defer srv.Close()
	b.do(t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	cls, msg := b.click(t, "verify-btn", "verify-result")
	if !strings.Contains(cls, "ok") {
		t.Fatalf("attestation with issuer accounts: class %q, %q", cls, msg)
	}
	detail := bget(t, b, chromedp.Text(chromedp.ID("verify-detail")))
	for _, want := range []string{
		"Held by the issuer itself (no holder checks these, so they are published): 2 balances, each proven in this browser to be counted in its asset's liabilities:",
		"kosh payments escrow (redemptions in progress): 9000 SAT (account acct-escrow)",
		"fees: 3000 SAT (account acct-fees)",
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("the verdict's detail lacks %q; it is:\n%s", want, detail)
		}
	}
	b.noErrors(t)
}

// TestBrowserPageV3 loads a version 3 attestation (testdata/attest/
// chain-v3, attestation 3: version 2 trees, an issuer-held account with its
// share-set proof): the in-browser check verifies it and names the issuer's
// account; the holder's version 2 bundle (testdata/attest/bundle-v2.json)
// is green and names the journal entry the balance stands at; a raised
// balance, a lowered sequence and a version 1 bundle are red, with the Go
// verifier's sentences.
func TestBrowserPageV3(t *testing.T) {
	const id = "526f21c5dbcd5e42ba4a39f2033c9670155d9dfc6f914732aba2519283b27546"
	b := newBrowser(t)
	srv := httptest.NewServer(testMux(newFixtureFrom(t, chainFiles(t, "chain-v3"), id)))
	defer srv.Close()
	b.do(t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	cls, msg := b.click(t, "verify-btn", "verify-result")
	if !strings.Contains(cls, "ok") || msg != "Signature valid, sums add up, proofs of control hold." {
		t.Fatalf("version 3 attestation: class %q, message %q", cls, msg)
	}
	detail := bget(t, b, chromedp.Text(chromedp.ID("verify-detail")))
	if want := "fees: 4500 SAT (account acct-fees)"; !strings.Contains(detail, want) {
		t.Errorf("the verdict's detail lacks %q; it is:\n%s", want, detail)
	}

	raw, err := os.ReadFile(filepath.Join(repoTestdata, "attest", "bundle-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := strings.TrimSpace(string(raw))
	if !strings.Contains(bundle, id) {
		t.Fatalf("testdata/attest/bundle-v2.json is not for attestation %s", id)
	}
	tamper := func(old, new string) string {
		s := strings.Replace(bundle, old, new, 1)
		if s == bundle {
			t.Fatalf("bundle-v2.json has no %s to tamper with", old)
		}
		return s
	}
	v1 := strings.Replace(bundleFixture(t), latestFixtureID, id, 1)
	for _, c := range []struct {
		name, bundle, class, msg string
	}{
		{"the holder's bundle", bundle, "ok", "Included: account acct-dana holds 97000000 SAT as of its journal entry 2969 in attestation #3, and the proof adds up to the attested total."},
		{"balance raised", tamper(`"balance":"97000000"`, `"balance":"97000001"`), "bad",
			"Account acct-dana with balance 97000001 at journal sequence 2969 is not in the SAT liability tree of this attestation: share 0 is 82505509, but the salt splits the balance 97000001 into 82505510, 14494491."},
		{"sequence lowered", tamper(`"seq":2969`, `"seq":2968`), "bad",
			"Account acct-dana with balance 97000000 at journal sequence 2968 is not in the SAT liability tree of this attestation: root hash does not match the attested root."},
		{"a version 1 bundle", v1, "bad",
			"A version 1 inclusion bundle cannot prove inclusion in a version 3 attestation, whose trees take version 2 bundles."},
	} {
		b.do(t, chromedp.SetValue(chromedp.ID("bundle"), c.bundle))
		cls, msg := b.click(t, "bundle-btn", "bundle-result")
		if !strings.Contains(cls, c.class) || msg != c.msg {
			t.Errorf("%s: class %q, message %q, want %s: %q", c.name, cls, msg, c.class, c.msg)
		}
	}
	b.noErrors(t)
}

// TestBrowserPageV2Tampered serves a version 2 attestation whose proof of
// control over one output was signed SIGHASH_ANYONECANPAY and re-signed by
// the issuer (testdata/attest/invalid): the in-browser check is red with
// the Go verifier's sentence, and shows no detail.
func TestBrowserPageV2Tampered(t *testing.T) {
	b := newBrowser(t)
	file := filepath.Join(repoTestdata, "attest", "invalid", "v2-ANYONECANPAY-proof-re-signed.json")
	srv := httptest.NewServer(testMux(newFixtureFrom(t, []string{file}, "")))
	defer srv.Close()
	b.do(t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	cls, msg := b.click(t, "verify-btn", "verify-result")
	const want = "The proof of control over on-chain output 7ddbfda5b84ce4ba602a3196de107bf70b41195aa222369047f30ab3cdd9f5e3:0 (proof 1) does not commit to the challenge (a SIGHASH_ANYONECANPAY signature, or a script anyone can satisfy)."
	if !strings.Contains(cls, "bad") || msg != want {
		t.Errorf("tampered version 2 attestation: class %q, message %q, want %q", cls, msg, want)
	}
	if hidden := bget(t, b, chromedp.Evaluate[bool](`["verify-detail", "policy-result", "policy-detail"].every((id) => document.getElementById(id).hidden)`)); !hidden {
		t.Error("a failed check shows the detail of a verdict, or a policy verdict")
	}
	b.noErrors(t)
}

// TestBrowserPhoneWidth checks that the page does not scroll sideways on a
// 375 px wide phone, nor on a desktop, also with a version 2 attestation's
// lists of outpoints and the in-browser verdict shown.
func TestBrowserPhoneWidth(t *testing.T) {
	b := newBrowser(t)
	_, url := pageServer(t)
	v2 := httptest.NewServer(testMux(newFixtureFrom(t, chainFiles(t, "chain-v2"), latestV2FixtureID)))
	defer v2.Close()
	for _, size := range []struct {
		w, h   int64
		mobile bool
		url    string
		verify bool
	}{{375, 800, true, url, false}, {1280, 900, false, url, false}, {375, 800, true, v2.URL, true}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(2)}
		if size.mobile {
			opts = append(opts, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		b.do(t, chromedp.EmulateViewport(size.w, size.h, opts...), chromedp.Navigate(size.url+"/"), chromedp.WaitVisible(chromedp.ID("status")))
		if size.verify {
			// The version 2 page, with the verdict's lists of outpoints.
			b.do(t, chromedp.WaitEnabled(chromedp.ID("verify-btn")))
			if cls, _ := b.click(t, "verify-btn", "verify-result"); !strings.Contains(cls, "ok") {
				t.Fatalf("the version 2 fixture does not verify: %q", cls)
			}
		}
		sw := bget(t, b, chromedp.Evaluate[int64](`document.scrollingElement.scrollWidth`))
		cw := bget(t, b, chromedp.Evaluate[int64](`document.documentElement.clientWidth`))
		if sw > size.w || cw > size.w {
			t.Errorf("at %d px: scrollWidth %d, clientWidth %d", size.w, sw, cw)
		}
		// No element may stick out of the viewport either (a table inside
		// its overflow wrapper scrolls on its own, which is fine).
		wide := bget(t, b, chromedp.Evaluate[[]string](fmt.Sprintf(`Array.from(document.querySelectorAll("body *")).filter(e => {
			if (e.closest(".table-wrap") && e.closest(".table-wrap") !== e) return false;
			const r = e.getBoundingClientRect(); return r.right > %d + 0.5 || r.left < -0.5;
		}).map(e => e.tagName + "." + e.className + "#" + e.id)`, size.w)))
		if len(wide) > 0 {
			t.Errorf("at %d px these elements leave the viewport: %v", size.w, wide)
		}
	}
	b.noErrors(t)
}
