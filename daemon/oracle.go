package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/money"
	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/rpcserver"
	"github.com/kosh-reserve/kosh/store"
	"github.com/prometheus/client_golang/prometheus"
)

// OracleConfig configures the price oracle that values fiat-pegged assets
// (docs/oracle.md). Sources are grouped by currency: one oracle per
// currency, sharing the policy options below.
type OracleConfig struct {
	Sources          []string      `long:"source" description:"An HTTP(S) JSON price source (repeatable): name=a,currency=INR,url=https://example.com/btc,pointer=/data/price[,timepointer=/data/time][,scale=2][,timeout=10s]. scale=N divides the quoted number by 10^N (2 for a source quoting paise per BTC; negative multiplies). url must be https, or http on a loopback address"`
	ManualCurrencies []string      `long:"manualcurrency" description:"A currency with no sources, priced only by SetManualPrice (repeatable), e.g. INR"`
	MinSources       int           `long:"minsources" description:"Fresh sources that must agree for a price, per currency (0: more than half of the currency's sources)"`
	SpreadBps        int64         `long:"spreadbps" description:"Largest deviation, in basis points, of a source from the median of the fresh prices for it to agree (100 = 1%)"`
	PollInterval     time.Duration `long:"pollinterval" description:"How often every price source is polled"`
	MaxAge           time.Duration `long:"maxage" description:"A source's price older than this is not fresh; with too few fresh sources the price is stale and fiat mints stop"`
}

// Oracle defaults.
const (
	DefaultOracleSpreadBps    = 200
	DefaultOraclePollInterval = time.Minute
	DefaultOracleMaxAge       = 5 * time.Minute
)

// DefaultOracleConfig is the [oracle] group's defaults: no sources.
func DefaultOracleConfig() OracleConfig {
	return OracleConfig{SpreadBps: DefaultOracleSpreadBps, PollInterval: DefaultOraclePollInterval,
		MaxAge: DefaultOracleMaxAge}
}

var currencyCodeRE = regexp.MustCompile(`^[A-Z]{3}$`)

// Configured reports whether any currency is priced (by sources or by hand).
func (c OracleConfig) Configured() bool { return len(c.Sources) > 0 || len(c.ManualCurrencies) > 0 }

// Validate checks the [oracle] options for mistakes a person can fix.
func (c OracleConfig) Validate() error {
	_, err := c.oracleConfigs()
	return err
}

// oracleConfigs parses and checks the options into one oracle.Config per
// currency.
func (c OracleConfig) oracleConfigs() (map[string]oracle.Config, error) {
	if !c.Configured() {
		return nil, nil
	}
	if c.PollInterval <= 0 {
		return nil, fmt.Errorf("--oracle.pollinterval must be positive, got %s", c.PollInterval)
	}
	if c.MaxAge <= c.PollInterval {
		return nil, fmt.Errorf("--oracle.maxage %s must be longer than --oracle.pollinterval %s, or every price goes stale between two polls",
			c.MaxAge, c.PollInterval)
	}
	if c.SpreadBps <= 0 || c.SpreadBps > oracle.BasisPoints {
		return nil, fmt.Errorf("--oracle.spreadbps must be 1 to %d (100 = 1%%), got %d", oracle.BasisPoints, c.SpreadBps)
	}
	if c.MinSources < 0 {
		return nil, fmt.Errorf("--oracle.minsources must be 0 (more than half of each currency's sources) or positive, got %d", c.MinSources)
	}
	out := map[string]oracle.Config{}
	names := map[string]bool{}
	for _, spec := range c.Sources {
		cur, sc, err := parseOracleSource(spec)
		if err != nil {
			return nil, err
		}
		if names[sc.Name] {
			return nil, fmt.Errorf("--oracle.source: two sources are named %q; give each a name of its own", sc.Name)
		}
		names[sc.Name] = true
		oc := out[cur]
		oc.Currency = cur
		oc.Sources = append(oc.Sources, sc)
		out[cur] = oc
	}
	for cur, oc := range out {
		n := len(oc.Sources)
		oc.MinSources = c.MinSources
		if oc.MinSources == 0 {
			oc.MinSources = n/2 + 1
		}
		if oc.MinSources > n {
			return nil, fmt.Errorf("--oracle.minsources=%d but %s has only %d source(s): add --oracle.source lines with currency=%s or lower --oracle.minsources",
				oc.MinSources, cur, n, cur)
		}
		oc.MaxSpreadBps, oc.Interval, oc.MaxAge = c.SpreadBps, c.PollInterval, c.MaxAge
		out[cur] = oc
	}
	for _, cur := range c.ManualCurrencies {
		if !currencyCodeRE.MatchString(cur) {
			return nil, fmt.Errorf("--oracle.manualcurrency %q is not an ISO 4217 code of 3 capital letters (e.g. INR)", cur)
		}
		if _, ok := out[cur]; ok {
			return nil, fmt.Errorf("--oracle.manualcurrency %s also has --oracle.source lines; a currency is priced by sources (a manual price can still override them) or by hand only, not both", cur)
		}
		out[cur] = oracle.Config{Currency: cur, MaxAge: c.MaxAge, Interval: c.PollInterval}
	}
	return out, nil
}

// parseOracleSource parses
// "name=a,currency=INR,url=https://...,pointer=/p[,timepointer=/t][,scale=2][,timeout=10s]".
func parseOracleSource(spec string) (string, oracle.SourceConfig, error) {
	var sc oracle.SourceConfig
	var cur string
	bad := func(format string, args ...any) (string, oracle.SourceConfig, error) {
		return "", sc, fmt.Errorf("--oracle.source %q: %s", spec, fmt.Sprintf(format, args...))
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return bad("%q is not key=value", part)
		}
		if seen[k] {
			return bad("%s is given twice", k)
		}
		seen[k] = true
		switch k {
		case "name":
			sc.Name = v
		case "currency":
			cur = v
		case "url":
			sc.URL = v
		case "pointer":
			sc.Pointer = v
		case "timepointer":
			sc.TimePointer = v
		case "scale":
			n, err := strconv.Atoi(v)
			if err != nil || n < -oracle.MaxScale || n > oracle.MaxScale {
				return bad("scale %q must be an integer from -%d to %d (the quoted number is divided by 10^scale)", v, oracle.MaxScale, oracle.MaxScale)
			}
			sc.Exponent = -n
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return bad("timeout %q must be a positive duration such as 10s", v)
			}
			sc.Timeout = d
		default:
			return bad("unknown key %q (want name, currency, url, pointer, timepointer, scale, timeout)", k)
		}
	}
	if sc.Name == "" || cur == "" || sc.URL == "" || sc.Pointer == "" {
		return bad("needs name, currency, url and pointer, e.g. name=a,currency=INR,url=https://prices.example/btc-inr,pointer=/data/price")
	}
	if strings.ContainsAny(sc.Name, " \t\"") {
		return bad("name %q must not contain spaces or quotes", sc.Name)
	}
	if !currencyCodeRE.MatchString(cur) {
		return bad("currency %q is not an ISO 4217 code of 3 capital letters (e.g. INR)", cur)
	}
	u, err := url.Parse(sc.URL)
	if err != nil {
		return bad("url: %v", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && u.Host != "":
		if !isLoopback(u.Hostname()) {
			return bad("url %s is plain http to a non-loopback host; use https (a price read in clear text can be changed on the way)", u.Redacted())
		}
	default:
		return bad("url %q must be https://host/... (or http:// on a loopback address)", u.Redacted())
	}
	if u.User != nil {
		return bad("url must not carry a user or password")
	}
	if _, err := oracle.NewSource(sc); err != nil {
		return bad("%v", err)
	}
	return cur, sc, nil
}

// priceBook holds one oracle per currency and the durable record of manual
// prices. It implements reserve.Prices (what the mint gate reads) and
// rpcserver.PriceBook (what the handlers use).
type priceBook struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time

	oracles    map[string]*oracle.Oracle // fixed after newPriceBook
	currencies []string                  // sorted

	manualMu sync.Mutex // orders record-then-apply of manual prices
}

var _ reserve.Prices = (*priceBook)(nil)
var _ rpcserver.PriceBook = (*priceBook)(nil)

func newPriceBook(cfgs map[string]oracle.Config, db *store.DB, log *slog.Logger, opts ...oracle.Option) (*priceBook, error) {
	b := &priceBook{db: db, log: log, now: time.Now, oracles: map[string]*oracle.Oracle{}}
	opts = append([]oracle.Option{oracle.WithLogger(log)}, opts...)
	for cur, oc := range cfgs {
		o, err := oracle.New(oc, opts...)
		if err != nil {
			return nil, fmt.Errorf("[oracle] %s: %w", cur, err)
		}
		b.oracles[cur] = o
		b.currencies = append(b.currencies, cur)
	}
	sort.Strings(b.currencies)
	return b, nil
}

// restore applies the manual prices recorded in the store: the newest row
// of each currency unless it is a clear or has expired.
func (b *priceBook) restore(ctx context.Context) error {
	var rows []store.ManualPriceRow
	if err := b.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		rows, err = tx.LatestManualPrices(ctx)
		return err
	}); err != nil {
		return err
	}
	now := b.now()
	for _, r := range rows {
		o, ok := b.oracles[r.Currency]
		switch {
		case r.Cleared:
			continue
		case !ok:
			b.log.Warn("a recorded manual price is for a currency no longer configured; ignored",
				"currency", r.Currency, "set_by", r.SetBy)
			continue
		case r.Until != 0 && !time.UnixMicro(r.Until).After(now):
			b.log.Info("recorded manual price has expired", "currency", r.Currency, "until", time.UnixMicro(r.Until).UTC())
			continue
		}
		c, ok := new(big.Int).SetString(r.Coefficient, 10)
		if !ok {
			return fmt.Errorf("manual %s price #%d: coefficient %q is not a number", r.Currency, r.Seq, r.Coefficient)
		}
		m := oracle.Manual{Price: money.Price{Coefficient: c, Scale: uint8(r.Scale)}, By: r.SetBy, Reason: r.Reason,
			SetAt: time.UnixMicro(r.SetAt)}
		if r.Until != 0 {
			m.Until = time.UnixMicro(r.Until)
		}
		if err := o.ApplyManual(m); err != nil {
			return fmt.Errorf("restore manual %s price #%d: %w", r.Currency, r.Seq, err)
		}
		b.log.Info("restored manual price", "currency", r.Currency, "price", m.Price.String(), "set_by", r.SetBy,
			"set_at", m.SetAt.UTC(), "until", m.Until)
	}
	return nil
}

// run polls every oracle until ctx is done.
func (b *priceBook) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, cur := range b.currencies {
		o := b.oracles[cur]
		wg.Add(1)
		go func() { defer wg.Done(); o.Run(ctx) }()
	}
}

func (b *priceBook) oracle(currency string) (*oracle.Oracle, error) {
	o, ok := b.oracles[currency]
	if !ok {
		return nil, fmt.Errorf("%w: no price oracle for %s (configured: %s); add --oracle.source lines with currency=%s, or --oracle.manualcurrency=%s",
			ledger.ErrNotFound, currency, strings.Join(b.currencies, ", "), currency, currency)
	}
	return o, nil
}

// Price implements reserve.Prices: the currency's usable price now, or why
// there is none.
func (b *priceBook) Price(currency string) (reserve.Price, error) {
	o, err := b.oracle(currency)
	if err != nil {
		return reserve.Price{}, err
	}
	q := o.Current()
	p, err := q.Usable()
	if err != nil {
		return reserve.Price{}, err
	}
	out := reserve.Price{Currency: currency, Coefficient: p.Coefficient, Scale: p.Scale, Time: q.PriceTime(),
		Manual: q.Manual}
	if !q.Manual {
		out.SpreadBps = q.SpreadBps
		for _, s := range q.Sources {
			if s.Contributing {
				out.Sources = append(out.Sources, reserve.PriceSource{Name: s.Name, Coefficient: s.Price.Coefficient,
					Scale: s.Price.Scale, Time: s.Time})
			}
		}
	}
	return out, nil
}

// Quote returns the currency's full quote (sources, policy, manual record),
// for attestations and pages; the error wraps ledger.ErrNotFound for a
// currency without an oracle.
func (b *priceBook) Quote(currency string) (oracle.Quote, error) {
	o, err := b.oracle(currency)
	if err != nil {
		return oracle.Quote{}, err
	}
	return o.Current(), nil
}

// Quotes returns every currency's quote, in currency order.
func (b *priceBook) Quotes() []oracle.Quote {
	out := make([]oracle.Quote, 0, len(b.currencies))
	for _, cur := range b.currencies {
		out = append(out, b.oracles[cur].Current())
	}
	return out
}

// Currencies lists the priced currencies, sorted.
func (b *priceBook) Currencies() []string { return slices.Clone(b.currencies) }

// SetManual records a manual price in the store, then applies it.
func (b *priceBook) SetManual(ctx context.Context, currency string, m oracle.Manual) (oracle.Quote, error) {
	o, err := b.oracle(currency)
	if err != nil {
		return oracle.Quote{}, err
	}
	b.manualMu.Lock()
	defer b.manualMu.Unlock()
	if m.SetAt.IsZero() {
		m.SetAt = b.now()
	}
	// The record keeps microseconds: so does the price in force, so that
	// it reads the same before and after a restart.
	m.SetAt, m.Until = m.SetAt.Truncate(time.Microsecond), m.Until.Truncate(time.Microsecond)
	if err := o.CheckManual(m); err != nil {
		return oracle.Quote{}, fmt.Errorf("%w: %w", ledger.ErrInvalidArgument, err)
	}
	row := store.ManualPriceRow{Currency: currency, Coefficient: m.Price.Coefficient.String(), Scale: int(m.Price.Scale),
		SetBy: m.By, Reason: m.Reason, SetAt: m.SetAt.UnixMicro()}
	if !m.Until.IsZero() {
		row.Until = m.Until.UnixMicro()
	}
	if err := b.db.Write(ctx, func(tx *store.Tx) error { _, err := tx.InsertManualPrice(ctx, row); return err }); err != nil {
		return oracle.Quote{}, err
	}
	if err := o.ApplyManual(m); err != nil {
		return oracle.Quote{}, fmt.Errorf("%w: %w", ledger.ErrInvalidArgument, err)
	}
	return o.Current(), nil
}

// ClearManual records the removal of a currency's manual price, then
// removes it.
func (b *priceBook) ClearManual(ctx context.Context, currency, by, reason string) (oracle.Quote, error) {
	o, err := b.oracle(currency)
	if err != nil {
		return oracle.Quote{}, err
	}
	b.manualMu.Lock()
	defer b.manualMu.Unlock()
	row := store.ManualPriceRow{Currency: currency, Cleared: true, SetBy: by, Reason: reason, SetAt: b.now().UnixMicro()}
	if err := b.db.Write(ctx, func(tx *store.Tx) error { _, err := tx.InsertManualPrice(ctx, row); return err }); err != nil {
		return oracle.Quote{}, err
	}
	o.ClearManual()
	b.log.Info("manual price cleared", "currency", currency, "by", by, "reason", reason)
	return o.Current(), nil
}

// startOracle builds the oracles the [oracle] options name, restores the
// recorded manual prices, starts polling (stopped by Stop through d.ctx),
// installs the prices in the reserve monitor and the RPC server, and
// registers the price and coverage metrics. With no [oracle] options the
// monitor has no prices: a fiat-pegged mint fails with reserve.ErrNoOracle.
func (d *Daemon) startOracle(srv *rpcserver.Server) error {
	var book *priceBook
	cfgs, err := d.cfg.Oracle.oracleConfigs()
	if err != nil {
		return err
	}
	if len(cfgs) > 0 {
		if book, err = newPriceBook(cfgs, d.db, d.log.With("subsystem", "oracle")); err != nil {
			return err
		}
		if err := book.restore(d.ctx); err != nil {
			return err
		}
		book.run(d.ctx, &d.loops)
		d.reserves.SetPrices(book)
		srv.SetPriceBook(book)
		d.log.Info("price oracle started", "currencies", strings.Join(book.currencies, ","),
			"sources", len(d.cfg.Oracle.Sources))
	}
	d.metrics.registry.MustRegister(newPriceCollector(book, d.ledger, d.reserves, d.log))
	return nil
}

// priceCollector exposes prices and per-asset coverage at scrape time.
type priceCollector struct {
	book     *priceBook // nil: no oracle
	ledger   *ledger.Ledger
	reserves *reserve.Monitor
	log      *slog.Logger

	price, age, stale, manual, spread, srcFresh, srcUsed *prometheus.Desc
	coverage, warning, below, unknown                    *prometheus.Desc
}

func newPriceCollector(book *priceBook, l *ledger.Ledger, m *reserve.Monitor, log *slog.Logger) *priceCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &priceCollector{book: book, ledger: l, reserves: m, log: log,
		price:    d("kosh_price", "Usable price of one BTC in the currency (absent when stale).", "currency"),
		age:      d("kosh_price_age_seconds", "Seconds since the price was set or its oldest contributing source quoted it (-1: no usable price).", "currency"),
		stale:    d("kosh_price_stale", "1 when the currency has no usable price (fiat mints are refused), else 0.", "currency"),
		manual:   d("kosh_price_manual", "1 when the price was set by hand (SetManualPrice), else 0.", "currency"),
		spread:   d("kosh_price_spread_bps", "Largest deviation of a contributing source from the price, in basis points.", "currency"),
		srcFresh: d("kosh_price_source_fresh", "1 when the source's last price is within the max age.", "currency", "source"),
		srcUsed:  d("kosh_price_source_used", "1 when the source's price went into the currency's price.", "currency", "source"),
		coverage: d("kosh_asset_coverage_bps", "Counted reserves over the outstanding supply of all assets, in basis points, rounded down (absent when unknown).", "asset"),
		warning:  d("kosh_asset_coverage_warning", "1 when coverage is below the asset's warning level but not below the policy minimum, else 0.", "asset"),
		below:    d("kosh_asset_coverage_below_minimum", "1 when the outstanding supply needs more reserves than are counted at the policy minimums, else 0.", "asset"),
		unknown:  d("kosh_asset_coverage_unknown", "1 when coverage cannot be computed (no usable reserve snapshot or price), else 0.", "asset"),
	}
}

// Describe implements prometheus.Collector.
func (c *priceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.price, c.age, c.stale, c.manual, c.spread, c.srcFresh, c.srcUsed,
		c.coverage, c.warning, c.below, c.unknown} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *priceCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.book != nil {
		for _, q := range c.book.Quotes() {
			cur := q.Currency
			p, err := q.Usable()
			gauge(c.stale, boolFloat(err != nil), cur)
			gauge(c.manual, boolFloat(q.Manual), cur)
			if err == nil {
				f, _ := p.Rat().Float64()
				gauge(c.price, f, cur)
				gauge(c.age, q.Time.Sub(q.PriceTime()).Seconds(), cur)
				gauge(c.spread, float64(q.SpreadBps), cur)
			} else {
				gauge(c.age, -1, cur)
			}
			for _, s := range q.Sources {
				gauge(c.srcFresh, boolFloat(s.Fresh), cur, s.Name)
				gauge(c.srcUsed, boolFloat(s.Contributing), cur, s.Name)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assets, err := c.ledger.Assets(ctx)
	if err != nil {
		c.log.Warn("metrics: list assets", "err", err)
		return
	}
	for _, st := range assetCoverage(assets, c.reserves) {
		gauge(c.unknown, boolFloat(st.unknown), st.asset)
		gauge(c.warning, boolFloat(st.warning), st.asset)
		gauge(c.below, boolFloat(st.below), st.asset)
		if !st.unknown {
			gauge(c.coverage, float64(st.bps), st.asset)
		}
	}
}

type coverageStatus struct {
	asset                   string
	bps                     int64
	unknown, warning, below bool
}

// assetCoverage is each asset's coverage state by the rules GetReserves
// reports: the reserves are shared, so coverage is over the outstanding
// supply of every asset (fiat valued at its price); "below" when the
// supply needs more than the counted reserves at the policy minimums;
// "warning" when not below but under the asset's warning level.
func assetCoverage(assets []ledger.Asset, m *reserve.Monitor) []coverageStatus {
	snap := m.Snapshot()
	cov, err := reserve.Compute(snap.Counted, ledger.Supplies(assets), m.Prices())
	known := err == nil && snap.Usable()
	out := make([]coverageStatus, len(assets))
	for i, a := range assets {
		st := coverageStatus{asset: a.Code, unknown: !known}
		if known {
			st.bps = cov.CoverageBps
			st.below = cov.Below()
			st.warning = cov.Warning(a.WarnCoverageBps)
		}
		out[i] = st
	}
	return out
}
