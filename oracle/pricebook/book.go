// Package pricebook holds one price oracle per currency and the durable
// record of manual prices: what the mint gate, the attestations and the
// price RPCs read.
package pricebook

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/money"
	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/reserve"
)

// ManualRecord is one recorded set or clear of a manual price.
type ManualRecord struct {
	// Seq orders the records; the store assigns it.
	Seq      int64
	Currency string
	// Cleared is true for a record that removed the override.
	Cleared bool
	// Coefficient (decimal digits) and Scale are the price
	// Coefficient / 10^Scale; empty and 0 for a clear.
	Coefficient string
	Scale       int
	SetBy       string
	Reason      string
	SetAt       int64 // unix microseconds
	Until       int64 // unix microseconds; 0: until cleared
}

// ManualLog is the durable record of manual prices a Book keeps.
type ManualLog interface {
	// LatestManualPrices returns the newest record of every currency
	// that has one: the override in force, or its clear.
	LatestManualPrices(ctx context.Context) ([]ManualRecord, error)
	// RecordManualPrice appends a set or clear of a manual price.
	RecordManualPrice(ctx context.Context, r ManualRecord) error
}

// Book holds one oracle per currency and the durable record of manual
// prices. It implements reserve.Prices (what the mint gate reads) and
// what the price handlers use.
type Book struct {
	db  ManualLog
	log *slog.Logger
	now func() time.Time

	oracles    map[string]*oracle.Oracle // fixed after New
	currencies []string                  // sorted

	manualMu sync.Mutex // orders record-then-apply of manual prices
	// applied is the newest manual record applied per currency (Restore,
	// Sync), under manualMu: Sync applies only what is newer.
	applied map[string]int64
}

// SyncEvery is how often Run re-reads the manual prices recorded by other
// koshd sharing the database (Sync).
const SyncEvery = 2 * time.Second

var _ reserve.Prices = (*Book)(nil)

// New builds one oracle per currency of cfgs (see oracle.Options.Configs),
// recording manual prices in db. Restore applies the recorded ones; Run
// starts polling.
func New(cfgs map[string]oracle.Config, db ManualLog, log *slog.Logger, opts ...oracle.Option) (*Book, error) {
	if log == nil {
		log = slog.Default()
	}
	b := &Book{db: db, log: log, now: time.Now, oracles: map[string]*oracle.Oracle{}, applied: map[string]int64{}}
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

// Restore applies the manual prices recorded in the store: the newest row
// of each currency unless it is a clear or has expired.
func (b *Book) Restore(ctx context.Context) error {
	return b.sync(ctx, false)
}

// Sync applies the manual prices recorded in the store since the last
// Restore or Sync, as another koshd sharing the database sets and clears
// them: a newer set is applied (unless expired), a newer clear clears.
// Run calls it every SyncEvery.
func (b *Book) Sync(ctx context.Context) error {
	return b.sync(ctx, true)
}

func (b *Book) sync(ctx context.Context, clears bool) error {
	rows, err := b.db.LatestManualPrices(ctx)
	if err != nil {
		return err
	}
	b.manualMu.Lock()
	defer b.manualMu.Unlock()
	now := b.now()
	for _, r := range rows {
		if r.Seq <= b.applied[r.Currency] {
			continue
		}
		o, ok := b.oracles[r.Currency]
		switch {
		case !ok:
			b.log.Warn("a recorded manual price is for a currency no longer configured; ignored",
				"currency", r.Currency, "set_by", r.SetBy)
		case r.Cleared:
			if clears {
				o.ClearManual()
				b.log.Info("manual price cleared (recorded by another koshd)", "currency", r.Currency, "by", r.SetBy)
			}
		case r.Until != 0 && !time.UnixMicro(r.Until).After(now):
			b.log.Info("recorded manual price has expired", "currency", r.Currency, "until", time.UnixMicro(r.Until).UTC())
		default:
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
			b.log.Info("applied recorded manual price", "currency", r.Currency, "price", m.Price.String(), "set_by", r.SetBy,
				"set_at", m.SetAt.UTC(), "until", m.Until)
		}
		b.applied[r.Currency] = r.Seq
	}
	return nil
}

// Run polls every oracle until ctx is done, each in a goroutine that wg
// tracks.
func (b *Book) Run(ctx context.Context, wg *sync.WaitGroup) {
	for _, cur := range b.currencies {
		o := b.oracles[cur]
		wg.Add(1)
		go func() { defer wg.Done(); o.Run(ctx) }()
	}
	// Manual prices set through another koshd on the same database.
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(SyncEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := b.Sync(ctx); err != nil && ctx.Err() == nil {
					b.log.Warn("could not read the recorded manual prices", "err", err)
				}
			}
		}
	}()
}

func (b *Book) oracle(currency string) (*oracle.Oracle, error) {
	o, ok := b.oracles[currency]
	if !ok {
		return nil, fmt.Errorf("%w: no price oracle for %s (configured: %s); add --oracle.source lines with currency=%s, or --oracle.manualcurrency=%s",
			ledger.ErrNotFound, currency, strings.Join(b.currencies, ", "), currency, currency)
	}
	return o, nil
}

// Price implements reserve.Prices: the currency's usable price now, or why
// there is none.
func (b *Book) Price(currency string) (reserve.Price, error) {
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
func (b *Book) Quote(currency string) (oracle.Quote, error) {
	o, err := b.oracle(currency)
	if err != nil {
		return oracle.Quote{}, err
	}
	return o.Current(), nil
}

// Quotes returns every currency's quote, in currency order.
func (b *Book) Quotes() []oracle.Quote {
	out := make([]oracle.Quote, 0, len(b.currencies))
	for _, cur := range b.currencies {
		out = append(out, b.oracles[cur].Current())
	}
	return out
}

// Currencies lists the priced currencies, sorted.
func (b *Book) Currencies() []string { return slices.Clone(b.currencies) }

// SetManual records a manual price in the store, then applies it.
func (b *Book) SetManual(ctx context.Context, currency string, m oracle.Manual) (oracle.Quote, error) {
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
	row := ManualRecord{Currency: currency, Coefficient: m.Price.Coefficient.String(), Scale: int(m.Price.Scale),
		SetBy: m.By, Reason: m.Reason, SetAt: m.SetAt.UnixMicro()}
	if !m.Until.IsZero() {
		row.Until = m.Until.UnixMicro()
	}
	if err := b.db.RecordManualPrice(ctx, row); err != nil {
		return oracle.Quote{}, err
	}
	if err := o.ApplyManual(m); err != nil {
		return oracle.Quote{}, fmt.Errorf("%w: %w", ledger.ErrInvalidArgument, err)
	}
	return o.Current(), nil
}

// ClearManual records the removal of a currency's manual price, then
// removes it.
func (b *Book) ClearManual(ctx context.Context, currency, by, reason string) (oracle.Quote, error) {
	o, err := b.oracle(currency)
	if err != nil {
		return oracle.Quote{}, err
	}
	b.manualMu.Lock()
	defer b.manualMu.Unlock()
	row := ManualRecord{Currency: currency, Cleared: true, SetBy: by, Reason: reason, SetAt: b.now().UnixMicro()}
	if err := b.db.RecordManualPrice(ctx, row); err != nil {
		return oracle.Quote{}, err
	}
	o.ClearManual()
	b.log.Info("manual price cleared", "currency", currency, "by", by, "reason", reason)
	return o.Current(), nil
}
