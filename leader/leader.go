package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kosh-reserve/kosh/store"
)

// DefaultTTL is the lease length when Config.TTL is zero.
const DefaultTTL = 10 * time.Second

// Config configures an Elector. Zero fields take the defaults shown.
type Config struct {
	// ID names this process in the lease; it must be unique among the
	// processes sharing the database. Default: hostname-pid-random.
	ID string
	// TTL is the lease length (default DefaultTTL, 10 s). The leader is
	// replaced within TTL + Renew of its death (see the package
	// documentation); it is kept to whole milliseconds.
	TTL time.Duration
	// Renew is how often the leader renews and a follower campaigns
	// (default TTL/3). It must be shorter than TTL − Margin.
	Renew time.Duration
	// Margin is how long before its lease expires (counted from when it
	// sent the last successful renewal) the process stops considering
	// itself leader (default TTL/5).
	Margin time.Duration
	// Log receives the elector's messages (default slog.Default()).
	Log *slog.Logger
	// OnGain, if set, is called from Run when this process becomes leader,
	// with its fencing token. OnLose is called when it stops being leader:
	// the lease was taken, a renewal was late, or Run is stopping. They are
	// called in order, one at a time, and must return promptly: Run does
	// not renew while they run.
	OnGain func(token int64)
	// OnLose: see OnGain.
	OnLose func(token int64)
}

// Elector campaigns for the lease and keeps it while it can. Create it with
// New and run it with Run; Leader reports whether it leads.
type Elector struct {
	db  *store.DB
	cfg Config
	log *slog.Logger

	mu    sync.Mutex
	token int64     // the token of the tenure we believe we hold; 0 if follower
	until time.Time // when that belief ends (monotonic clock)
	held  int64     // the token of our last tenure, released when Run stops

	running atomic.Bool
	// keepOnStop skips the release when Run stops, as if the process had
	// died or paused; tests set it.
	keepOnStop bool
}

// New returns an elector for db with the given configuration, checked and
// completed with its defaults.
func New(db *store.DB, cfg Config) (*Elector, error) {
	if db == nil {
		return nil, errors.New("leader: no store given")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	cfg.TTL = cfg.TTL.Truncate(time.Millisecond)
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("leader: lease TTL %s must be at least 1ms", cfg.TTL)
	}
	if cfg.Renew == 0 {
		cfg.Renew = cfg.TTL / 3
	}
	if cfg.Margin == 0 {
		cfg.Margin = cfg.TTL / 5
	}
	if cfg.Margin < 0 || cfg.Renew <= 0 || cfg.Renew >= cfg.TTL-cfg.Margin {
		return nil, fmt.Errorf("leader: need 0 < renew (%s) < TTL (%s) − margin (%s)", cfg.Renew, cfg.TTL, cfg.Margin)
	}
	if cfg.ID == "" {
		id, err := defaultID()
		if err != nil {
			return nil, err
		}
		cfg.ID = id
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Elector{db: db, cfg: cfg, log: cfg.Log.With("subsystem", "leader", "id", cfg.ID)}, nil
}

func defaultID() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("leader: name this process: %w", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("leader: name this process: %w", err)
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:])), nil
}

// ID is the name this process holds the lease under.
func (e *Elector) ID() string { return e.cfg.ID }

// Config is the configuration in use, with its defaults filled in.
func (e *Elector) Config() Config { return e.cfg }

// Leader reports whether this process leads now, and with which fencing
// token. It turns false as soon as the lease may have expired in the
// process's own view (TTL − Margin after the last successful renewal was
// sent), even if Run has not noticed yet. A leader-only write still checks
// the token with Check in its transaction.
func (e *Elector) Leader() (token int64, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token != 0 && time.Now().Before(e.until) {
		return e.token, true
	}
	return 0, false
}

// Run campaigns for the lease and renews it until ctx is done; then, if it
// leads, it stops leading (OnLose) and releases the lease so that another
// process takes over at once. It returns nil when ctx is done, or an error
// if it is already running.
func (e *Elector) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("leader: Run is already running")
	}
	defer e.running.Store(false)
	if e.db.Backend() == store.SQLite {
		e.gain(sqliteToken, time.Now().AddDate(100, 0, 0))
		<-ctx.Done()
		e.lose("stopping")
		return nil
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		var wait time.Duration
		if token, until := e.belief(); token != 0 {
			wait = e.renewOnce(ctx, token, until)
		} else {
			wait = e.campaignOnce(ctx)
		}
		// Wake up no later than the end of our leadership, to report it.
		if token, until := e.belief(); token != 0 {
			wait = min(wait, time.Until(until))
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			e.stop()
			return nil
		case <-timer.C:
		}
		if token, until := e.belief(); token != 0 && !time.Now().Before(until) {
			e.lose("the lease may have expired: no renewal succeeded in time")
		}
	}
}

// renewOnce renews our lease and returns how long to wait before the next
// attempt.
func (e *Elector) renewOnce(ctx context.Context, token int64, until time.Time) time.Duration {
	sent := time.Now()
	rctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	err := renew(rctx, e.db, e.cfg.ID, token, e.cfg.TTL)
	switch {
	case err == nil:
		e.extend(token, sent.Add(e.cfg.TTL-e.cfg.Margin))
		return e.cfg.Renew - time.Since(sent)
	case errors.Is(err, store.ErrNoChange):
		e.lose("the lease was taken over")
		return e.cfg.Renew - time.Since(sent)
	case ctx.Err() != nil:
		return 0
	default:
		e.log.Warn("renew the leader lease", "token", token, "err", err, "leader_for", time.Until(until).Round(time.Millisecond))
		return e.cfg.Renew / 4
	}
}

// campaignOnce tries to take the lease and returns how long to wait before
// the next attempt.
func (e *Elector) campaignOnce(ctx context.Context) time.Duration {
	sent := time.Now()
	cctx, cancel := context.WithTimeout(ctx, e.cfg.Renew)
	defer cancel()
	token, err := acquire(cctx, e.db, e.cfg.ID, e.cfg.TTL)
	switch {
	case err == nil:
		e.gain(token, sent.Add(e.cfg.TTL-e.cfg.Margin))
	case errors.Is(err, store.ErrNoChange), ctx.Err() != nil:
	default:
		e.log.Warn("campaign for the leader lease", "err", err)
	}
	return e.cfg.Renew - time.Since(sent)
}

func (e *Elector) belief() (int64, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.token, e.until
}

func (e *Elector) extend(token int64, until time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token == token {
		e.until = until
	}
}

func (e *Elector) gain(token int64, until time.Time) {
	e.mu.Lock()
	e.token, e.until, e.held = token, until, token
	e.mu.Unlock()
	e.log.Info("leading", "token", token)
	if e.cfg.OnGain != nil {
		e.cfg.OnGain(token)
	}
}

func (e *Elector) lose(reason string) {
	e.mu.Lock()
	token := e.token
	e.token, e.until = 0, time.Time{}
	e.mu.Unlock()
	if token == 0 {
		return
	}
	e.log.Warn("no longer leading", "token", token, "reason", reason)
	if e.cfg.OnLose != nil {
		e.cfg.OnLose(token)
	}
}

// stop ends our leadership and releases the lease of our last tenure (a
// no-op in the database if it has passed to another process).
func (e *Elector) stop() {
	e.lose("stopping")
	e.mu.Lock()
	held := e.held
	e.mu.Unlock()
	if held == 0 || e.keepOnStop {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.TTL)
	defer cancel()
	if err := release(ctx, e.db, e.cfg.ID, held); err != nil {
		e.log.Warn("release the leader lease", "token", held, "err", err)
		return
	}
	e.log.Info("released the leader lease", "token", held)
}
