package daemon

import (
	"context"

	"fmt"
	"log/slog"
	"sync"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/leader"
	"github.com/kosh-reserve/kosh/store"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// LeaderOptions configures the election among several koshd sharing one
// PostgreSQL database (package leader, docs/deployment.md). With SQLite
// the one koshd always leads.
type LeaderOptions struct {
	ID    string        `long:"id" description:"This koshd's name in the leader lease, unique among the koshd sharing the database; public in GET /v1/public/status (default: hostname-pid-random)"`
	TTL   time.Duration `long:"ttl" description:"Leader lease length: a follower takes over within ttl + renew of the leader's death or pause"`
	Renew time.Duration `long:"renew" description:"How often the leader renews its lease and a follower campaigns (default ttl/3; must be under 4/5 of ttl)"`
}

// Validate checks the lease timings.
func (o LeaderOptions) Validate() error {
	if o.TTL < time.Millisecond {
		return fmt.Errorf("--leader.ttl %s must be at least 1ms", o.TTL)
	}
	if o.Renew < 0 || o.Renew >= o.TTL-o.TTL/5 {
		return fmt.Errorf("--leader.renew %s must be under --leader.ttl − ttl/5 (%s)", o.Renew, o.TTL-o.TTL/5)
	}
	return nil
}

// leaderWork is one thing only the leader runs: start begins it under a
// context fenced by the tenure's token (cancelled when the tenure ends) and
// returns how to wait for it to stop.
type leaderWork struct {
	name  string
	start func(ctx context.Context, token int64) (stop func(), err error)
}

// tenure is one spell of leadership.
type tenure struct {
	token  int64
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed once its work has stopped
}

// leadership runs the elector and, in each tenure, the leader-only work;
// it also keeps the lease and the database's reachability as last read,
// for GetStatus and the metrics.
type leadership struct {
	db      *store.DB
	log     *slog.Logger
	elector *leader.Elector
	works   []leaderWork
	tenures chan *tenure
	// started is closed once the first tenure's work is running.
	started     chan struct{}
	startedOnce sync.Once

	mu      sync.Mutex
	current *tenure
	since   time.Time
	count   int64 // tenures begun
	lease   leader.Lease
	leaseAt time.Time
	dbUp    bool
	dbErr   string
	down    time.Time // start of the current outage
	outages int64
	lastOut [2]time.Time // newest outage: start, end
}

func newLeadership(db *store.DB, opts LeaderOptions, log *slog.Logger) (*leadership, error) {
	l := &leadership{db: db, log: log.With("subsystem", "leader"), tenures: make(chan *tenure, 16),
		started: make(chan struct{}), since: time.Now(), dbUp: true}
	e, err := leader.New(db, leader.Config{ID: opts.ID, TTL: opts.TTL, Renew: opts.Renew, Log: log,
		OnGain: l.gain, OnLose: l.lose})
	if err != nil {
		return nil, err
	}
	l.elector = e
	return l, nil
}

// add registers leader-only work; call it before run.
func (l *leadership) add(name string, start func(ctx context.Context, token int64) (func(), error)) {
	l.works = append(l.works, leaderWork{name: name, start: start})
}

// leading reports whether this koshd leads now.
func (l *leadership) leading() bool {
	_, ok := l.elector.Leader()
	return ok
}

// run campaigns and runs the leader-only work of each tenure until ctx
// ends; then the work is stopped and the lease released.
func (l *leadership) run(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := l.elector.Run(ctx); err != nil {
			l.log.Error("leader election", "err", err)
		}
		close(l.tenures) // Run has returned: no more gains
	}()
	go func() {
		defer wg.Done()
		for t := range l.tenures {
			l.lead(t)
		}
	}()
	go func() { defer wg.Done(); l.watch(ctx) }()
	if l.db.Backend() == store.SQLite {
		// The one koshd of a SQLite file leads at once: serve only once
		// its work runs, as before there was an election.
		select {
		case <-l.started:
		case <-ctx.Done():
		case <-time.After(time.Minute):
			l.log.Warn("leader-only work not running a minute after start")
		}
	}
}

// gain starts a tenure (leader.Config.OnGain).
func (l *leadership) gain(token int64) {
	ctx, cancel := context.WithCancel(context.Background())
	t := &tenure{token: token, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	l.mu.Lock()
	l.current, l.since = t, time.Now()
	l.count++
	l.mu.Unlock()
	l.tenures <- t
}

// lose ends the tenure (leader.Config.OnLose): its context is cancelled,
// so its writes are refused from now on even before they stop (they are
// fenced anyway), and it waits a bounded time for the work to stop, so
// that on a graceful shutdown the lease is released only after it has.
func (l *leadership) lose(int64) {
	l.mu.Lock()
	t := l.current
	l.current, l.since = nil, time.Now()
	l.mu.Unlock()
	if t == nil {
		return
	}
	t.cancel()
	select {
	case <-t.done:
	case <-time.After(l.elector.Config().TTL):
		l.log.Warn("leader-only work still stopping after the tenure ended", "token", t.token)
	}
}

// lead starts every leader-only work of tenure t, retrying one whose start
// fails, and stops them all when t ends.
func (l *leadership) lead(t *tenure) {
	defer close(t.done)
	ctx := leader.Fenced(t.ctx, t.token)
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		l.log.Info("leader-only work stopped", "token", t.token)
	}()
	for _, w := range l.works {
		for {
			if ctx.Err() != nil {
				return
			}
			stop, err := w.start(ctx, t.token)
			if err == nil {
				stops = append(stops, stop)
				break
			}
			l.log.Error("start leader-only work; retrying", "work", w.name, "token", t.token, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
	l.log.Info("leader-only work running", "token", t.token, "works", len(l.works))
	l.startedOnce.Do(func() { close(l.started) })
	<-ctx.Done()
}

// fenced returns ctx fenced by this koshd's tenure, or ErrNotLeader
// naming the holder if it does not lead: for the on-demand calls (Attest,
// Anchor) that only the leader may serve.
func (l *leadership) fenced(ctx context.Context) (context.Context, error) {
	if token, ok := l.elector.Leader(); ok {
		return leader.Fenced(ctx, token), nil
	}
	l.mu.Lock()
	holder := l.lease.Holder
	l.mu.Unlock()
	if holder == "" {
		return nil, fmt.Errorf("%w: this koshd (%s) is a follower and no koshd leads at the moment; retry shortly", leader.ErrNotLeader, l.elector.ID())
	}
	return nil, fmt.Errorf("%w: this koshd (%s) is a follower; %s leads and serves this call: send it there, or retry", leader.ErrNotLeader, l.elector.ID(), holder)
}

// watch reads the lease every second, which is also the probe of the
// database's reachability GetStatus reports.
func (l *leadership) watch(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		lease, err := leader.Current(rctx, l.db)
		cancel()
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		l.mu.Lock()
		switch {
		case err == nil:
			l.lease, l.leaseAt = lease, now
			if !l.dbUp {
				l.dbUp, l.lastOut[1] = true, now
				l.log.Info("database reachable again", "down_for", now.Sub(l.down).Round(time.Millisecond))
			}
		case l.dbUp:
			l.dbUp, l.down, l.dbErr = false, now, err.Error()
			l.outages++
			l.lastOut = [2]time.Time{now, {}}
			l.log.Warn("database unreachable", "err", err)
		default:
			l.dbErr = err.Error()
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func tsOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Status implements rpcserver.StatusSource.
func (l *leadership) Status(context.Context) *koshv1.GetStatusResponse {
	token, leading := l.elector.Leader()
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := &koshv1.LeaderStatus{Id: l.elector.ID(), Leading: leading, Token: token, Holder: l.lease.Holder,
		HolderToken: l.lease.Token, LeaseValid: l.lease.Valid, LeaseRemainingMs: l.lease.Remaining.Milliseconds(),
		Since: tsOrNil(l.since), Tenures: l.count, LeaseReadAt: tsOrNil(l.leaseAt)}
	if l.db.Backend() == store.SQLite {
		ls.Holder, ls.HolderToken = l.elector.ID(), token
	}
	ds := &koshv1.DatabaseStatus{Backend: string(l.db.Backend()), Reachable: l.dbUp, Outages: l.outages,
		LastOutageStart: tsOrNil(l.lastOut[0]), LastOutageEnd: tsOrNil(l.lastOut[1]), LastError: l.dbErr}
	if !l.dbUp {
		ds.DownSince = tsOrNil(l.down)
	}
	return &koshv1.GetStatusResponse{Leader: ls, Database: ds}
}

// collectors are the leadership's Prometheus metrics.
func (l *leadership) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kosh_leader",
			Help:        "1 while this koshd leads (runs the reserve polling, schedules and payouts), 0 while it follows.",
			ConstLabels: prometheus.Labels{"id": l.elector.ID()}},
			func() float64 {
				if l.leading() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kosh_leader_token",
			Help: "The fencing token of the lease as last read from the database (rises with every new leader)."},
			func() float64 { l.mu.Lock(); defer l.mu.Unlock(); return float64(l.lease.Token) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_leader_tenures_total",
			Help: "Times this koshd became leader since it started."},
			func() float64 { l.mu.Lock(); defer l.mu.Unlock(); return float64(l.count) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kosh_database_up",
			Help: "1 if the last probe of the database (every second) succeeded."},
			func() float64 {
				l.mu.Lock()
				defer l.mu.Unlock()
				if l.dbUp {
					return 1
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_database_outages_total",
			Help: "Times the database became unreachable since koshd started."},
			func() float64 { l.mu.Lock(); defer l.mu.Unlock(); return float64(l.outages) }),
	}
}
