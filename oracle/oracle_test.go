package oracle

import (
	"context"
	"errors"
	"fmt"
	"github.com/kosh-reserve/kosh/money"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// priceServer is a loopback price source whose answers a test controls.
type priceServer struct {
	*httptest.Server
	mu    sync.Mutex
	price string    // JSON value of the price
	time  time.Time // quote time served at /t (zero: omitted)
	delay time.Duration
	body  string // when set, served verbatim instead
}

func newPriceServer(t *testing.T, price string) *priceServer {
	t.Helper()
	ps := &priceServer{price: price}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		price, tm, delay, body := ps.price, ps.time, ps.delay, ps.body
		ps.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if body != "" {
			fmt.Fprint(w, body)
			return
		}
		if tm.IsZero() {
			fmt.Fprintf(w, `{"data":{"price":%s}}`, price)
			return
		}
		fmt.Fprintf(w, `{"data":{"price":%s},"t":%d}`, price, tm.Unix())
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *priceServer) set(f func(ps *priceServer)) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	f(ps)
}

func src(name string, ps *priceServer) SourceConfig {
	return SourceConfig{Name: name, URL: ps.URL, Pointer: "/data/price", Timeout: 5 * time.Second}
}

func newTestOracle(t *testing.T, clk *fixedClock, minSources int, spreadBps int64, sources ...SourceConfig) *Oracle {
	t.Helper()
	o, err := New(Config{Currency: "INR", Sources: sources, MinSources: minSources, MaxSpreadBps: spreadBps, MaxAge: 5 * time.Minute}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func contributing(q Quote) string {
	var s []string
	for _, sq := range q.Sources {
		if sq.Contributing {
			s = append(s, sq.Name)
		}
	}
	return strings.Join(s, ",")
}

func wantPrice(t *testing.T, q Quote, want string) {
	t.Helper()
	p, err := q.Usable()
	if err != nil {
		t.Fatalf("quote stale: %v", err)
	}
	if p.Cmp(money.MustPrice(want)) != 0 {
		t.Fatalf("price %s, want %s", p, want)
	}
}

func TestOracleMedianOfGoodSources(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b, c := newPriceServer(t, "6543210.12"), newPriceServer(t, `"6540000"`), newPriceServer(t, "6.5500e6")
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b), src("c", c))
	if q := o.Current(); !q.Stale || !strings.Contains(q.Reason, "none of 3 sources is fresh (min 2): source a: not polled yet") {
		t.Fatalf("before polling: %+v", q)
	}
	o.Poll(context.Background())
	q := o.Current()
	wantPrice(t, q, "6543210.12")
	if q.Manual || contributing(q) != "a,b,c" || !q.Time.Equal(epoch) || q.MinSources != 2 || q.MaxSpreadBps != 100 || q.MaxAge != 5*time.Minute {
		t.Fatalf("quote %+v", q)
	}
	// Spread: |6550000 − 6543210.12| / 6543210.12 = 10.377 bps → 11.
	if q.SpreadBps != 11 {
		t.Fatalf("spread %d bps, want 11", q.SpreadBps)
	}
	if q.Sources[1].Price.String() != "6540000" || !q.Sources[1].Time.Equal(epoch) || !q.Sources[1].Fresh {
		t.Fatalf("source b: %+v", q.Sources[1])
	}
}

func TestOracleEvenCountLowerMedian(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b, c, d := newPriceServer(t, "100.00"), newPriceServer(t, "100.50"), newPriceServer(t, "100.2"), newPriceServer(t, "100.9")
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b), src("c", c), src("d", d))
	o.Poll(context.Background())
	// Sorted: 100.00, 100.2, 100.50, 100.9 → lower middle 100.2.
	wantPrice(t, o.Current(), "100.2")
}

func TestOracleLiarOutsideSpreadIsExcluded(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b, c := newPriceServer(t, "6543210"), newPriceServer(t, "6544000"), newPriceServer(t, "6545000")
	liar := newPriceServer(t, "9000000")
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b), src("c", c), src("liar", liar))
	o.Poll(context.Background())
	q := o.Current()
	// Fresh sorted: 6543210, 6544000, 6545000, 9000000: median 6544000;
	// the liar is 37% away and excluded; the agreeing three give 6544000.
	wantPrice(t, q, "6544000")
	if contributing(q) != "a,b,c" || q.Sources[3].Contributing || !q.Sources[3].Fresh {
		t.Fatalf("contributing %q, liar %+v", contributing(q), q.Sources[3])
	}
	// A liar going low instead cannot drag the price either.
	liar.set(func(ps *priceServer) { ps.price = "1" })
	o.Poll(context.Background())
	wantPrice(t, o.Current(), "6544000")
}

func TestOracleLiarInsideSpreadMovesPriceOnlyWithinIt(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b := newPriceServer(t, "1000"), newPriceServer(t, "1001")
	liar := newPriceServer(t, "1")
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b), src("liar", liar))
	for _, lie := range []string{"1", "990", "995", "1009", "1010", "1011", "5000", "1000000"} {
		liar.set(func(ps *priceServer) { ps.price = lie })
		o.Poll(context.Background())
		q := o.Current()
		p, err := q.Usable()
		if err != nil {
			t.Fatalf("lie %s: %v", lie, err)
		}
		// The honest prices are 1000 and 1001: the quote stays within 1%
		// of them whatever the liar says.
		if !withinBps(p, money.MustPrice("1000"), 100) || !withinBps(p, money.MustPrice("1001"), 100) {
			t.Fatalf("lie %s moved the price to %s", lie, p)
		}
	}
}

func TestOracleDisagreementIsStale(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, liar := newPriceServer(t, "1000"), newPriceServer(t, "2000")
	o := newTestOracle(t, clk, 1, 100, src("a", a), src("liar", liar))
	o.Poll(context.Background())
	q := o.Current()
	want := "only 1 of 2 fresh sources agree within 1.00% of the median 1000 (a strict majority of fresh sources is needed): source liar: 2000 is 100.00% from the median"
	if !q.Stale || q.Reason != want || !q.Price.IsZero() {
		t.Fatalf("quote %+v\nwant reason %q", q, want)
	}
	_, err := q.Usable()
	if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), "no usable INR price") {
		t.Fatalf("Usable: %v", err)
	}
	// With min 2 and three sources, two liars that disagree with each
	// other leave one source agreeing: stale, naming both.
	l2 := newPriceServer(t, "500")
	o = newTestOracle(t, clk, 2, 100, src("a", a), src("liar", liar), src("l2", l2))
	o.Poll(context.Background())
	q = o.Current()
	if !q.Stale || !strings.Contains(q.Reason, "only 1 of 3 fresh sources agree within 1.00% of the median 1000 (min 2): source liar: 2000 is 100.00% from the median; source l2: 500 is 50.00% from the median") {
		t.Fatalf("quote %+v", q)
	}
}

func TestOracleSlowSource(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b, slow := newPriceServer(t, "1000"), newPriceServer(t, "1001"), newPriceServer(t, "1002")
	slow.set(func(ps *priceServer) { ps.delay = 30 * time.Second })
	slowCfg := src("slow", slow)
	slowCfg.Timeout = 300 * time.Millisecond
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b), slowCfg)
	start := time.Now()
	o.Poll(context.Background())
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("poll waited %s for a slow source", d)
	}
	q := o.Current()
	wantPrice(t, q, "1000")
	if q.Sources[2].Fresh || !strings.Contains(q.Sources[2].Err, "timed out") {
		t.Fatalf("slow source %+v", q.Sources[2])
	}
	o3 := newTestOracle(t, clk, 3, 100, src("a", a), src("b", b), slowCfg)
	o3.Poll(context.Background())
	if q := o3.Current(); !q.Stale || !strings.Contains(q.Reason, "only 2 of 3 sources are fresh (min 3): source slow: timed out") {
		t.Fatalf("quote %+v", q)
	}
}

func TestOracleStaleSources(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b, c := newPriceServer(t, "1000"), newPriceServer(t, "1001"), newPriceServer(t, "1002")
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b), src("c", c))
	o.Poll(context.Background())
	wantPrice(t, o.Current(), "1001")

	// c stops answering with a price (serves garbage): its last price ages.
	c.set(func(ps *priceServer) { ps.body = "{" })
	clk.advance(12 * time.Minute)
	a.Close() // stops listening: connection refused
	b.Close()
	o.Poll(context.Background())
	q := o.Current()
	if !q.Stale {
		t.Fatalf("quote %+v", q)
	}
	want := "none of 3 sources is fresh (min 2): source a: last price 12m ago (max age 5m), then: "
	if !strings.HasPrefix(q.Reason, want) || !strings.Contains(q.Reason, "connection refused") ||
		!strings.Contains(q.Reason, "; source c: last price 12m ago (max age 5m), then: bad source response: malformed JSON") {
		t.Fatalf("reason %q", q.Reason)
	}
	// A new source that never answered: the reason is its error alone.
	d := newPriceServer(t, "1000")
	e := newPriceServer(t, "1000")
	o = newTestOracle(t, clk, 2, 100, src("d", d), src("e", e), src("b", b))
	e.set(func(ps *priceServer) { ps.body = `{"data":{}}` })
	o.Poll(context.Background())
	q = o.Current()
	if !q.Stale || !strings.HasPrefix(q.Reason, `only 1 of 3 sources is fresh (min 2): source e: bad source response: JSON pointer target not found: pointer "/data/price": object at "/data" has no member "price"; source b: `) || !strings.HasSuffix(q.Reason, "connection refused") {
		t.Fatalf("reason %q", q.Reason)
	}
}

func TestOracleOldTimestamps(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b, old := newPriceServer(t, "1000"), newPriceServer(t, "1001"), newPriceServer(t, "1002")
	for _, ps := range []*priceServer{a, b} {
		ps.set(func(ps *priceServer) { ps.time = epoch.Add(-time.Minute) })
	}
	old.set(func(ps *priceServer) { ps.time = epoch.Add(-12 * time.Minute) })
	cfgs := []SourceConfig{src("a", a), src("b", b), src("old", old)}
	for i := range cfgs {
		cfgs[i].TimePointer = "/t"
	}
	o := newTestOracle(t, clk, 3, 100, cfgs...)
	o.Poll(context.Background())
	q := o.Current()
	if !q.Stale || q.Reason != "only 2 of 3 sources are fresh (min 3): source old: last price 12m ago (max age 5m)" {
		t.Fatalf("reason %q", q.Reason)
	}
	// Exactly MaxAge old is still fresh; one second more is not.
	old.set(func(ps *priceServer) { ps.time = epoch.Add(-5 * time.Minute) })
	o.Poll(context.Background())
	wantPrice(t, o.Current(), "1001")
	clk.advance(time.Second)
	if q := o.Current(); !q.Stale || !strings.Contains(q.Reason, "source old: last price 5m1s ago (max age 5m)") {
		t.Fatalf("reason %q", q.Reason)
	}
	// A source answering an older quote than it gave before is ignored.
	old.set(func(ps *priceServer) { ps.time = epoch.Add(-6 * time.Minute); ps.price = "1" })
	o.Poll(context.Background())
	q = o.Current()
	if q.Sources[2].Price.String() != "1002" || !strings.Contains(q.Sources[2].Err, "older than the last one") {
		t.Fatalf("source old %+v", q.Sources[2])
	}
}

func TestOracleMalformedAndHugeSources(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b, bad, huge := newPriceServer(t, "1000"), newPriceServer(t, "1001"), newPriceServer(t, "1"), newPriceServer(t, "1")
	bad.set(func(ps *priceServer) { ps.body = `{"data":{"price":1000.5,}}` })
	huge.set(func(ps *priceServer) { ps.body = `{"data":{"price":1000},"x":"` + strings.Repeat("a", 4096) + `"}` })
	hcfg := src("huge", huge)
	hcfg.MaxBodyBytes = 1024
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b), src("bad", bad), hcfg)
	o.Poll(context.Background())
	q := o.Current()
	wantPrice(t, q, "1000")
	if contributing(q) != "a,b" || !strings.Contains(q.Sources[2].Err, "malformed JSON") || !strings.Contains(q.Sources[3].Err, "exceeds the limit of 1024") {
		t.Fatalf("quote %+v", q)
	}
}

func TestOracleManual(t *testing.T) {
	clk := &fixedClock{t: epoch}
	a, b := newPriceServer(t, "1000"), newPriceServer(t, "1001")
	o := newTestOracle(t, clk, 2, 100, src("a", a), src("b", b))
	o.Poll(context.Background())
	until := epoch.Add(time.Hour)
	if err := o.SetManual(money.MustPrice("1234.56"), "alice", until); err != nil {
		t.Fatal(err)
	}
	q := o.Current()
	wantPrice(t, q, "1234.56")
	if !q.Manual || q.ManualBy != "alice" || !q.ManualUntil.Equal(until) || !q.ManualSetAt.Equal(epoch) || contributing(q) != "" || len(q.Sources) != 2 {
		t.Fatalf("manual quote %+v", q)
	}
	// A manual price holds even when every source is down.
	a.Close()
	b.Close()
	clk.advance(59 * time.Minute)
	o.Poll(context.Background())
	wantPrice(t, o.Current(), "1234.56")
	// At its expiry it no longer applies, and the sources are stale.
	clk.advance(time.Minute)
	if q := o.Current(); !q.Stale || q.Manual {
		t.Fatalf("expired manual quote %+v", q)
	}
	// Until cleared.
	if err := o.SetManual(money.MustPrice("1"), "bob", time.Time{}); err != nil {
		t.Fatal(err)
	}
	clk.advance(1000 * time.Hour)
	if q := o.Current(); !q.Manual || q.ManualBy != "bob" {
		t.Fatalf("quote %+v", q)
	}
	o.ClearManual()
	if q := o.Current(); q.Manual || !q.Stale {
		t.Fatalf("cleared: %+v", q)
	}
	for _, bad := range []struct {
		p     money.Price
		by    string
		until time.Time
	}{
		{money.Price{}, "x", time.Time{}},
		{money.MustPrice("1"), " ", time.Time{}},
		{money.MustPrice("1"), "x", clk.t},
	} {
		if err := o.SetManual(bad.p, bad.by, bad.until); err == nil {
			t.Errorf("SetManual(%v, %q, %v) accepted", bad.p, bad.by, bad.until)
		}
	}
	// A manual-only oracle.
	m, err := New(Config{Currency: "INR"}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	if q := m.Current(); !q.Stale || !strings.Contains(q.Reason, "no price sources") {
		t.Fatalf("manual-only: %+v", q)
	}
	if err := m.SetManual(money.MustPrice("5"), "carol", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Price(); err != nil || p.String() != "5" {
		t.Fatalf("manual-only price %v, %v", p, err)
	}
}

func TestOracleRun(t *testing.T) {
	a := newPriceServer(t, "1000")
	o, err := New(Config{Currency: "INR", Sources: []SourceConfig{src("a", a)}, MinSources: 1, MaxSpreadBps: 50, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- o.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p, err := o.Price(); err == nil && p.String() == "1001" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run never picked up the new price")
		}
		a.set(func(ps *priceServer) { ps.price = "1001" })
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestNewOracleErrors(t *testing.T) {
	s := SourceConfig{Name: "a", URL: "http://127.0.0.1:1/", Pointer: "/p"}
	for _, cfg := range []Config{
		{Sources: []SourceConfig{s}, MinSources: 0, MaxSpreadBps: 100},
		{Sources: []SourceConfig{s}, MinSources: 2, MaxSpreadBps: 100},
		{Sources: []SourceConfig{s}, MinSources: 1, MaxSpreadBps: 0},
		{Sources: []SourceConfig{s}, MinSources: 1, MaxSpreadBps: 10001},
		{Sources: []SourceConfig{s, s}, MinSources: 1, MaxSpreadBps: 100},
		{Sources: []SourceConfig{{Name: "b", URL: "http://x/"}}, MinSources: 1, MaxSpreadBps: 100},
		{Sources: []SourceConfig{s}, MinSources: 1, MaxSpreadBps: 100, Interval: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	o, err := New(Config{Sources: []SourceConfig{s}, MinSources: 1, MaxSpreadBps: 100})
	if err != nil {
		t.Fatal(err)
	}
	c := o.Config()
	if c.Interval != DefaultInterval || c.MaxAge != DefaultMaxAge || c.Sources[0].Timeout != DefaultTimeout || c.Sources[0].MaxBodyBytes != DefaultMaxBodyBytes {
		t.Fatalf("defaults %+v", c)
	}
}

func TestMedianAndDeviation(t *testing.T) {
	ps := func(ss ...string) []money.Price {
		var out []money.Price
		for _, s := range ss {
			out = append(out, money.MustPrice(s))
		}
		return out
	}
	tests := []struct {
		in   []money.Price
		want string
	}{
		{ps("5"), "5"},
		{ps("2", "1"), "1"},
		{ps("3", "1", "2"), "2"},
		{ps("1.50", "1.5", "1.49", "2"), "1.5"},
		{ps("0.000000000000000001", "1e20", "7"), "7"},
	}
	for _, tc := range tests {
		if got := Median(tc.in); got.Cmp(money.MustPrice(tc.want)) != 0 {
			t.Errorf("Median(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// Exactly at the spread boundary agrees; one unit beyond does not.
	m := money.MustPrice("10000")
	if !withinBps(money.MustPrice("10100"), m, 100) || !withinBps(money.MustPrice("9900"), m, 100) || withinBps(money.MustPrice("10100.01"), m, 100) || withinBps(money.MustPrice("9899.99"), m, 100) {
		t.Error("spread boundary")
	}
	if money.DeviationBps(money.MustPrice("10100"), m) != 100 || money.DeviationBps(money.MustPrice("10100.01"), m) != 101 || money.DeviationBps(m, m) != 0 {
		t.Error("DeviationBps")
	}
}
