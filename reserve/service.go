package reserve

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/btcsuite/btcd/rpcclient"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// ChainSourceName is the monitor name of the on-chain source.
const ChainSourceName = "chain"

// ServiceConfig tunes the polling loops.
type ServiceConfig struct {
	ChainPoll   time.Duration // default 500ms
	ChainMaxAge time.Duration // default 2m
	LNPoll      time.Duration // default 5s
	LNMaxAge    time.Duration // default 2m
	// Wake, if set, makes the chain loop sync at once (a block
	// notification) instead of waiting for its next poll.
	Wake <-chan struct{}
	// ChainHost is the chain backend's host:port, probed before each
	// connection attempt (see chain.Connect).
	ChainHost string
	// StaleCheck is how often sources are checked for going stale or
	// recovering, to log each change (default 1s).
	StaleCheck time.Duration
	// Proofs keeps the proofs of control over on-chain outputs: an output
	// counts only with a good one (nil: none counts).
	Proofs *proving.Book
	// CountClaimed counts claimed (unannounced) channels' balances.
	CountClaimed bool
	Log          *slog.Logger
}

// Service runs the reserve sources and feeds the monitor: one goroutine
// follows the chain, one polls each lnd node.
type Service struct {
	mon         *Monitor
	cfg         ServiceConfig
	chainClient *rpcclient.Client // nil: no chain source
	watcher     *chain.Watcher
	lnds        []*lightning.Source

	// chainUp is closed once the chain client is connected (at once with
	// no chain source): Lightning polls check channel points and wallet
	// outputs through it, so they wait for it.
	chainUp     chan struct{}
	chainUpOnce sync.Once

	mu        sync.RWMutex
	chainSnap chain.Snapshot
	lnReports map[string]lightning.Report
}

// NewService wires the sources to the monitor and registers them. watcher
// and client may be nil when no chain source is configured.
func NewService(mon *Monitor, client *rpcclient.Client, watcher *chain.Watcher, lnds []*lightning.Source, cfg ServiceConfig) *Service {
	if cfg.ChainPoll <= 0 {
		cfg.ChainPoll = 500 * time.Millisecond
	}
	if cfg.ChainMaxAge <= 0 {
		cfg.ChainMaxAge = 2 * time.Minute
	}
	if cfg.LNPoll <= 0 {
		cfg.LNPoll = 5 * time.Second
	}
	if cfg.LNMaxAge <= 0 {
		cfg.LNMaxAge = 2 * time.Minute
	}
	if cfg.StaleCheck <= 0 {
		cfg.StaleCheck = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Service{mon: mon, cfg: cfg, chainClient: client, watcher: watcher, lnds: lnds,
		lnReports: map[string]lightning.Report{}, chainUp: make(chan struct{})}
	if client == nil {
		s.markChainUp()
	}
	if watcher != nil {
		mon.RegisterKind(ChainSourceName, KindChain, cfg.ChainMaxAge)
	}
	for _, l := range lnds {
		mon.RegisterKind(l.Name(), KindLightning, cfg.LNMaxAge)
	}
	return s
}

func (s *Service) markChainUp() { s.chainUpOnce.Do(func() { close(s.chainUp) }) }

// Run polls until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.staleLoop(ctx) }()
	if s.watcher != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.chainLoop(ctx) }()
	}
	for _, l := range s.lnds {
		wg.Add(1)
		go func(l *lightning.Source) { defer wg.Done(); s.lnLoop(ctx, l) }(l)
	}
	wg.Wait()
}

func (s *Service) chainLoop(ctx context.Context) {
	log := s.cfg.Log.With("source", ChainSourceName)
	connected := s.chainClient == nil
	t := time.NewTicker(s.cfg.ChainPoll)
	defer t.Stop()
	var warn repeatLog
	for {
		if !connected {
			err := chain.Connect(ctx, s.chainClient, s.cfg.ChainHost)
			switch {
			case err == nil:
				connected = true
				s.markChainUp()
				log.Info("connected to the chain backend", "host", s.cfg.ChainHost)
				warn.reset()
				if s.cfg.Wake != nil {
					// Block notifications speed the loop up; polling
					// still decides. POST clients have none.
					if err := s.chainClient.NotifyBlocks(); err != nil && !errors.Is(err, rpcclient.ErrWebsocketsRequired) {
						log.Warn("block notifications unavailable; polling only", "err", err)
					}
				}
			case ctx.Err() != nil:
				return
			default:
				s.mon.Fail(ChainSourceName, err)
				warn.log(log, "chain backend unreachable; retrying", err)
			}
		}
		if connected {
			s.syncChain(ctx, log)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.cfg.Wake: // nil channel: never
		}
	}
}

func (s *Service) syncChain(ctx context.Context, log *slog.Logger) {
	snap, err := s.watcher.Sync(ctx)
	if err != nil {
		s.mon.Fail(ChainSourceName, err)
		log.Warn("chain sync failed", "err", err)
		return
	}
	proven, unproven, err := s.provenChain(ctx, snap)
	if err != nil {
		s.mon.Fail(ChainSourceName, err)
		log.Warn("chain sync failed", "err", err)
		return
	}
	err = s.mon.Update(ChainSourceName, SourceStatus{
		Counted: proven,
		Classes: []Class{
			{Name: "onchain_confirmed", Amount: proven, Counted: true},
			{Name: "onchain_unproven", Amount: unproven},
			{Name: "onchain_unconfirmed", Amount: snap.Unconfirmed},
		},
		Height: snap.Height, Hash: snap.Hash,
	})
	if err != nil {
		log.Error("chain report rejected", "err", err)
		return
	}
	s.mu.Lock()
	prev := s.chainSnap.Height
	s.chainSnap = snap
	s.mu.Unlock()
	if snap.Height != prev {
		log.Debug("chain synced", "height", snap.Height, "confirmed", snap.Confirmed, "unconfirmed", snap.Unconfirmed)
	}
}

// provenChain splits the watcher's confirmed outputs into those with a
// good proof of control at its tip (counted) and the others, after
// re-checking the proofs' challenge blocks against the chain.
func (s *Service) provenChain(ctx context.Context, snap chain.Snapshot) (proven, unproven int64, err error) {
	if s.cfg.Proofs != nil {
		s.cfg.Proofs.Refresh(func(h int64) string {
			hash, err := s.watcher.BlockHash(ctx, h)
			if err != nil {
				return ""
			}
			return hash
		})
	}
	for _, u := range snap.UTXOs {
		if snap.Height-u.Height+1 < snap.MinConf {
			continue
		}
		sum := &unproven
		if s.cfg.Proofs != nil && s.cfg.Proofs.Status(u.OutPoint.String(), snap.Height).Counts {
			sum = &proven
		}
		var ok bool
		if *sum, ok = addChecked(*sum, u.Value); !ok {
			return 0, 0, errors.New("watched outputs add up to more than 2^63-1 sats")
		}
	}
	return proven, unproven, nil
}

func addChecked(a, b int64) (int64, bool) {
	if b < 0 || a > maxInt64-b {
		return a, false
	}
	return a + b, true
}

func (s *Service) lnLoop(ctx context.Context, l *lightning.Source) {
	log := s.cfg.Log.With("source", l.Name())
	select {
	case <-s.chainUp:
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(s.cfg.LNPoll)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, s.cfg.LNPoll+10*time.Second)
		r, err := l.Poll(pctx)
		cancel()
		counted := r.Counted()
		if s.cfg.CountClaimed {
			counted += r.ChannelsClaimed // each class is bounded by 21 million BTC
		}
		if err != nil {
			s.mon.Fail(l.Name(), err)
			log.Warn("lightning poll failed", "err", err)
		} else if err := s.mon.Update(l.Name(), SourceStatus{
			Counted: counted,
			Classes: []Class{
				{Name: "channel_local", Amount: r.ChannelsCounted, Counted: true},
				{Name: "channel_claimed", Amount: r.ChannelsClaimed, Counted: s.cfg.CountClaimed},
				{Name: "wallet_unproven", Amount: r.WalletUnproven},
				{Name: "wallet_confirmed", Amount: r.WalletCounted, Counted: true},
				{Name: "wallet_change", Amount: r.WalletChange, Counted: true},
				{Name: "wallet_spending", Amount: r.WalletSpending, Counted: true},
				{Name: "channel_reserve", Amount: r.ChannelReserve},
				{Name: "htlc_unsettled", Amount: r.Unsettled},
				{Name: "pending_open", Amount: r.PendingOpen},
				{Name: "pending_close", Amount: r.PendingClose},
				{Name: "wallet_unconfirmed", Amount: r.WalletImmature},
				{Name: "wallet_unverified", Amount: r.WalletUnverified},
			},
			Height: int64(r.BlockHeight), PubKey: r.PubKey,
		}); err != nil {
			log.Error("lightning report rejected", "err", err)
		} else {
			s.mu.Lock()
			s.lnReports[l.Name()] = r
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// staleLoop logs every source that goes stale (silent past its max age,
// so minting stops) or recovers, once per change.
func (s *Service) staleLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.StaleCheck)
	defer t.Stop()
	state := map[string]Freshness{}
	for {
		s.mon.LogChanges(s.cfg.Log, state)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// repeatLog logs a recurring failure when it first happens, when its text
// changes, and then at most once a minute, instead of at every poll.
type repeatLog struct {
	last string
	at   time.Time
	n    int
}

func (r *repeatLog) log(log *slog.Logger, msg string, err error) {
	text := err.Error()
	r.n++
	if text == r.last && time.Since(r.at) < time.Minute {
		return
	}
	log.Warn(msg, "err", err, "failures", r.n)
	r.last, r.at = text, time.Now()
}

func (r *repeatLog) reset() { *r = repeatLog{} }

// Details returns the last chain snapshot and the last report of every
// Lightning node, sorted by name.
func (s *Service) Details() (chain.Snapshot, []lightning.Report) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	reps := make([]lightning.Report, 0, len(s.lnReports))
	for _, r := range s.lnReports {
		reps = append(reps, r)
	}
	sort.Slice(reps, func(i, j int) bool { return reps[i].Name < reps[j].Name })
	return s.chainSnap, reps
}

// Lightning returns the configured Lightning sources.
func (s *Service) Lightning() []*lightning.Source { return s.lnds }

// Monitor returns the monitor the service feeds.
func (s *Service) Monitor() *Monitor { return s.mon }

// Snapshot returns the monitor's live picture.
func (s *Service) Snapshot() Snapshot { return s.mon.Snapshot() }

// ChainStats returns the chain watcher's counters; ok is false when no chain
// source is configured.
func (s *Service) ChainStats() (stats chain.Stats, ok bool) {
	if s.watcher == nil {
		return chain.Stats{}, false
	}
	return s.watcher.Stats(), true
}

// Prices returns the monitor's price oracle (nil: none).
func (s *Service) Prices() Prices { return s.mon.Prices() }

// Reload reads the chain watcher's state from the store again: a koshd
// that becomes leader among several (package leader) resumes from where
// the previous leader's watcher left it, not from its own last view.
func (s *Service) Reload(ctx context.Context) error {
	if s.watcher == nil {
		return nil
	}
	return s.watcher.Load(ctx)
}
