// Package pagesource composes the public proof-of-reserves page's data
// (web.PageData) from the live reserves, the ledger and the published
// attestations: package web renders it, this package reads it.
package pagesource

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/web"
)

// Assets lists the issued assets with their supply and holder counts.
type Assets interface {
	Assets(ctx context.Context) ([]ledger.Asset, error)
}

// Reserves is the live reserve figure and the prices that value fiat pegs.
type Reserves interface {
	Snapshot() reserve.Snapshot
	// Details is the chain watcher's UTXO set and each lnd node's last
	// report: what the page compares the latest attestation's outputs with.
	Details() (chain.Snapshot, []lightning.Report)
	// Prices returns the price oracle (nil: none).
	Prices() reserve.Prices
}

// Attestations reads the published attestations.
type Attestations interface {
	List(ctx context.Context, before int64, limit int) ([]attestor.Published, error)
	ByID(ctx context.Context, id string) (attestor.Published, error)
}

// Config is what a Source composes the page from.
type Config struct {
	// Issuer and Network are shown in the page's header.
	Issuer, Network string
	Ledger          Assets
	Reserves        Reserves
	// Attestations lists the published attestations (nil: none).
	Attestations Attestations
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Source feeds the public page (package web) from the live reserves, the
// ledger and the published attestations.
type Source struct {
	cfg Config
	att Attestations

	mu      sync.Mutex
	summary map[string]pageSummary // by attestation id: documents never change
	// movedKey and movedVal cache moved for the latest attestation until a
	// reserve source reports again: the page is the public hot path.
	movedKey string
	movedVal *web.Moved
}

// New returns a Source.
func New(cfg Config) *Source {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Source{cfg: cfg, att: cfg.Attestations}
}

type pageSummary struct {
	att  web.Attestation
	hist web.HistoryPoint
}

// summarize returns the page's summary of a listed attestation, parsing its
// document once.
func (p *Source) summarize(ctx context.Context, row attestor.Published) (pageSummary, error) {
	p.mu.Lock()
	s, ok := p.summary[row.ID]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	full, err := p.att.ByID(ctx, row.ID)
	if err != nil {
		return s, err
	}
	a, h, err := web.Summarize([]byte(full.Document), attestor.FileName(full))
	if err != nil {
		return s, fmt.Errorf("attestation %d: %w", row.Seq, err)
	}
	s = pageSummary{att: a, hist: h}
	p.mu.Lock()
	if p.summary == nil {
		p.summary = map[string]pageSummary{}
	}
	p.summary[row.ID] = s
	p.mu.Unlock()
	return s, nil
}

var _ web.DataSource = (*Source)(nil)

// movedCached is moved, computed again only when the latest attestation
// or a source's last report changed.
func (p *Source) movedCached(id string, snap reserve.Snapshot, listed []web.ListedOutput) *web.Moved {
	var key strings.Builder
	key.WriteString(id)
	for _, s := range snap.Sources {
		fmt.Fprintf(&key, " %s@%d", s.Name, s.LastSeen.UnixNano())
	}
	p.mu.Lock()
	if p.movedKey == key.String() {
		m := p.movedVal
		p.mu.Unlock()
		return m
	}
	p.mu.Unlock()
	m := p.moved(listed)
	p.mu.Lock()
	p.movedKey, p.movedVal = key.String(), m
	p.mu.Unlock()
	return m
}

// moved says which of listed (the latest attestation's outputs) koshd's
// sources no longer hold: an output of the chain watcher absent from its
// UTXO set, one of an lnd node absent from the node's last report. Nil
// without a chain snapshot.
func (p *Source) moved(listed []web.ListedOutput) *web.Moved {
	cs, reports := p.cfg.Reserves.Details()
	if cs.Hash == "" {
		return nil
	}
	have := map[string]bool{}
	for _, u := range cs.UTXOs {
		have["chain "+u.OutPoint.String()] = true
	}
	polled := map[string]bool{}
	for _, r := range reports {
		polled[r.Name] = r.PubKey != ""
		for _, w := range r.Wallet {
			have[r.Name+" "+w.Outpoint] = true
		}
	}
	m := &web.Moved{Height: cs.Height}
	for _, o := range listed {
		if o.Source != "chain" && !polled[o.Source] {
			continue // a node not heard from: nothing to compare with
		}
		if !have[o.Source+" "+o.Outpoint] {
			m.Outputs++
			if s, ok := addInt(m.Sats, o.Sats); ok {
				m.Sats = s
			}
		}
	}
	return m
}

// pageHistory is how many attestations the page lists and charts.
const pageHistory = 60

// Page implements web.DataSource.
func (p *Source) Page(ctx context.Context) (*web.PageData, error) {
	now := p.cfg.Now()
	pd := &web.PageData{Issuer: p.cfg.Issuer, Network: p.cfg.Network, Now: now}

	snap := p.cfg.Reserves.Snapshot()
	pd.Reserves = web.Reserves{Time: snap.Time, Stale: snap.Stale() || !snap.Usable(), CountedSats: snap.Counted}
	for _, s := range snap.Sources {
		src := web.ReserveSource{Name: s.Name, Kind: web.KindOnchain, CountedSats: s.Counted, LastSeen: s.LastSeen, Stale: s.Stale}
		if s.Kind == reserve.KindLightning {
			src.Kind, src.ID = web.KindLightning, s.PubKey
		} else if s.Hash != "" {
			pd.Reserves.Height, pd.Reserves.BlockHash = s.Height, s.Hash
		}
		var reported int64
		for _, c := range s.Classes {
			if r, ok := addInt(reported, c.Amount); ok {
				reported = r
			}
		}
		src.ReportedSats = max(reported, s.Counted)
		src.Detail = sourceDetail(s)
		pd.Reserves.Sources = append(pd.Reserves.Sources, src)
		if r, ok := addInt(pd.Reserves.ReportedSats, src.ReportedSats); ok {
			pd.Reserves.ReportedSats = r
		}
	}

	assets, err := p.cfg.Ledger.Assets(ctx)
	if err != nil {
		return nil, err
	}
	supplies := ledger.Supplies(assets)
	prices := p.cfg.Reserves.Prices()
	cov, covErr := reserve.Compute(snap.Counted, supplies, prices)
	if covErr == nil {
		pd.Coverage = web.Coverage{CountedSats: snap.Counted, BackingSats: clampInt(cov.Backing),
			RequiredSats: clampInt(cov.Required), Bps: cov.CoverageBps}
	}
	for i, a := range assets {
		// Supply and holders come with the asset's row, kept current by
		// every balance change: the page's cost does not grow with the
		// journal or the accounts (ledger.Supply, which recounts them, is
		// the issuer's audit and is not called here).
		wa := web.Asset{Code: a.Code, Name: a.Name, Decimals: int(a.Decimals), Peg: "sat", Supply: a.Supply,
			Accounts: a.Holders, MinCoverageBps: a.MinCoverageBps, WarnCoverageBps: a.WarnCoverageBps,
			Stale: pd.Reserves.Stale}
		var price *reserve.Price
		if a.Peg == ledger.PegFiat {
			wa.Peg, wa.Currency = "fiat", a.Currency
			wp := &web.Price{Currency: a.Currency, Stale: true, Source: "oracle"}
			if prices != nil {
				if pr, err := prices.Price(a.Currency); err == nil {
					price = &pr
					wp = &web.Price{Coefficient: pr.Coefficient.String(), Scale: int(pr.Scale), Currency: a.Currency,
						Time: pr.Time, Source: "oracle"}
					switch {
					case pr.Manual:
						wp.Source = "manual"
					case len(pr.Sources) > 0:
						names := make([]string, len(pr.Sources))
						for i, src := range pr.Sources {
							names[i] = src.Name
						}
						wp.Source = fmt.Sprintf("median of %d sources (%s), spread %d bps", len(names), strings.Join(names, ", "), pr.SpreadBps)
					}
				}
			}
			wa.Price = wp
			if wp.Stale {
				wa.Stale = true
			}
		}
		if b, err := reserve.BackingSats(supplies[i], price); err == nil {
			wa.BackingSats = clampInt(b)
		}
		// One pool of reserves backs every asset: an asset's coverage is the
		// pool's, and it is under-backed when the pool misses the sum of all
		// assets' policy minimums (as GetReserves reports it).
		switch {
		case covErr != nil:
			wa.Stale = true
		default:
			wa.CoverageBps = cov.CoverageBps
			switch {
			case wa.Stale:
				wa.Status = web.StatusStale
			case cov.Below():
				wa.Status = web.StatusUnderBacked
			case cov.Warning(a.WarnCoverageBps):
				wa.Status = web.StatusWarning
			default:
				wa.Status = web.StatusBacked
			}
		}
		pd.Assets = append(pd.Assets, wa)
	}

	if p.att != nil {
		rows, err := p.att.List(ctx, 0, pageHistory)
		if err != nil {
			return nil, err
		}
		for i := len(rows) - 1; i >= 0; i-- {
			s, err := p.summarize(ctx, rows[i])
			if err != nil {
				return nil, err
			}
			pd.Attestations = append([]web.Attestation{s.att}, pd.Attestations...)
			pd.History = append(pd.History, s.hist)
		}
		if len(pd.Attestations) > 0 {
			pd.Latest = &pd.Attestations[0]
			pd.Latest.Moved = p.movedCached(pd.Latest.ID, snap, pd.Latest.Listed)
		}
	}
	return pd, nil
}

// Attestation implements web.DataSource.
func (p *Source) Attestation(ctx context.Context, id string) ([]byte, error) {
	if p.att == nil {
		return nil, fmt.Errorf("attestations are not enabled: %w", web.ErrNotFound)
	}
	row, err := p.att.ByID(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) || errors.Is(err, ledger.ErrInvalidArgument) {
		return nil, fmt.Errorf("attestation %s: %w", id, web.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return []byte(row.Document), nil
}

func sourceDetail(s reserve.SourceStatus) string {
	switch {
	case s.LastSeen.IsZero():
		return "not heard from yet"
	case s.Stale:
		return "silent for longer than " + s.MaxAge.String()
	case s.Kind == reserve.KindLightning:
		return "channels and on-chain wallet"
	default:
		return fmt.Sprintf("watched outputs at block %d", s.Height)
	}
}

func addInt(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return a, false
	}
	return s, true
}

func clampInt(v *big.Int) int64 {
	if v == nil {
		return 0
	}
	if !v.IsInt64() {
		return math.MaxInt64
	}
	return v.Int64()
}
