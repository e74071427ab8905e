package monitoring

import (
	"context"
	"log/slog"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/prometheus/client_golang/prometheus"
)

// priceCollector exposes prices and per-asset coverage at scrape time.
type priceCollector struct {
	book     Quoter // nil: no oracle
	ledger   Assets
	reserves *reserve.Monitor
	log      *slog.Logger

	price, age, stale, manual, spread, srcFresh, srcUsed *prometheus.Desc
	coverage, warning, below, unknown                    *prometheus.Desc
}

// Quoter is the price oracle's current quotes, one per currency.
type Quoter interface {
	Quotes() []oracle.Quote
}

// Assets lists the issued assets with their supply.
type Assets interface {
	Assets(ctx context.Context) ([]ledger.Asset, error)
}

// NewPriceCollector exposes each currency's price and its sources (book
// nil: no oracle) and each asset's coverage by the rules GetReserves
// reports.
func NewPriceCollector(book Quoter, l Assets, m *reserve.Monitor, log *slog.Logger) prometheus.Collector {
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
