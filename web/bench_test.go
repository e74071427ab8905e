package web

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"
)

// BenchmarkPage measures what a visitor downloads and how soon a warm
// server answers. Targets (issue 5): page weight under 150 KB, first byte
// under 50 ms. Reported metrics:
//
//	page-bytes     the HTML plus every asset it references (CSS, JS, icon)
//	page-bytes-v2  the same with the version 2 fixture
//	ttfb-ms        time to the first byte of GET / (median of b.N requests)
//	sha256-MiB-ms  the machine's raw SHA-256 time for 1 MiB, measured in the
//	               same run, as a baseline for the noisy shared machine
//	ttfb/sha256    the ratio of the two
//
// Run: go test -run '^$' -bench BenchmarkPage -benchtime 200x ./web/
func BenchmarkPage(b *testing.B) {
	src := newFixture(b)
	srv := httptest.NewServer(testMux(src))
	defer srv.Close()
	client := srv.Client()
	get := func(path string) ([]byte, time.Duration) {
		start := time.Now()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		one := make([]byte, 1)
		if _, err := io.ReadFull(resp.Body, one); err != nil {
			b.Fatal(err)
		}
		ttfb := time.Since(start)
		rest, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return append(one, rest...), ttfb
	}

	// Page weight: the HTML and every same-origin asset it references,
	// with the version 1 fixture and with the version 2 one (which lists
	// its uncounted outputs and claimed channels).
	pageWeight := func(get func(string) ([]byte, time.Duration)) int {
		html, _ := get("/")
		weight := len(html)
		for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllSubmatch(html, -1) {
			body, _ := get(string(m[1]))
			weight += len(body)
		}
		return weight
	}
	weight := pageWeight(get)
	srv2 := httptest.NewServer(testMux(newFixtureFrom(b, chainFiles(b, "chain-v2"), latestV2FixtureID)))
	defer srv2.Close()
	weightV2 := pageWeight(func(path string) ([]byte, time.Duration) {
		resp, err := srv2.Client().Get(srv2.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return body, 0
	})

	// Baseline: raw SHA-256 of 1 MiB.
	buf := make([]byte, 1<<20)
	start := time.Now()
	const rounds = 20
	for i := 0; i < rounds; i++ {
		sha256.Sum256(buf)
	}
	shaMS := float64(time.Since(start).Microseconds()) / 1000 / rounds

	ttfbs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, t := get("/")
		ttfbs = append(ttfbs, t)
	}
	b.StopTimer()
	med := median(ttfbs)
	ttfbMS := float64(med.Microseconds()) / 1000
	b.ReportMetric(float64(weight), "page-bytes")
	b.ReportMetric(float64(weightV2), "page-bytes-v2")
	b.ReportMetric(ttfbMS, "ttfb-ms")
	b.ReportMetric(shaMS, "sha256-MiB-ms")
	b.ReportMetric(ttfbMS/shaMS, "ttfb/sha256")
	for _, w := range []int{weight, weightV2} {
		if w > 150_000 {
			b.Errorf("page weight %d bytes is over the 150 KB budget", w)
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}
