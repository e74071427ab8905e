package attestor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/schedule"
	"github.com/prometheus/client_golang/prometheus"
)

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Service makes and stores the attestations.
	Service *Service
	// Schedules are cron specs (Options.ActiveSchedules); none: on
	// demand only.
	Schedules []string
	// Timeout bounds one scheduled attestation.
	Timeout time.Duration
	// Registerer receives the attestation metrics (nil: not exported).
	Registerer prometheus.Registerer
	Log        *slog.Logger
}

// Runner makes attestations on its schedules and on demand, one at a
// time, and counts them.
type Runner struct {
	svc     *Service
	sched   *schedule.Scheduler
	metrics *runnerMetrics
	specs   []string
	log     *slog.Logger
}

// NewRunner returns a Runner; Start starts its schedules.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	r := &Runner{svc: cfg.Service, metrics: newRunnerMetrics(reg), specs: cfg.Schedules, log: cfg.Log}
	job := func(ctx context.Context, trigger string) error {
		_, err := r.make(ctx, trigger, "schedule")
		return err
	}
	sched, err := schedule.New(job, schedule.Config{Specs: cfg.Schedules, Timeout: cfg.Timeout, Log: cfg.Log,
		OnMissed: func(spec, why string, n int) { r.metrics.missed.WithLabelValues(spec).Add(float64(n)) }})
	if err != nil {
		return nil, err
	}
	r.sched = sched
	return r, nil
}

// Start starts the schedules until ctx is done or Stop, counting the runs
// missed since the newest stored attestation; first it stores the newest
// attestation's prices if it predates stored prices (Service.FillPrices).
func (r *Runner) Start(ctx context.Context) error {
	var last time.Time
	switch p, err := r.svc.Latest(ctx); {
	case err == nil:
		last = time.UnixMilli(p.CreatedAt)
		r.metrics.lastSeq.Set(float64(p.Seq))
		r.metrics.lastTime.Set(float64(p.CreatedAt) / 1000)
	case errors.Is(err, ledger.ErrNotFound):
	default:
		return fmt.Errorf("read the newest attestation: %w", err)
	}
	if err := r.svc.FillPrices(ctx); err != nil {
		return err
	}
	r.sched.Start(ctx, last)
	r.log.Info("attestations scheduled", "schedules", r.specs, "next", r.sched.Next(time.Now()))
	return nil
}

// Stop stops the schedules and waits for a run in progress.
func (r *Runner) Stop() { r.sched.Stop() }

// Attest makes an attestation now, or fails with ErrBusy (schedule.ErrBusy).
func (r *Runner) Attest(ctx context.Context) (Published, error) {
	var p Published
	err := r.sched.Do(ctx, func(ctx context.Context) error {
		var err error
		p, err = r.make(ctx, "rpc", "rpc")
		return err
	})
	return p, err
}

// Service returns the attestation service (reads and proofs).
func (r *Runner) Service() *Service { return r.svc }

// make makes one attestation and counts it; the caller holds the
// scheduler's lock.
func (r *Runner) make(ctx context.Context, trigger, label string) (Published, error) {
	start := time.Now()
	p, err := r.svc.Attest(ctx, trigger)
	if err != nil {
		r.metrics.failed.Inc()
		return p, err
	}
	r.metrics.observe(p, label, time.Since(start))
	return p, nil
}

// runnerMetrics count attestations and the runs that did not happen.
type runnerMetrics struct {
	published *prometheus.CounterVec
	failed    prometheus.Counter
	missed    *prometheus.CounterVec
	lastSeq   prometheus.Gauge
	lastTime  prometheus.Gauge
	stale     prometheus.Gauge
	duration  prometheus.Histogram
}

func newRunnerMetrics(reg prometheus.Registerer) *runnerMetrics {
	m := &runnerMetrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kosh_attestations_published_total",
			Help: "Attestations published, by trigger (a schedule or rpc)."}, []string{"trigger"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "kosh_attestations_failed_total",
			Help: "Attestation runs that failed."}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kosh_attestations_missed_total",
			Help: "Scheduled attestation runs that did not happen (another was running, or koshd was down)."}, []string{"schedule"}),
		lastSeq: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kosh_attestation_last_seq",
			Help: "Sequence number of the newest attestation."}),
		lastTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kosh_attestation_last_timestamp_seconds",
			Help: "Time of the newest attestation."}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kosh_attestation_last_stale",
			Help: "1 when the newest attestation was made from a stale reserve snapshot."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kosh_attestation_duration_seconds",
			Help: "Time to make one attestation.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
	}
	reg.MustRegister(m.published, m.failed, m.missed, m.lastSeq, m.lastTime, m.stale, m.duration)
	return m
}

func (m *runnerMetrics) observe(p Published, trigger string, took time.Duration) {
	m.published.WithLabelValues(trigger).Inc()
	m.lastSeq.Set(float64(p.Seq))
	m.lastTime.Set(float64(p.CreatedAt) / 1000)
	if p.Stale {
		m.stale.Set(1)
	} else {
		m.stale.Set(0)
	}
	m.duration.Observe(took.Seconds())
}

// ErrBusy means an attestation is being made already: attestations are
// never made two at a time, so each names the one before it.
var ErrBusy = schedule.ErrBusy
