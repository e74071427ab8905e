package oracle

import (
	"context"
	"errors"
	"fmt"
	"github.com/kosh-reserve/kosh/money"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fixedClock is a settable deterministic clock.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time          { return c.t }
func (c *fixedClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var epoch = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// jsonServer serves body with status and content type on loopback.
func jsonServer(t *testing.T, status int, ctype, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newTestSource(t *testing.T, cfg SourceConfig, clk *fixedClock) *Source {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	s, err := NewSource(cfg, WithSourceClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSourceFetch(t *testing.T) {
	clk := &fixedClock{t: epoch}
	tests := []struct {
		name     string
		status   int
		ctype    string
		body     string
		cfg      SourceConfig
		want     string // price, or "" for an error
		wantTime time.Time
		err      string
	}{
		{"number", 200, "application/json", `{"bitcoin":{"inr":6543210.12}}`, SourceConfig{Pointer: "/bitcoin/inr"}, "6543210.12", epoch, ""},
		{"string", 200, "application/json; charset=utf-8", `{"data":{"amount":"6543210.12"}}`, SourceConfig{Pointer: "/data/amount"}, "6543210.12", epoch, ""},
		{"array and escapes", 200, "application/vnd.api+json", `{"r/x":[{"p":"1e6"}]}`, SourceConfig{Pointer: "/r~1x/0/p"}, "1000000", epoch, ""},
		{"cents", 200, "application/json", `{"usd_cents":9876543}`, SourceConfig{Pointer: "/usd_cents", Exponent: -2}, "98765.43", epoch, ""},
		{"unix time", 200, "application/json", `{"p":1,"t":1795392000}`, SourceConfig{Pointer: "/p", TimePointer: "/t"}, "1", time.Unix(1795392000, 0), ""},
		{"rfc3339 time", 200, "application/json", `{"p":1,"t":"2026-11-22T23:59:00Z"}`, SourceConfig{Pointer: "/p", TimePointer: "/t"}, "1", epoch.Add(-time.Minute), ""},
		{"future time", 200, "application/json", `{"p":1,"t":"2026-11-23T00:05:00Z"}`, SourceConfig{Pointer: "/p", TimePointer: "/t"}, "", time.Time{}, "ahead of the local clock"},
		{"bad time", 200, "application/json", `{"p":1,"t":true}`, SourceConfig{Pointer: "/p", TimePointer: "/t"}, "", time.Time{}, "not Unix seconds"},
		{"status", 503, "application/json", `{}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "HTTP status 503"},
		{"redirect", 302, "application/json", `{}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "HTTP status 302"},
		{"html", 200, "text/html", `<html>`, SourceConfig{Pointer: "/p"}, "", time.Time{}, `"text/html" is not JSON`},
		{"no content type", 200, "", `{"p":1}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "not JSON"},
		{"malformed", 200, "application/json", `{"p":1`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "malformed JSON"},
		{"trailing", 200, "application/json", `{"p":1} {"p":2}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "data after the first value"},
		{"wrong pointer", 200, "application/json", `{"bitcoin":{"usd":1}}`, SourceConfig{Pointer: "/bitcoin/inr"}, "", time.Time{}, `object at "/bitcoin" has no member "inr"`},
		{"null price", 200, "application/json", `{"p":null}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "value is null"},
		{"negative", 200, "application/json", `{"p":-5}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "negative"},
		{"zero", 200, "application/json", `{"p":0}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "zero"},
		{"nan string", 200, "application/json", `{"p":"NaN"}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "not a number"},
		{"too precise", 200, "application/json", `{"p":"1.0000000000000000001"}`, SourceConfig{Pointer: "/p"}, "", time.Time{}, "decimal places"},
		{"shift too precise", 200, "application/json", `{"p":"0.0000000000000001"}`, SourceConfig{Pointer: "/p", Exponent: -3}, "", time.Time{}, "decimal places"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := jsonServer(t, tc.status, tc.ctype, tc.body)
			if tc.status == 302 {
				srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "/elsewhere", http.StatusFound)
				}))
				defer srv.Close()
			}
			cfg := tc.cfg
			cfg.URL = srv.URL
			p, tm, err := newTestSource(t, cfg, clk).Fetch(context.Background())
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSource) {
					t.Fatalf("Fetch = %v, %v, %v; want ErrSource containing %q", p, tm, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Cmp(money.MustPrice(tc.want)) != 0 || !tm.Equal(tc.wantTime) {
				t.Fatalf("Fetch = %s at %s, want %s at %s", p, tm, tc.want, tc.wantTime)
			}
		})
	}
}

func TestSourceHugeBody(t *testing.T) {
	clk := &fixedClock{t: epoch}
	huge := `{"p":1,"pad":"` + strings.Repeat("x", 2000) + `"}`
	srv := jsonServer(t, 200, "application/json", huge)
	s := newTestSource(t, SourceConfig{URL: srv.URL, Pointer: "/p", MaxBodyBytes: 1000}, clk)
	if _, _, err := s.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Fatalf("huge body with Content-Length: %v", err)
	}
	// Without a Content-Length (chunked), the limit still holds.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"p":1,"pad":"`)
		for range 100 {
			fmt.Fprint(w, strings.Repeat("x", 100))
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, `"}`)
	}))
	defer chunked.Close()
	s = newTestSource(t, SourceConfig{URL: chunked.URL, Pointer: "/p", MaxBodyBytes: 1000}, clk)
	if _, _, err := s.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Fatalf("huge chunked body: %v", err)
	}
}

func TestSourceTimeout(t *testing.T) {
	clk := &fixedClock{t: epoch}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := newTestSource(t, SourceConfig{URL: srv.URL, Pointer: "/p", Timeout: 50 * time.Millisecond}, clk)
	start := time.Now()
	_, _, err := s.Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("slow source: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %s", d)
	}
}

func TestNewSourceErrors(t *testing.T) {
	for _, cfg := range []SourceConfig{
		{URL: "http://x/", Pointer: "/p"},
		{Name: "a", URL: "ftp://x/", Pointer: "/p"},
		{Name: "a", URL: "http:///p", Pointer: "/p"},
		{Name: "a", URL: "http://x/", Pointer: ""},
		{Name: "a", URL: "http://x/", Pointer: "p"},
		{Name: "a", URL: "http://x/", Pointer: "/p", TimePointer: "/~9"},
		{Name: "a", URL: "http://x/", Pointer: "/p", Exponent: 19},
		{Name: "a", URL: "http://x/", Pointer: "/p", Timeout: -1},
	} {
		if _, err := NewSource(cfg); err == nil {
			t.Errorf("NewSource(%+v) accepted", cfg)
		}
	}
}
