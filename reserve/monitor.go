package reserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
)

// ErrNoSource means no reserve source is configured, so no reserve can be
// proven and nothing may be minted.
var ErrNoSource = errors.New("no reserve source is configured: minting needs at least one chain or Lightning source (see the [chain] and [lnd] sections of koshd.conf)")

// ErrStale means a source has not reported within its maximum age.
var ErrStale = errors.New("reserve snapshot is stale")

// Source kinds.
const (
	KindChain     = "chain"
	KindLightning = "lightning"
	KindExternal  = "external"
)

// Class is one amount a source reports, counted toward reserves or only
// shown.
type Class struct {
	Name    string
	Amount  int64
	Counted bool
}

// SourceStatus is the latest word from one source.
type SourceStatus struct {
	Name      string
	Kind      string
	MaxAge    time.Duration
	LastSeen  time.Time // zero until the first report
	LastError string    // the last failed poll, cleared by a report
	Counted   int64
	Classes   []Class
	Height    int64  // chain sources: the block the figures are at
	Hash      string // chain sources
	PubKey    string // Lightning sources: the node's identity key
	Stale     bool
}

// Snapshot is the reserve picture at one instant.
type Snapshot struct {
	Time    time.Time
	Sources []SourceStatus
	// Counted is the sum over sources; meaningful only when Usable.
	Counted int64
	// Problem says why the snapshot cannot back a mint; empty when usable.
	Problem string
}

// Usable reports whether the snapshot can back a mint.
func (s Snapshot) Usable() bool { return s.Problem == "" }

// Stale reports whether any source is past its max age.
func (s Snapshot) Stale() bool {
	for _, src := range s.Sources {
		if src.Stale {
			return true
		}
	}
	return false
}

// Monitor keeps the live reserve figure and implements ledger.CoverageGate.
// Sources report into it; it never mints on a figure it cannot vouch for:
// with no source, or any source silent past its max age, AllowMint refuses.
type Monitor struct {
	mu        sync.RWMutex
	sources   map[string]*SourceStatus
	now       func() time.Time
	priceBook Prices // fixed at NewMonitor
}

// MonitorOption configures a Monitor.
type MonitorOption func(*Monitor)

// WithPrices gives the monitor the price oracle that values fiat-pegged
// assets; without it a fiat-pegged mint fails with ErrNoOracle.
func WithPrices(p Prices) MonitorOption { return func(m *Monitor) { m.priceBook = p } }

// NewMonitor returns a monitor with no sources.
func NewMonitor(opts ...MonitorOption) *Monitor {
	m := &Monitor{sources: map[string]*SourceStatus{}, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Register declares an external source that must report at least every
// maxAge.
func (m *Monitor) Register(name string, maxAge time.Duration) {
	m.RegisterKind(name, KindExternal, maxAge)
}

// RegisterKind declares a source of the given kind.
func (m *Monitor) RegisterKind(name, kind string, maxAge time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources[name] = &SourceStatus{Name: name, Kind: kind, MaxAge: maxAge}
}

// Report records a source's counted reserves (in sats) as of now.
func (m *Monitor) Report(name string, counted int64) error {
	return m.Update(name, SourceStatus{Counted: counted, Classes: []Class{{Name: "counted", Amount: counted, Counted: true}}})
}

// Update records a full report from a source as of now: its counted total,
// classes, and chain position or node key. The counted total must equal the
// sum of the counted classes.
func (m *Monitor) Update(name string, r SourceStatus) error {
	if r.Counted < 0 {
		return fmt.Errorf("source %s reported negative reserves %d", name, r.Counted)
	}
	var sum int64
	for _, c := range r.Classes {
		if c.Amount < 0 {
			return fmt.Errorf("source %s reported a negative %s amount", name, c.Name)
		}
		if c.Counted {
			if sum > maxInt64-c.Amount {
				return fmt.Errorf("source %s reported classes summing past int64", name)
			}
			sum += c.Amount
		}
	}
	if sum != r.Counted {
		return fmt.Errorf("source %s: counted %d is not the sum of its counted classes %d", name, r.Counted, sum)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sources[name]
	if !ok {
		return fmt.Errorf("source %s is not registered", name)
	}
	s.Counted, s.Classes, s.Height, s.Hash, s.PubKey = r.Counted, r.Classes, r.Height, r.Hash, r.PubKey
	s.LastSeen, s.LastError = m.now(), ""
	return nil
}

// Fail records a failed poll. The source's last good figures stay until its
// max age passes, then the snapshot goes stale.
func (m *Monitor) Fail(name string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sources[name]; ok {
		s.LastError = err.Error()
	}
}

const maxInt64 = 1<<63 - 1

// Snapshot returns the current reserve picture.
func (m *Monitor) Snapshot() Snapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.now()
	snap := Snapshot{Time: now}
	var stale []string
	for _, s := range m.sources {
		c := *s
		c.Classes = append([]Class(nil), s.Classes...)
		switch {
		case s.LastSeen.IsZero():
			c.Stale = true
			stale = append(stale, fmt.Sprintf("source %s has not reported yet%s", s.Name, lastErr(s)))
		case now.Sub(s.LastSeen) > s.MaxAge:
			c.Stale = true
			stale = append(stale, fmt.Sprintf("source %s last reported %s ago (max age %s)%s", s.Name,
				now.Sub(s.LastSeen).Round(time.Second), s.MaxAge, lastErr(s)))
		}
		if snap.Counted > maxInt64-c.Counted {
			snap.Problem = "reserve total overflows int64"
		} else {
			snap.Counted += c.Counted
		}
		snap.Sources = append(snap.Sources, c)
	}
	sort.Slice(snap.Sources, func(i, j int) bool { return snap.Sources[i].Name < snap.Sources[j].Name })
	sort.Strings(stale)
	switch {
	case len(m.sources) == 0:
		snap.Problem = ErrNoSource.Error()
	case len(stale) > 0:
		snap.Problem = ErrStale.Error() + ": " + strings.Join(stale, "; ")
	}
	return snap
}

// LogChanges logs each source whose freshness changed since the last call
// with the same state map: going stale is a warning (minting stops),
// recovering and first reporting are info. A source that has not reported
// yet is not logged as stale.
func (m *Monitor) LogChanges(log *slog.Logger, state map[string]Freshness) {
	for _, src := range m.Snapshot().Sources {
		now := Fresh
		switch {
		case src.LastSeen.IsZero():
			now = NotYet
		case src.Stale:
			now = Stale
		}
		was := state[src.Name]
		state[src.Name] = now
		switch {
		case now == was:
		case now == Fresh && was == Stale:
			log.Info("reserve source recovered", "source", src.Name, "counted_sats", src.Counted)
		case now == Fresh:
			log.Info("reserve source reporting", "source", src.Name, "counted_sats", src.Counted)
		case now == Stale:
			log.Warn("reserve source is stale: minting stops until it reports again", "source", src.Name,
				"last_seen", src.LastSeen, "max_age", src.MaxAge, "last_error", src.LastError)
		}
	}
}

// Freshness is a source's state as LogChanges tracks it.
type Freshness int

// Source states.
const (
	NotYet Freshness = iota // registered, never reported
	Fresh                   // reported within its max age
	Stale                   // silent past its max age
)

func lastErr(s *SourceStatus) string {
	if s.LastError == "" {
		return ""
	}
	return " (last error: " + s.LastError + ")"
}

// Counted returns the total counted reserves in sats, or an error naming
// what makes the figure unusable.
func (m *Monitor) Counted() (int64, error) {
	snap := m.Snapshot()
	if len(snap.Sources) == 0 {
		return 0, ErrNoSource
	}
	if !snap.Usable() {
		return 0, errors.New(snap.Problem)
	}
	return snap.Counted, nil
}

// AllowMint implements ledger.CoverageGate. The reserves are shared by every
// asset, so the rule is over all of them at once:
//
//	sum over assets of (supply valued in sats) × min_coverage_bps  <=  reserves × 10000
//
// with the minted asset's supply taken after the mint, sat-pegged supply
// valued 1:1 and fiat-pegged supply at the oracle's price, in exact
// rational arithmetic. A fiat asset without a usable price blocks minting.
func (m *Monitor) AllowMint(_ context.Context, c ledger.MintCheck) error {
	reserves, err := m.Counted()
	if err != nil {
		return err
	}
	cov, err := Compute(reserves, c.Outstanding, m.priceBook)
	if err != nil {
		return err
	}
	if cov.Required.Cmp(big.NewInt(reserves)) > 0 {
		return fmt.Errorf("minting would take the supply of %s to %d; at the policy minimums the outstanding supply of all assets needs %s sats of counted reserves, and %d are counted%s",
			c.Asset.Code, c.SupplyAfter, cov.Required, reserves, m.uncountedHint())
	}
	return nil
}

// uncountedHint says how much the sources watch but do not count for want
// of evidence (no proof of control, a claimed channel), or "".
func (m *Monitor) uncountedHint() string {
	var unproven, claimed int64
	for _, src := range m.Snapshot().Sources {
		for _, c := range src.Classes {
			switch {
			case c.Counted:
			case strings.HasSuffix(c.Name, "_unproven"):
				unproven, _ = addChecked(unproven, c.Amount)
			case c.Name == "channel_claimed":
				claimed, _ = addChecked(claimed, c.Amount)
			}
		}
	}
	var parts []string
	if unproven > 0 {
		parts = append(parts, fmt.Sprintf("%d sats of watched outputs count 0 without a proof that the issuer controls them (koshcli getreserves says which; koshcli exportproof and importproof prove them)", unproven))
	}
	if claimed > 0 {
		parts = append(parts, fmt.Sprintf("%d sats of claimed channels count 0 (nothing shows a third party they are the node's; lnd.countclaimed)", claimed))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// Prices returns the installed price oracle (nil: none).
func (m *Monitor) Prices() Prices { return m.priceBook }
