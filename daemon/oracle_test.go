package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/pricedb"
	"google.golang.org/grpc/codes"
)

// priceServer is a loopback JSON price source whose answer a test changes.
type priceServer struct {
	*httptest.Server
	body   atomic.Value // string
	status atomic.Int32
	hits   atomic.Int64
}

func newPriceServer(t *testing.T, body string) *priceServer {
	t.Helper()
	ps := &priceServer{}
	ps.body.Store(body)
	ps.status.Store(http.StatusOK)
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ps.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(ps.status.Load()))
		io.WriteString(w, ps.body.Load().(string))
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *priceServer) set(body string) { ps.body.Store(body) }

// oracleConfig is a node configuration with the given [oracle] sources and
// fast polling.
func oracleConfig(t *testing.T, backend store.Backend, maxAge time.Duration, sources ...string) daemon.Config {
	cfg := newConfig(t, backend)
	cfg.Oracle.Sources = sources
	cfg.Oracle.PollInterval = 50 * time.Millisecond
	cfg.Oracle.MaxAge = maxAge
	cfg.Oracle.SpreadBps = 100
	return cfg
}

// createINR defines INR: paise (decimals 2), minimum coverage 1.50,
// warning below 2.00.
func (n *node) createINR() {
	n.t.Helper()
	_, err := n.issuer.CreateAsset(ctx(n.t, n.admin), &koshv1.CreateAssetRequest{Code: "INR", Name: "Digital rupee",
		Decimals: 2, Peg: koshv1.Peg_PEG_FIAT, Currency: "INR", MinCoverageBps: 15000, WarnCoverageBps: 20000})
	if err != nil {
		n.t.Fatalf("create INR: %v", err)
	}
}

// reservesOf registers a reserve source counting sats.
func (n *node) reservesOf(sats int64) {
	n.t.Helper()
	n.d.Reserves().Register("test-source", time.Hour)
	if err := n.d.Reserves().Report("test-source", sats); err != nil {
		n.t.Fatalf("report reserves: %v", err)
	}
}

// prices returns GetPrices's quote of currency (nil if absent).
func (n *node) price(currency string) *koshv1.PriceQuote {
	n.t.Helper()
	resp, err := n.issuer.GetPrices(ctx(n.t, n.readonly), &koshv1.GetPricesRequest{})
	if err != nil {
		n.t.Fatalf("GetPrices: %v", err)
	}
	for _, q := range resp.Prices {
		if q.Currency == currency {
			return q
		}
	}
	return nil
}

// waitPrice waits until cond holds for the currency's quote.
func (n *node) waitPrice(currency, what string, cond func(q *koshv1.PriceQuote) bool) *koshv1.PriceQuote {
	n.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		q := n.price(currency)
		if q != nil && cond(q) {
			return q
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("waiting for %s: last quote %v", what, q)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *node) tryMint(asset, account string, amount int64) error {
	_, err := n.issuer.Mint(ctx(n.t, n.admin), &koshv1.MintRequest{Asset: asset, AccountId: account,
		Amount: amount, IdempotencyKey: newKey("mint")})
	return err
}

// metric returns the value of one sample line of /metrics ("" if absent).
func (n *node) metric(name, labels string) string {
	n.t.Helper()
	r := n.rest(http.MethodGet, "/metrics", "", nil)
	if r.Status != http.StatusOK {
		n.t.Fatalf("GET /metrics: HTTP %d", r.Status)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+labels) + ` (\S+)$`).FindSubmatch(r.Raw)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestFiatMintAtThePrice proves the coverage gate of an INR asset (paise,
// minimum 1.50) at the oracle's price from two loopback sources: a mint to
// exactly the boundary is allowed and one paisa above is refused; the
// metrics show the price and the coverage at the warning level; a source
// lying beyond the spread, then a source failing past the max age, make the
// price stale and stop fiat mints; GetPrices shows every source.
func TestFiatMintAtThePrice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		// 6,000,000.00 INR/BTC: one source quotes rupees as a string, the
		// other paise as a number (scale=2).
		a := newPriceServer(t, `{"data":{"price":"6000000.00"}}`)
		b := newPriceServer(t, `{"inr":600000000}`)
		cfg := oracleConfig(t, backend, 3*time.Second,
			"name=a,currency=INR,url="+a.URL+"/btc,pointer=/data/price",
			"name=b,currency=INR,url="+b.URL+"/x,pointer=/inr,scale=2")
		n := startNodeWith(t, cfg)
		// 0.01 BTC is worth 60,000.00 INR; at 1.50 it backs 40,000.00 INR
		// = 4,000,000 paise exactly.
		n.reservesOf(1_000_000)
		n.createINR()
		acct, _ := n.createAccount("holder")
		q := n.waitPrice("INR", "a fresh INR price", func(q *koshv1.PriceQuote) bool { return !q.Stale })
		if q.Price != "6000000.00" || q.Manual || len(q.Sources) != 2 || !q.Sources[0].Used || !q.Sources[1].Used {
			t.Fatalf("INR quote %v", q)
		}
		if q.Sources[0].Name != "a" || q.Sources[1].Name != "b" || q.Sources[1].Price != "6000000.00" {
			t.Fatalf("INR sources %v", q.Sources)
		}

		err := n.tryMint("INR", acct, 4_000_001)
		requireCode(t, "mint one paisa above the boundary", err, codes.FailedPrecondition, "1000001 sats", "1000000 are counted")
		if err := n.tryMint("INR", acct, 4_000_000); err != nil {
			t.Fatalf("mint to exactly 1.50x: %v", err)
		}
		requireCode(t, "mint one more paisa", n.tryMint("INR", acct, 1), codes.FailedPrecondition, "1000001 sats")
		if s := n.supply("INR"); s.Supply != 4_000_000 {
			t.Fatalf("supply %d", s.Supply)
		}

		for _, m := range []struct{ name, labels, want string }{
			{"kosh_price", `{currency="INR"}`, "6e+06"},
			{"kosh_price_stale", `{currency="INR"}`, "0"},
			{"kosh_price_manual", `{currency="INR"}`, "0"},
			{"kosh_price_source_used", `{currency="INR",source="b"}`, "1"},
			{"kosh_asset_coverage_bps", `{asset="INR"}`, "15000"},
			{"kosh_asset_coverage_warning", `{asset="INR"}`, "1"},
			{"kosh_asset_coverage_below_minimum", `{asset="INR"}`, "0"},
			{"kosh_asset_coverage_unknown", `{asset="INR"}`, "0"},
		} {
			if got := n.metric(m.name, m.labels); got != m.want {
				t.Errorf("%s%s = %q, want %q", m.name, m.labels, got, m.want)
			}
		}
		if age := n.metric("kosh_price_age_seconds", `{currency="INR"}`); age == "" || strings.HasPrefix(age, "-") {
			t.Errorf("kosh_price_age_seconds = %q", age)
		}

		// Burn some so that a mint has room, then make b lie 10% high.
		if _, err := n.issuer.Burn(ctx(t, n.admin), &koshv1.BurnRequest{Asset: "INR", AccountId: acct,
			Amount: 1_000_000, IdempotencyKey: newKey("burn")}); err != nil {
			t.Fatal(err)
		}
		b.set(`{"inr":660000000}`)
		q = n.waitPrice("INR", "a stale price (liar)", func(q *koshv1.PriceQuote) bool { return q.Stale })
		if !strings.Contains(q.Problem, "agree") || q.Price != "" {
			t.Errorf("stale quote with a liar: %v", q)
		}
		requireCode(t, "mint with sources disagreeing", n.tryMint("INR", acct, 1), codes.FailedPrecondition,
			"INR", "agree within 1.00%")
		if got := n.metric("kosh_price_stale", `{currency="INR"}`); got != "1" {
			t.Errorf("kosh_price_stale = %q with a liar", got)
		}
		if got := n.metric("kosh_asset_coverage_unknown", `{asset="INR"}`); got != "1" {
			t.Errorf("kosh_asset_coverage_unknown = %q with a stale price", got)
		}

		// Back in agreement: minting resumes.
		b.set(`{"inr":600000000}`)
		n.waitPrice("INR", "a fresh price again", func(q *koshv1.PriceQuote) bool { return !q.Stale })
		if err := n.tryMint("INR", acct, 1); err != nil {
			t.Fatalf("mint after recovery: %v", err)
		}

		// b fails: its last price ages out after max age (3s), leaving
		// one fresh source of the two required.
		b.status.Store(http.StatusServiceUnavailable)
		q = n.waitPrice("INR", "a stale price (too few)", func(q *koshv1.PriceQuote) bool { return q.Stale })
		if !strings.Contains(q.Problem, "only 1 of 2 sources is fresh") || !strings.Contains(q.Sources[1].Error, "503") {
			t.Errorf("stale quote with a failing source: %v", q)
		}
		requireCode(t, "mint with too few sources", n.tryMint("INR", acct, 1), codes.FailedPrecondition,
			"only 1 of 2 sources is fresh")

		// Redemption stays open: burning is never gated.
		if _, err := n.issuer.Burn(ctx(t, n.admin), &koshv1.BurnRequest{Asset: "INR", AccountId: acct,
			Amount: 1, IdempotencyKey: newKey("burn")}); err != nil {
			t.Fatalf("burn with a stale price: %v", err)
		}
	})
}

// TestManualPrice proves SetManualPrice: the pricer and admin macaroons may
// set a price, the minter and readonly ones are refused; a manual price
// values the reserves while the sources are down, is shown as manual, is
// recorded with who set it and why, survives a restart, expires, and is
// cleared.
func TestManualPrice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		down := newPriceServer(t, `{}`)
		down.status.Store(http.StatusInternalServerError)
		cfg := oracleConfig(t, backend, time.Second, "name=down,currency=INR,url="+down.URL+",pointer=/p")
		n := startNodeWith(t, cfg)
		pricer := n.macaroonFile("pricer")
		n.reservesOf(1_000_000)
		n.createINR()
		acct, _ := n.createAccount("holder")
		n.waitPrice("INR", "a polled, stale price", func(q *koshv1.PriceQuote) bool {
			return q.Stale && len(q.Sources) == 1 && q.Sources[0].Error != ""
		})
		requireCode(t, "mint without a price", n.tryMint("INR", acct, 1), codes.FailedPrecondition, "no usable INR price")

		set := &koshv1.SetManualPriceRequest{Currency: "INR", Price: "6000000.00", Reason: "exchanges down"}
		for _, m := range []struct{ name, mac string }{{"minter", n.minter}, {"readonly", n.readonly}} {
			_, err := n.issuer.SetManualPrice(ctx(t, m.mac), set)
			requireCode(t, m.name+" sets a price", err, codes.PermissionDenied, "prices:write")
		}
		_, err := n.issuer.SetManualPrice(ctx(t, ""), set)
		requireCode(t, "no macaroon sets a price", err, codes.Unauthenticated)

		resp, err := n.issuer.SetManualPrice(ctx(t, pricer), set)
		if err != nil {
			t.Fatalf("pricer sets a price: %v", err)
		}
		if q := resp.Price; q.Price != "6000000.00" || !q.Manual || q.Stale || q.Coefficient != "600000000" || q.Scale != 2 {
			t.Fatalf("manual quote %v", q)
		}
		if err := n.tryMint("INR", acct, 4_000_000); err != nil {
			t.Fatalf("mint at the manual price: %v", err)
		}
		requireCode(t, "one paisa over at the manual price", n.tryMint("INR", acct, 1), codes.FailedPrecondition)
		if got := n.metric("kosh_price_manual", `{currency="INR"}`); got != "1" {
			t.Errorf("kosh_price_manual = %q", got)
		}
		// GetReserves shows the price as manual too.
		rs, err := n.issuer.GetReserves(ctx(t, n.readonly), &koshv1.GetReservesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.Snapshot.Assets) != 1 || !rs.Snapshot.Assets[0].PriceManual || rs.Snapshot.Assets[0].CoverageBps != 15000 {
			t.Errorf("GetReserves assets %v", rs.Snapshot.Assets)
		}

		// Restart: the manual price is restored, with its original time.
		setAt := resp.Price.Time.AsTime()
		n.stop()
		n = startNodeWith(t, cfg)
		n.reservesOf(1_000_000)
		q := n.price("INR")
		if q == nil || !q.Manual || q.Price != "6000000.00" || !q.Time.AsTime().Equal(setAt) {
			t.Fatalf("after restart: %v (set at %s)", q, setAt)
		}
		requireCode(t, "one paisa over after restart", n.tryMint("INR", acct, 1), codes.FailedPrecondition, "1000001 sats")

		// The admin macaroon may set one too; a 1 s override expires.
		if _, err := n.issuer.SetManualPrice(ctx(t, n.admin), &koshv1.SetManualPriceRequest{Currency: "INR",
			Price: "6000000.01", ValidForSeconds: 1, Reason: "short"}); err != nil {
			t.Fatalf("admin sets a price: %v", err)
		}
		n.waitPrice("INR", "the override to expire", func(q *koshv1.PriceQuote) bool { return q.Stale && !q.Manual })

		// Set again, then clear: the price goes back to the (down) source.
		if _, err := n.issuer.SetManualPrice(ctx(t, pricer), set); err != nil {
			t.Fatal(err)
		}
		resp, err = n.issuer.SetManualPrice(ctx(t, pricer), &koshv1.SetManualPriceRequest{Currency: "INR", Clear: true,
			Reason: "exchanges back"})
		if err != nil {
			t.Fatalf("clear: %v", err)
		}
		if resp.Price.Manual || !resp.Price.Stale {
			t.Fatalf("after clear: %v", resp.Price)
		}
		n.stop()

		// The record: every set and clear, who, why and until when.
		db, err := store.Open(context.Background(), n.cfg.StoreConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		hist, err := pricedb.New(db).History(context.Background(), "INR", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 4 {
			t.Fatalf("history %+v", hist)
		}
		byRE := regexp.MustCompile(`^(pricer|admin) macaroon [0-9a-f]{34}$`)
		for i, want := range []struct {
			cleared bool
			role    string
			reason  string
			until   bool
		}{{true, "pricer", "exchanges back", false}, {false, "pricer", "exchanges down", false},
			{false, "admin", "short", true}, {false, "pricer", "exchanges down", false}} {
			h := hist[i]
			if h.Cleared != want.cleared || !strings.HasPrefix(h.SetBy, want.role+" ") || !byRE.MatchString(h.SetBy) ||
				h.Reason != want.reason || (h.Until != 0) != want.until || h.SetAt == 0 {
				t.Errorf("history[%d] = %+v, want %+v", i, h, want)
			}
		}
		if hist[1].Coefficient != "600000000" || hist[1].Scale != 2 {
			t.Errorf("recorded price %+v", hist[1])
		}
		db.Close()

		// Restart after the clear: no manual price.
		n = startNodeWith(t, cfg)
		if q := n.price("INR"); q == nil || q.Manual {
			t.Fatalf("after clear and restart: %v", q)
		}
	})
}

// TestManualPriceREST checks POST /v1/prices/{currency}/manual: JSON
// errors for bad input, permission, an unknown currency; success; and
// GET /v1/prices.
func TestManualPriceREST(t *testing.T) {
	cfg := newConfig(t, store.SQLite)
	cfg.Oracle.ManualCurrencies = []string{"INR"}
	n := startNodeWith(t, cfg)
	pricer := n.macaroonFile("pricer")
	post := func(cur, mac string, body map[string]any) restResponse {
		return n.rest(http.MethodPost, "/v1/prices/"+cur+"/manual", mac, body)
	}
	post("inr", pricer, map[string]any{"price": "6000000"}).requireError(t, "lower-case currency", http.StatusBadRequest, "ISO 4217")
	post("RUPEE", pricer, map[string]any{"price": "6000000"}).requireError(t, "long currency", http.StatusBadRequest, "ISO 4217")
	post("EUR", pricer, map[string]any{"price": "6000000"}).requireError(t, "unconfigured currency", http.StatusNotFound, "no price oracle for EUR", "INR")
	for _, bad := range []struct{ price, want string }{
		{"", "price is required"},
		{"0", "not positive"},
		{"0.00", "not positive"},
		{"-5", "not positive"},
		{"1.0000000000000000001", "more than 18 decimal places"},
		{"6,000,000", "not a decimal number"},
		{"NaN", "not a number"},
		{"1e500", "exponent"},
	} {
		post("INR", pricer, map[string]any{"price": bad.price}).requireError(t, "price "+bad.price, http.StatusBadRequest, bad.want)
	}
	post("INR", pricer, map[string]any{"price": "1", "valid_for_seconds": "-1"}).
		requireError(t, "negative validity", http.StatusBadRequest, "valid_for_seconds")
	post("INR", pricer, map[string]any{"price": "1", "clear": true}).
		requireError(t, "price and clear", http.StatusBadRequest, "clear")
	post("INR", pricer, map[string]any{"price": "1", "reason": strings.Repeat("x", 501)}).
		requireError(t, "long reason", http.StatusBadRequest, "reason")
	post("INR", pricer, map[string]any{"price": "1", "bogus": 1}).requireError(t, "unknown field", http.StatusBadRequest)
	post("INR", "", map[string]any{"price": "1"}).requireError(t, "no macaroon", http.StatusUnauthorized)
	post("INR", n.readonly, map[string]any{"price": "1"}).requireError(t, "readonly", http.StatusForbidden, "prices:write")
	post("INR", n.minter, map[string]any{"price": "1"}).requireError(t, "minter", http.StatusForbidden, "prices:write")

	got := n.rest(http.MethodGet, "/v1/prices", n.readonly, nil).requireOK(t, "GET /v1/prices before")
	if ps := got["prices"].([]any); len(ps) != 1 || ps[0].(map[string]any)["stale"] != true {
		t.Fatalf("prices before: %v", got)
	}
	ok := post("INR", pricer, map[string]any{"price": "6543210.12", "valid_for_seconds": "3600", "reason": "demo"}).
		requireOK(t, "set INR")
	p := ok["price"].(map[string]any)
	if p["price"] != "6543210.12" || p["manual"] != true || p["coefficient"] != "654321012" || p["scale"].(float64) != 2 {
		t.Fatalf("set reply %v", ok)
	}
	got = n.rest(http.MethodGet, "/v1/prices", n.readonly, nil).requireOK(t, "GET /v1/prices after")
	if q := got["prices"].([]any)[0].(map[string]any); q["price"] != "6543210.12" || q["manual"] != true || q["stale"] != false {
		t.Fatalf("prices after: %v", got)
	}
}

// TestNoOracle: a fiat asset without [oracle] cannot be minted (the reason
// names the missing configuration); GetPrices lists nothing and
// SetManualPrice says what to configure.
func TestNoOracle(t *testing.T) {
	n := startNode(t, store.SQLite)
	n.reservesOf(1_000_000)
	n.createINR()
	acct, _ := n.createAccount("holder")
	requireCode(t, "fiat mint without an oracle", n.tryMint("INR", acct, 1), codes.FailedPrecondition,
		reserve.ErrNoOracle.Error())
	resp, err := n.issuer.GetPrices(ctx(t, n.readonly), &koshv1.GetPricesRequest{})
	if err != nil || len(resp.Prices) != 0 {
		t.Fatalf("GetPrices without an oracle: %v, %v", resp, err)
	}
	_, err = n.issuer.SetManualPrice(ctx(t, n.admin), &koshv1.SetManualPriceRequest{Currency: "INR", Price: "1"})
	requireCode(t, "manual price without an oracle", err, codes.FailedPrecondition, "oracle.manualcurrency")
	if got := n.metric("kosh_asset_coverage_unknown", `{asset="INR"}`); got != "0" {
		t.Errorf("coverage of an unissued fiat asset: unknown = %q", got)
	}
}

// TestOracleConfigErrors: each [oracle] mistake is refused at load with a
// message that names the option and the fix.
func TestOracleConfigErrors(t *testing.T) {
	src := func(extra string) string {
		return "name=a,currency=INR,url=https://prices.example/btc,pointer=/p" + extra
	}
	for _, c := range []struct {
		name string
		edit func(*oracle.Options)
		want string
	}{
		{"plain http elsewhere", func(o *oracle.Options) {
			o.Sources = []string{"name=a,currency=INR,url=http://prices.example/btc,pointer=/p"}
		}, "use https"},
		{"other scheme", func(o *oracle.Options) {
			o.Sources = []string{"name=a,currency=INR,url=ftp://127.0.0.1/x,pointer=/p"}
		}, "must be https://"},
		{"credentials in url", func(o *oracle.Options) {
			o.Sources = []string{"name=a,currency=INR,url=https://u:p@prices.example/,pointer=/p"}
		}, "user or password"},
		{"missing pointer", func(o *oracle.Options) {
			o.Sources = []string{"name=a,currency=INR,url=https://prices.example/btc"}
		}, "needs name, currency, url and pointer"},
		{"bad pointer", func(o *oracle.Options) { o.Sources = []string{src("")[:len(src(""))-2] + "p"} }, "pointer"},
		{"bad currency", func(o *oracle.Options) {
			o.Sources = []string{"name=a,currency=inr,url=https://prices.example/btc,pointer=/p"}
		}, "ISO 4217"},
		{"unknown key", func(o *oracle.Options) { o.Sources = []string{src(",exponent=2")} }, `unknown key "exponent"`},
		{"not key=value", func(o *oracle.Options) { o.Sources = []string{src(",scale")} }, "not key=value"},
		{"bad scale", func(o *oracle.Options) { o.Sources = []string{src(",scale=19")} }, "scale"},
		{"bad timeout", func(o *oracle.Options) { o.Sources = []string{src(",timeout=0s")} }, "timeout"},
		{"twice the same key", func(o *oracle.Options) { o.Sources = []string{src(",pointer=/q")} }, "pointer is given twice"},
		{"duplicate names", func(o *oracle.Options) { o.Sources = []string{src(""), src("")} }, `two sources are named "a"`},
		{"minsources above the sources", func(o *oracle.Options) { o.Sources, o.MinSources = []string{src("")}, 2 }, "lower --oracle.minsources"},
		{"negative minsources", func(o *oracle.Options) { o.Sources, o.MinSources = []string{src("")}, -1 }, "--oracle.minsources"},
		{"maxage not above poll", func(o *oracle.Options) {
			o.Sources, o.MaxAge, o.PollInterval = []string{src("")}, time.Minute, time.Minute
		}, "--oracle.maxage 1m0s must be longer than --oracle.pollinterval"},
		{"zero poll", func(o *oracle.Options) { o.Sources, o.PollInterval = []string{src("")}, 0 }, "--oracle.pollinterval"},
		{"zero spread", func(o *oracle.Options) { o.Sources, o.SpreadBps = []string{src("")}, 0 }, "--oracle.spreadbps"},
		{"spread above 100%", func(o *oracle.Options) { o.Sources, o.SpreadBps = []string{src("")}, 10001 }, "--oracle.spreadbps"},
		{"bad manual currency", func(o *oracle.Options) { o.ManualCurrencies = []string{"Rupee"} }, "--oracle.manualcurrency"},
		{"manual and sources", func(o *oracle.Options) {
			o.Sources, o.ManualCurrencies = []string{src("")}, []string{"INR"}
		}, "not both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := newConfig(t, store.SQLite)
			c.edit(&cfg.Oracle)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
	// Good ones: loopback http (IPv4, IPv6, localhost), https, every key.
	cfg := newConfig(t, store.SQLite)
	cfg.Oracle.Sources = []string{
		"name=a,currency=INR,url=http://127.0.0.1:8080/x,pointer=/p",
		"name=b,currency=INR,url=http://[::1]:8080/x,pointer=/p,scale=-3,timeout=2s,timepointer=/t",
		"name=c,currency=INR,url=https://prices.example/btc?vs=inr,pointer=/a~1b/0",
		"name=d,currency=USD,url=http://localhost/x,pointer=/p",
	}
	cfg.Oracle.ManualCurrencies = []string{"EUR"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("good oracle config refused: %v", err)
	}
	if err := fmt.Sprint(daemon.DefaultConfig().Oracle.Validate()); err != "<nil>" {
		t.Fatalf("default oracle config: %s", err)
	}
}

// TestAttestConfigErrors: a schedule that is not a cron spec and a tree
// height past 32 are refused at load, naming the option; "off" and the
// defaults pass.
func TestAttestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*attestor.Options)
		want string
	}{
		{"bad schedule", func(a *attestor.Options) { a.Schedules = []string{"every hour"} }, "--attest.schedule"},
		{"tree height past 32", func(a *attestor.Options) { a.TreeHeight = 33 }, "--attest.treeheight 33"},
		{"negative tree height", func(a *attestor.Options) { a.TreeHeight = -1 }, "--attest.treeheight -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := newConfig(t, store.SQLite)
			c.edit(&cfg.Attest)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
	cfg := newConfig(t, store.SQLite)
	cfg.Attest.Schedules, cfg.Attest.TreeHeight = []string{"off"}, 24
	if err := cfg.Validate(); err != nil {
		t.Fatalf("good attest config refused: %v", err)
	}
}
