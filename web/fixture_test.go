package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fixture serves the signed attestation chain of testdata/attest/chain
// (made by proofs/attest, vectors of docs/proofs.md) with live figures in
// the same range, so the page, the in-browser verifier and the Go verifier
// all look at the same real documents.

const repoTestdata = "../testdata"

type fakeSource struct {
	mu     sync.Mutex
	page   *PageData
	docs   map[string][]byte
	tamper func([]byte) []byte // applied to every served document
	err    error
}

func (f *fakeSource) Page(ctx context.Context) (*PageData, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.page, nil
}

func (f *fakeSource) Attestation(ctx context.Context, id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.docs[id]
	if !ok {
		return nil, fmt.Errorf("attestation %s: %w", id, ErrNotFound)
	}
	if f.tamper != nil {
		return f.tamper(append([]byte(nil), d...)), nil
	}
	return d, nil
}

func (f *fakeSource) setTamper(t func([]byte) []byte) {
	f.mu.Lock()
	f.tamper = t
	f.mu.Unlock()
}

// latestFixtureID is the id of testdata/attest/chain/000003-….json, the
// attestation testdata/attest/bundle.json proves inclusion in.
const latestFixtureID = "9d1d7402066b54e37155ee877113b46720c9e890c69f525dcb3989ee1b9dfb8c"

// latestV2FixtureID is the id of testdata/attest/chain-v2/000003-….json,
// the latest of the version 2 chain.
const latestV2FixtureID = "af8ae90dfb0c0343f1a101c14f8152af900ccd85be71831cd27a0672f26346ba"

// chainFiles returns the attestation files of testdata/attest/<dir>,
// oldest first.
func chainFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoTestdata, "attest", dir, "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("attestation chain vectors missing in %s (%v, %d files)", dir, err, len(files))
	}
	sort.Strings(files)
	return files
}

// newFixture serves the version 1 chain (testdata/attest/chain).
func newFixture(t testing.TB) *fakeSource {
	t.Helper()
	return newFixtureFrom(t, chainFiles(t, "chain"), latestFixtureID)
}

// newFixtureFrom serves the attestation files (oldest first; the last is
// the latest, whose id must be latestID unless that is empty) with the live
// figures of the version 1 fixture.
func newFixtureFrom(t testing.TB, files []string, latestID string) *fakeSource {
	t.Helper()
	src := &fakeSource{docs: map[string][]byte{}}
	var list []Attestation
	var hist []HistoryPoint
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, h, err := Summarize(b, filepath.Base(f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		src.docs[s.ID] = b
		list = append([]Attestation{s}, list...)
		hist = append(hist, h)
	}
	latest := list[0]
	if latestID != "" && latest.ID != latestID {
		t.Fatalf("latest fixture id %s, want %s", latest.ID, latestID)
	}
	// Earlier history, so the chart has a shape.
	base := hist[0].Time
	var early []HistoryPoint
	for i := 6; i >= 1; i-- {
		early = append(early, HistoryPoint{Time: base.Add(-time.Duration(i) * 4 * time.Hour),
			ReservesSats: 100_000_000 + int64(i)*1_500_000, LiabilitiesSats: 90_000_000 + int64(6-i)*1_800_000,
			CoverageBps: (100_000_000 + int64(i)*1_500_000) * 10000 / (90_000_000 + int64(6-i)*1_800_000)})
	}
	hist = append(early, hist...)

	now := latest.Time.Add(17 * time.Minute)
	src.page = &PageData{
		Issuer:  "Kosh Community Treasury",
		Network: "regtest",
		Now:     now,
		Reserves: Reserves{
			Height: latest.Height, BlockHash: latest.BlockHash, Time: now.Add(-30 * time.Second),
			Sources: []ReserveSource{
				{Name: "cold storage", Kind: KindOnchain, CountedSats: 111_234_567, ReportedSats: 111_234_567,
					Detail: "3 outputs, 6+ confirmations", LastSeen: now.Add(-5 * time.Second)},
				{Name: "alice", Kind: KindLightning, ID: "0390588f18492deec1895bfde15414e17ec2a8021647fd5ad42f0098178eb2d52d",
					CountedSats: 2_212_500, ReportedSats: 3_900_000, Detail: "2 channels, 1 pending", LastSeen: now.Add(-12 * time.Second)},
				{Name: "bob", Kind: KindLightning, ID: "03bbcd7a78e14c0754b24b7a3f2520a280ac9aa27f36c63e57c6622f7c06ca8c80",
					CountedSats: 5_874_000, ReportedSats: 8_000_000, Detail: "1 channel", LastSeen: now.Add(-9 * time.Second)},
			},
			CountedSats: 119_321_067, ReportedSats: 123_134_567,
		},
		Assets: []Asset{
			{Code: "INR", Name: "Digital rupee", Decimals: 2, Peg: "fiat", Currency: "INR", Supply: 26_234_568, Accounts: 3,
				BackingSats: 3_229_484, CoverageBps: 16071, MinCoverageBps: 15000, WarnCoverageBps: 17500,
				Price: &Price{Coefficient: "812345678", Scale: 2, Currency: "INR", Time: now.Add(-2 * time.Minute), Source: "median of 3 oracles"}},
			{Code: "SAT", Name: "Community sats", Decimals: 0, Peg: "sat", Supply: 99_650_010, Accounts: 5,
				BackingSats: 99_650_010, CoverageBps: 11664, MinCoverageBps: 10000},
		},
		Coverage:     Coverage{CountedSats: 119_321_067, BackingSats: 102_879_494, RequiredSats: 104_494_235, Bps: 11598},
		Latest:       &latest,
		History:      hist,
		Attestations: list,
	}
	return src
}

// bundleFixture is a holder's inclusion bundle for the latest fixture.
func bundleFixture(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoTestdata, "attest", "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), latestFixtureID) {
		t.Fatalf("testdata/attest/bundle.json is not for attestation %s", latestFixtureID)
	}
	return strings.TrimSpace(string(b))
}

// testMux serves the page, plus (for the vector suites) the repository's
// testdata under /testdata/ and web/testdata/vectors.html at /vectors.
func testMux(src DataSource) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", New(src, Options{}))
	mux.Handle("GET /testdata/", http.StripPrefix("/testdata/", http.FileServer(http.Dir(repoTestdata))))
	mux.HandleFunc("GET /vectors", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		http.ServeFile(w, r, "testdata/vectors.html")
	})
	mux.HandleFunc("GET /vectors.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "testdata/vectors.js")
	})
	return mux
}
