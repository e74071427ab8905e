package web

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// policyDocument writes the document of the named case of
// testdata/policy/vectors.json to a file and returns its path.
func policyDocument(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoTestdata, "policy", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct{ Name, Document string } `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		if c.Name == name {
			p := filepath.Join(t.TempDir(), "000002-policy.json")
			if err := os.WriteFile(p, []byte(c.Document), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("no policy case %q", name)
	return ""
}

// TestBrowserPolicy: the page judges a verified attestation by the
// holder's standard (docs/proofs.md 4.6), with the defaults and the
// minimum coverage the holder types, and shows the issuer's own policy as
// its declaration: an issuer minimum of 0 with nothing counted is
// "backed" by the issuer's word and refused by the holder's; a manual
// price is a warning.
func TestBrowserPolicy(t *testing.T) {
	b := newBrowser(t)
	open := func(name string) {
		srv := httptest.NewServer(testMux(newFixtureFrom(t, []string{policyDocument(t, name)}, "")))
		t.Cleanup(srv.Close)
		b.do(t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
		if cls, msg := b.click(t, "verify-btn", "verify-result"); !strings.Contains(cls, "ok") {
			t.Fatalf("%s: the document does not verify: %s", name, msg)
		}
	}
	typeMin := func(v string) (string, string) {
		bget(t, b, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.getElementById("min-coverage"); e.value = %q; e.dispatchEvent(new Event("input")); return true; })()`, v)))
		return b.result(t, "policy-result")
	}

	open("sourced price, covered")
	if v := bget(t, b, chromedp.Evaluate[string](`document.getElementById("min-coverage").value`)); v != "1.00" {
		t.Errorf("the minimum coverage field holds %q, want the default 1.00", v)
	}
	if cls, msg := b.result(t, "policy-result"); !strings.Contains(cls, "ok") ||
		msg != "By your standard it holds: Coverage 1.1027, your minimum being 1.00; every price shows its sources or is marked manual, and is at most 1h older than the attestation." {
		t.Errorf("covered, default policy: class %q, message %q", cls, msg)
	}
	if cls, msg := typeMin("1.5"); !strings.Contains(cls, "bad") || msg != "By your standard this attestation fails: "+
		"Asset INR is covered at 1.1027 by the reserves counted for all assets, below your minimum coverage of 1.50. "+
		"Asset SAT is covered at 1.1027 by the reserves counted for all assets, below your minimum coverage of 1.50." {
		t.Errorf("a holder's minimum of 1.5: class %q, message %q", cls, msg)
	}
	if cls, msg := typeMin("1.2.3"); !strings.Contains(cls, "bad") || msg != `Your minimum coverage "1.2.3" is not a ratio such as 1.00 (digits, at most 4 decimals).` {
		t.Errorf("a minimum that is no ratio: class %q, message %q", cls, msg)
	}
	if cls, msg := typeMin("1.1027"); !strings.Contains(cls, "ok") || !strings.Contains(msg, "your minimum being 1.1027") {
		t.Errorf("a holder's minimum equal to the coverage: class %q, message %q", cls, msg)
	}

	open("issuer minimum 0 and nothing counted, which the issuer calls backed")
	if att := bget(t, b, chromedp.Text(chromedp.ID("latest"))); !strings.Contains(att, "0.00 — backed by the issuer's own minimums") {
		t.Errorf("the server-rendered attestation does not show the issuer's word: %s", att)
	}
	if cls, msg := b.result(t, "policy-result"); !strings.Contains(cls, "bad") ||
		!strings.Contains(msg, "Asset INR is covered at 0.00 by the reserves counted for all assets, below your minimum coverage of 1.00.") {
		t.Errorf("nothing counted, the issuer's minimum 0: class %q, message %q", cls, msg)
	}
	if d := bget(t, b, chromedp.Text(chromedp.ID("policy-detail"))); !strings.Contains(d, "Minimum coverage 0.00 for INR, 0.00 for SAT.") ||
		!strings.Contains(d, "By those minimums the liabilities are backed (0 sats counted, 0 sats required).") {
		t.Errorf("the issuer's declaration: %s", d)
	}

	open("manual price, 10 minutes old")
	if cls, _ := b.result(t, "policy-result"); !strings.Contains(cls, "ok") {
		t.Errorf("a fresh manual price fails: %q", cls)
	}
	warn := bget(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#policy-detail p.warn")).map((p) => p.textContent)`))
	if len(warn) != 1 || warn[0] != "Warning: The price of asset INR, 8123456.78 INR per BTC, was set by hand by the issuer (manual), not taken from oracle sources." {
		t.Errorf("the manual price's warning: %q", warn)
	}
	b.noErrors(t)
}
