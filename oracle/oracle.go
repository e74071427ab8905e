package oracle

import (
	"context"
	"errors"
	"fmt"
	"github.com/kosh-reserve/kosh/money"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Oracle defaults.
const (
	// DefaultInterval is the polling interval when Config.Interval is 0.
	DefaultInterval = time.Minute
	// DefaultMaxAge is the freshness limit when Config.MaxAge is 0.
	DefaultMaxAge = 5 * time.Minute
	// BasisPoints is one whole in basis points.
	BasisPoints = 10_000
	// MaxScale bounds a source's Exponent: a quoted number is scaled by at
	// most 10^±MaxScale, the largest scale of a money.Price.
	MaxScale = money.MaxScale
)

// ErrStale is wrapped by Quote.Usable when the quote cannot be used.
var ErrStale = errors.New("price is stale")

// Config configures an Oracle for one currency.
type Config struct {
	// Currency is the quote currency's ISO 4217 code (e.g. "INR"); it is
	// carried in quotes and errors.
	Currency string
	// Sources are polled every Interval. Names must be unique. It may be
	// empty for an oracle priced only manually.
	Sources []SourceConfig
	// Interval between polls; 0 means DefaultInterval.
	Interval time.Duration
	// MaxAge is the age beyond which a source's last price is no longer
	// fresh; 0 means DefaultMaxAge.
	MaxAge time.Duration
	// MinSources is how many fresh sources must agree for a quote: at least
	// 1 and at most len(Sources) when there are sources.
	MinSources int
	// MaxSpreadBps is the largest relative deviation, in basis points, of a
	// source's price from the median of the fresh prices for that source to
	// agree (100 = 1%). It must be positive and at most 10000.
	MaxSpreadBps int64
}

// Quote is the oracle's answer at a moment.
type Quote struct {
	// Currency is the configured quote currency.
	Currency string
	// Price is the aggregated (or manual) price; zero when Stale.
	Price money.Price
	// Time is when the quote was computed (the oracle's clock).
	Time time.Time
	// Stale is true when no price may be used; Reason says why.
	Stale bool
	// Reason explains a stale quote in plain English; empty otherwise.
	Reason string
	// Manual is true when Price was set by hand (SetManual).
	Manual bool
	// ManualBy is who set the manual price; ManualSetAt when;
	// ManualUntil when it expires (zero: until cleared).
	ManualBy    string
	ManualSetAt time.Time
	ManualUntil time.Time
	// ManualReason is the reason recorded with the manual price.
	ManualReason string
	// SpreadBps is the largest deviation of a contributing source's price
	// from Price, in basis points rounded up (0 for a manual quote).
	SpreadBps int64
	// Sources is the state of every configured source, in configuration
	// order; those whose price makes the quote have Contributing set.
	Sources []SourceQuote
	// MinSources, MaxSpreadBps and MaxAge are the policy the quote was
	// computed under, for attestations and pages.
	MinSources   int
	MaxSpreadBps int64
	MaxAge       time.Duration
}

// SourceQuote is one source's state within a Quote.
type SourceQuote struct {
	// Name is the source's configured name.
	Name string
	// Price and Time are the source's last good price and its time (zero
	// if it never answered well).
	Price money.Price
	Time  time.Time
	// Fresh is true when Price exists and is no older than MaxAge.
	Fresh bool
	// Contributing is true when Price is one of those the quote's price
	// is the median of.
	Contributing bool
	// Err is the source's last fetch error, if its last fetch failed.
	Err string
}

// Usable returns the quote's price, or an error wrapping ErrStale with the
// reason.
func (q Quote) Usable() (money.Price, error) {
	if q.Stale || q.Price.IsZero() {
		cur := q.Currency
		if cur == "" {
			cur = "the"
		}
		return money.Price{}, fmt.Errorf("%w: no usable %s price: %s", ErrStale, cur, q.Reason)
	}
	return q.Price, nil
}

// PriceTime is the time the quote's price is as of: when a manual price
// was set, or the quote time of the oldest contributing source (the price
// is no fresher than its oldest input). It is zero for a stale quote.
func (q Quote) PriceTime() time.Time {
	switch {
	case q.Stale || q.Price.IsZero():
		return time.Time{}
	case q.Manual:
		return q.ManualSetAt
	}
	var t time.Time
	for _, s := range q.Sources {
		if s.Contributing && (t.IsZero() || s.Time.Before(t)) {
			t = s.Time
		}
	}
	return t
}

// Oracle polls price sources and aggregates their prices into a Quote. Its
// methods are safe for concurrent use.
type Oracle struct {
	cfg     Config
	sources []*Source
	now     func() time.Time
	log     *slog.Logger

	mu     sync.Mutex
	states []sourceState
	manual *manualPrice
}

type sourceState struct {
	price    money.Price
	time     time.Time
	lastErr  error
	attempts int
}

type manualPrice struct {
	price  money.Price
	by     string
	reason string
	setAt  time.Time
	until  time.Time
}

// Manual is a manual price with its record: who set it, why, when, and
// until when (zero: until cleared).
type Manual struct {
	Price  money.Price
	By     string
	Reason string
	// SetAt is when it was set; zero means now. A daemon restoring a
	// recorded override passes the original time.
	SetAt time.Time
	Until time.Time
}

// Option adjusts an Oracle.
type Option func(*options)

type options struct {
	now    func() time.Time
	client *http.Client
	log    *slog.Logger
}

// WithClock makes the oracle and its sources read time from now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithHTTPClient makes the sources use c's transport.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithLogger sets the logger for fetch results (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// New validates cfg and returns an Oracle. It does not poll: call Run (or
// Poll).
func New(cfg Config, opts ...Option) (*Oracle, error) {
	o := options{now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval < 0 || cfg.MaxAge < 0 {
		return nil, errors.New("oracle: negative interval or max age")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if len(cfg.Sources) > 0 && (cfg.MinSources < 1 || cfg.MinSources > len(cfg.Sources)) {
		return nil, fmt.Errorf("oracle %s: min sources %d outside [1, %d]", cfg.Currency, cfg.MinSources, len(cfg.Sources))
	}
	if len(cfg.Sources) > 0 && (cfg.MaxSpreadBps <= 0 || cfg.MaxSpreadBps > BasisPoints) {
		return nil, fmt.Errorf("oracle %s: max spread %d bps outside [1, %d]", cfg.Currency, cfg.MaxSpreadBps, BasisPoints)
	}
	or := &Oracle{cfg: cfg, now: o.now, log: o.log, states: make([]sourceState, len(cfg.Sources))}
	seen := map[string]bool{}
	for _, sc := range cfg.Sources {
		if seen[sc.Name] {
			return nil, fmt.Errorf("oracle %s: two sources named %q", cfg.Currency, sc.Name)
		}
		seen[sc.Name] = true
		s, err := NewSource(sc, WithSourceHTTPClient(o.client), WithSourceClock(o.now))
		if err != nil {
			return nil, fmt.Errorf("oracle %s: %w", cfg.Currency, err)
		}
		or.sources = append(or.sources, s)
	}
	or.cfg.Sources = nil
	for _, s := range or.sources {
		or.cfg.Sources = append(or.cfg.Sources, s.Config())
	}
	return or, nil
}

// Config returns the oracle's configuration with defaults filled in.
func (o *Oracle) Config() Config {
	c := o.cfg
	c.Sources = slices.Clone(c.Sources)
	return c
}

// Run polls every source at once, then again every Interval, until ctx is
// done; it returns ctx's error. The caller owns the goroutine running it.
func (o *Oracle) Run(ctx context.Context) error {
	t := time.NewTicker(o.cfg.Interval)
	defer t.Stop()
	for {
		o.Poll(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Poll fetches every source concurrently, records each result, and
// returns when all are done (each is bounded by its timeout). A failed
// fetch keeps the source's last good price, which ages out after MaxAge.
func (o *Oracle) Poll(ctx context.Context) {
	type result struct {
		price money.Price
		time  time.Time
		err   error
	}
	results := make([]result, len(o.sources))
	var wg sync.WaitGroup
	for i, s := range o.sources {
		wg.Go(func() {
			p, t, err := s.Fetch(ctx)
			results[i] = result{p, t, err}
		})
	}
	wg.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, r := range results {
		st := &o.states[i]
		st.attempts++
		name := o.sources[i].Name()
		if r.err != nil {
			st.lastErr = r.err
			o.log.Warn("price source failed", "currency", o.cfg.Currency, "source", name, "err", r.err)
			continue
		}
		if !st.time.IsZero() && r.time.Before(st.time) {
			// An older quote than the one held is ignored: time only
			// moves forward per source.
			st.lastErr = fmt.Errorf("source %s: quote time %s is older than the last one (%s)", name, r.time.UTC().Format(time.RFC3339), st.time.UTC().Format(time.RFC3339))
			continue
		}
		st.price, st.time, st.lastErr = r.price, r.time, nil
		o.log.Debug("price source", "currency", o.cfg.Currency, "source", name, "price", r.price.String(), "time", r.time)
	}
}

// SetManual overrides the sources with price p, set by the named person or
// key, until the given time (zero: until ClearManual). The override is
// reported in every quote as Manual with its author and times.
func (o *Oracle) SetManual(p money.Price, by string, until time.Time) error {
	return o.ApplyManual(Manual{Price: p, By: by, Until: until})
}

// CheckManual reports why ApplyManual would refuse m, without applying it.
func (o *Oracle) CheckManual(m Manual) error {
	if err := m.Price.Validate(); err != nil {
		return fmt.Errorf("manual %s price: %w", o.cfg.Currency, err)
	}
	if strings.TrimSpace(m.By) == "" {
		return fmt.Errorf("manual %s price: who sets it must be named", o.cfg.Currency)
	}
	if !m.Until.IsZero() && !m.Until.After(o.now()) {
		return fmt.Errorf("manual %s price: expiry %s is not in the future", o.cfg.Currency, m.Until.UTC().Format(time.RFC3339))
	}
	return nil
}

// ApplyManual is SetManual with a reason and, optionally, the time the
// override was originally set (for one restored from a record).
func (o *Oracle) ApplyManual(m Manual) error {
	if err := o.CheckManual(m); err != nil {
		return err
	}
	setAt := m.SetAt
	if setAt.IsZero() {
		setAt = o.now()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.manual = &manualPrice{price: money.Price{Coefficient: new(big.Int).Set(m.Price.Coefficient), Scale: m.Price.Scale},
		by: m.By, reason: m.Reason, setAt: setAt, until: m.Until}
	o.log.Info("manual price set", "currency", o.cfg.Currency, "price", m.Price.String(), "by", m.By,
		"reason", m.Reason, "until", m.Until)
	return nil
}

// ClearManual removes a manual price; quotes come from the sources again.
func (o *Oracle) ClearManual() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.manual != nil {
		o.log.Info("manual price cleared", "currency", o.cfg.Currency)
	}
	o.manual = nil
}

// Price returns the current usable price (Current().Usable()), for callers
// that need only the price or an error saying why there is none.
func (o *Oracle) Price() (money.Price, error) { return o.Current().Usable() }

// Current computes the quote now, from memory (it never blocks on a
// source). See the package documentation for the rules.
func (o *Oracle) Current() Quote {
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	q := Quote{Currency: o.cfg.Currency, Time: now, Sources: make([]SourceQuote, len(o.sources)),
		MinSources: o.cfg.MinSources, MaxSpreadBps: o.cfg.MaxSpreadBps, MaxAge: o.cfg.MaxAge}
	var fresh []int
	var notFresh []string
	for i, s := range o.sources {
		st := o.states[i]
		sq := SourceQuote{Name: s.Name(), Time: st.time}
		if !st.price.IsZero() {
			sq.Price = money.Price{Coefficient: new(big.Int).Set(st.price.Coefficient), Scale: st.price.Scale}
		}
		if st.lastErr != nil {
			sq.Err = st.lastErr.Error()
		}
		age := now.Sub(st.time)
		switch {
		case st.price.IsZero() && st.lastErr != nil:
			notFresh = append(notFresh, fmt.Sprintf("source %s: %s", s.Name(), trimSourcePrefix(s.Name(), st.lastErr.Error())))
		case st.price.IsZero() && st.attempts == 0:
			notFresh = append(notFresh, fmt.Sprintf("source %s: not polled yet", s.Name()))
		case st.price.IsZero():
			notFresh = append(notFresh, fmt.Sprintf("source %s: no price", s.Name()))
		case age > o.cfg.MaxAge:
			r := fmt.Sprintf("source %s: last price %s ago (max age %s)", s.Name(), fmtDuration(age), fmtDuration(o.cfg.MaxAge))
			if st.lastErr != nil {
				r += ", then: " + trimSourcePrefix(s.Name(), st.lastErr.Error())
			}
			notFresh = append(notFresh, r)
		default:
			sq.Fresh = true
			fresh = append(fresh, i)
		}
		q.Sources[i] = sq
	}
	if m := o.manual; m != nil && (m.until.IsZero() || now.Before(m.until)) {
		q.Price = money.Price{Coefficient: new(big.Int).Set(m.price.Coefficient), Scale: m.price.Scale}
		q.Manual, q.ManualBy, q.ManualSetAt, q.ManualUntil, q.ManualReason = true, m.by, m.setAt, m.until, m.reason
		return q
	}
	stale := func(reason string) Quote {
		q.Stale, q.Reason = true, reason
		return q
	}
	n := len(o.sources)
	if n == 0 {
		return stale("no price sources are configured and no manual price is set")
	}
	if len(fresh) < o.cfg.MinSources {
		return stale(fmt.Sprintf("%s of %d %s fresh (min %d): %s",
			countWord(len(fresh)), n, isAre(len(fresh), "source"), o.cfg.MinSources, strings.Join(notFresh, "; ")))
	}
	prices := make([]money.Price, len(fresh))
	names := make([]string, len(fresh))
	for k, i := range fresh {
		prices[k], names[k] = o.states[i].price, o.sources[i].Name()
	}
	price, agree, reason := aggregate(prices, names, o.cfg.MinSources, o.cfg.MaxSpreadBps)
	if reason != "" {
		return stale(reason)
	}
	for k, i := range fresh {
		if agree[k] {
			q.Sources[i].Contributing = true
			q.SpreadBps = max(q.SpreadBps, money.DeviationBps(prices[k], price))
		}
	}
	q.Price = money.Price{Coefficient: new(big.Int).Set(price.Coefficient), Scale: price.Scale}
	return q
}

// aggregate applies steps 3 and 4 of the package rules to the fresh
// prices (named for the reason): it returns the quoted price and which
// prices contribute, or a non-empty reason why there is no price.
func aggregate(prices []money.Price, names []string, minSources int, spreadBps int64) (money.Price, []bool, string) {
	med := lowerMedian(prices)
	agree := make([]bool, len(prices))
	var agreed []money.Price
	var outliers []string
	for k, p := range prices {
		if withinBps(p, med, spreadBps) {
			agree[k] = true
			agreed = append(agreed, p)
		} else {
			outliers = append(outliers, fmt.Sprintf("source %s: %s is %s from the median", names[k], p, fmtBps(money.DeviationBps(p, med))))
		}
	}
	if len(agreed) < minSources || 2*len(agreed) <= len(prices) {
		need := fmt.Sprintf("min %d", minSources)
		if len(agreed) >= minSources {
			need = "a strict majority of fresh sources is needed"
		}
		return money.Price{}, nil, fmt.Sprintf("only %d of %d fresh sources agree within %s of the median %s (%s): %s",
			len(agreed), len(prices), fmtBps(spreadBps), med, need, strings.Join(outliers, "; "))
	}
	return lowerMedian(agreed), agree, ""
}

// Median returns the median of prices as the oracle defines it: the lower
// middle element after an exact ascending sort (for an even count, the
// smaller of the two middle prices — always one of the quoted prices, and
// the one that values reserves lower). It panics on an empty slice.
func Median(prices []money.Price) money.Price { return lowerMedian(prices) }

func lowerMedian(prices []money.Price) money.Price {
	s := slices.Clone(prices)
	slices.SortStableFunc(s, func(a, b money.Price) int { return a.Cmp(b) })
	return s[(len(s)-1)/2]
}

// withinBps reports whether |p − m| × 10000 ≤ bps × m, exactly.
func withinBps(p, m money.Price, bps int64) bool {
	a, b := money.AlignScale(p, m)
	d := new(big.Int).Sub(a, b)
	d.Abs(d).Mul(d, big.NewInt(BasisPoints))
	return d.Cmp(new(big.Int).Mul(b, big.NewInt(bps))) <= 0
}

func fmtBps(bps int64) string {
	return fmt.Sprintf("%d.%02d%%", bps/100, bps%100)
}

func countWord(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("only %d", n)
}

func isAre(n int, noun string) string {
	if n == 1 || n == 0 {
		return noun + "s is"
	}
	return noun + "s are"
}

// trimSourcePrefix drops the "source NAME: " prefix Fetch errors carry, as
// the reason already names the source.
func trimSourcePrefix(name, msg string) string {
	return strings.TrimPrefix(msg, "source "+name+": ")
}

// fmtDuration renders a duration in whole seconds without zero units:
// "12m", "1h5m", "45s".
func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
