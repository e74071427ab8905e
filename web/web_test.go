package web

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestPageRendersTheData(t *testing.T) {
	src := newFixture(t)
	h := New(src, Options{})
	res, body := get(t, h, "/")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := res.Header.Get("Content-Security-Policy"); got != CSP || !strings.Contains(got, "default-src 'self'") {
		t.Errorf("CSP = %q", got)
	}
	for _, want := range []string{
		"Kosh Community Treasury",
		"1.19321067 BTC", // counted reserves
		"1.02879494 BTC", // liabilities worth
		"1.15",           // coverage ratio 11598 bps
		"INR 262,345.68", // rupee view of the INR supply
		"0.03229484 BTC", // BTC view of the INR supply
		"1 BTC = INR 8,123,456.78",
		"99,650,010 SAT", // SAT supply
		"1.11234567 BTC", // on-chain counted
		"bob",            // a Lightning node
		"Reported, not counted",
		latestFixtureID, // latest attestation id
		"880,018",       // attested block
		"c7e2e128ac0e2f97d25445a173ff9d30c2dbaef85645d9c65071318bb3e25b0d", // issuer key
		"/attestations/" + latestFixtureID + ".json",
		"koshverify attestation http://example.com/attestations/" + latestFixtureID + ".json",
		"koshverify inclusion",
		"<svg class=\"chart\"",
		"17 min ago",
		`class="status st-warning"`, // INR is between its minimum and warning level
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Nothing from other hosts, no inline script or style.
	for _, re := range []string{`(?i)<script(?:[^>]*)>\s*[^<\s]`, `(?i)\sstyle=`, `(?i)(src|href)="(https?:)?//`, `(?i)<style`} {
		if m := regexp.MustCompile(re).FindString(body); m != "" {
			t.Errorf("page has %q (matches %s)", m, re)
		}
	}
}

func TestStatusHeadline(t *testing.T) {
	src := newFixture(t)
	p := *src.page
	p.Assets = append([]Asset(nil), p.Assets...)
	p.Assets[0].WarnCoverageBps = 0 // INR now simply backed
	src.page = &p
	_, body := get(t, New(src, Options{}), "/")
	if !strings.Contains(body, `class="status st-backed"`) || !strings.Contains(body, "Fully backed") {
		t.Error("all assets backed: headline is not backed")
	}
	p.Assets[1].CoverageBps = 9000
	_, body = get(t, New(src, Options{}), "/")
	if !strings.Contains(body, `class="status st-under-backed"`) || !strings.Contains(body, "Under-backed") {
		t.Error("SAT under its minimum: headline is not under-backed")
	}
	p.Reserves.Stale = true
	_, body = get(t, New(src, Options{}), "/")
	if !strings.Contains(body, `class="status st-stale"`) {
		t.Error("stale reserves: headline is not stale")
	}
}

func TestAttestationRoute(t *testing.T) {
	src := newFixture(t)
	h := New(src, Options{})
	res, body := get(t, h, "/attestations/"+latestFixtureID+".json")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if body != string(src.docs[latestFixtureID]) {
		t.Error("served document differs from the stored bytes")
	}
	for _, p := range []string{"/attestations/" + strings.Repeat("0", 64) + ".json", "/attestations/ABC.json", "/attestations/" + latestFixtureID} {
		if res, _ := get(t, h, p); res.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestAttestationURLPattern(t *testing.T) {
	src := newFixture(t)
	_, body := get(t, New(src, Options{AttestationURL: "/v1/public/attestations/{id}", PublicURL: "https://reserves.example/"}), "/")
	if !strings.Contains(body, `href="/v1/public/attestations/`+latestFixtureID+`"`) {
		t.Error("link pattern not applied")
	}
	if !strings.Contains(body, "koshverify attestation https://reserves.example/v1/public/attestations/"+latestFixtureID) {
		t.Error("public URL not used in the koshverify command")
	}
	_, body = get(t, New(src, Options{AttestationURL: "https://mirror.example/{file}"}), "/")
	if !strings.Contains(body, "https://mirror.example/000003-"+latestFixtureID+".json") {
		t.Error("{file} placeholder not applied")
	}
}

func TestStaticAssets(t *testing.T) {
	h := New(newFixture(t), Options{})
	for path, typ := range map[string]string{"/static/verify.js": "text/javascript", "/static/page.js": "text/javascript", "/static/style.css": "text/css"} {
		res, body := get(t, h, path)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), typ) || len(body) == 0 {
			t.Errorf("%s: status %d type %q len %d", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: status %d, want 304", path, rec.Code)
		}
	}
	if res, _ := get(t, h, "/static/nope.js"); res.StatusCode != 404 {
		t.Errorf("unknown asset: status %d", res.StatusCode)
	}
}

func TestDataSourceDown(t *testing.T) {
	src := newFixture(t)
	src.err = errors.New("database is locked")
	res, body := get(t, New(src, Options{Log: slog.New(slog.DiscardHandler)}), "/")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Figures unavailable") {
		t.Errorf("status %d, body lacks the unavailable notice", res.StatusCode)
	}
	if strings.Contains(body, "database is locked") {
		t.Error("internal error leaked to the page")
	}
}

func TestNoAttestationYet(t *testing.T) {
	src := newFixture(t)
	p := *src.page
	p.Latest, p.Attestations, p.History = nil, nil, nil
	src.page = &p
	res, body := get(t, New(src, Options{}), "/")
	if res.StatusCode != 200 || !strings.Contains(body, "No attestation has been published yet") {
		t.Errorf("status %d; no-attestation notice missing", res.StatusCode)
	}
}

// TestSummarizeEvidence: a version 2 document's outputs and channels as the
// page shows them before any check (attest.UncountedReason's words), none
// for version 1, and no panic on a proof index the document does not hold
// (Summarize only parses).
func TestSummarizeEvidence(t *testing.T) {
	files := chainFiles(t, "chain-v2")
	doc, err := os.ReadFile(files[2])
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := Summarize(doc, "")
	if err != nil {
		t.Fatal(err)
	}
	e := s.Evidence
	if s.Version != 2 || e == nil {
		t.Fatalf("version %d, evidence %+v", s.Version, e)
	}
	want := &Evidence{Listed: 5, Counted: 3, CountedSats: 111_234_567, MinConfirmations: 6, ProofMaxAge: 1000,
		Uncounted: []UncountedOutput{
			{Outpoint: "7c43c9a3e73decf6706d8d6502b8c757d5d8ee22f8d4ff0bb30d95fb98e90267:7", Sats: 900_000_000, Reason: "no proof of control"},
			{Outpoint: "ace212d65dd96075cf19f27a0df76f7c2bab17c2565452466d098c889afc1627:1", Sats: 25_000_000, Reason: "its proof of control from block 879017 is older than 1000 blocks"},
		},
		Announced:   2,
		Claimed:     []ClaimedChannel{{ChannelPoint: "b6a653964ec5dec61ab6edf72deefaa8e05451010f4cef06f8f69b2905c473a4:0", Node: "bob", Sats: 7_832_000}},
		ClaimedSats: 7_832_000,
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("evidence\n%+v\nwant\n%+v", e, want)
	}

	v1, err := os.ReadFile(chainFiles(t, "chain")[0])
	if err != nil {
		t.Fatal(err)
	}
	if s, _, err := Summarize(v1, ""); err != nil || s.Version != 1 || s.Evidence != nil {
		t.Errorf("version 1: version %d, evidence %+v, %v", s.Version, s.Evidence, err)
	}

	bad := strings.Replace(string(doc), `"proof":1,`, `"proof":7,`, 1)
	if bad == string(doc) {
		t.Fatal("fixture has no proof 1 to renumber")
	}
	s, _, err = Summarize([]byte(bad), "")
	if err != nil {
		t.Fatal(err)
	}
	if u := s.Evidence.Uncounted; len(u) != 3 || u[1].Reason != "it names a proof the document does not hold" {
		t.Errorf("an output naming proof 7 of 3: uncounted %+v", u)
	}
}
