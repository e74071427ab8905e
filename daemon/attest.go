package daemon

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/prometheus/client_golang/prometheus"
)

// AttestConfig configures attestations: when they are made, where their
// files go and the key that signs them.
type AttestConfig struct {
	Schedules  []string      `long:"schedule" description:"When to publish an attestation, as a cron spec (repeatable; 5 fields such as \"0 * * * *\", or @hourly, @daily, \"@every 1m\"); \"off\" publishes only on demand (koshcli attest)"`
	Dir        string        `long:"dir" description:"Directory that receives every attestation as <seq>-<id>.json and latest.json, a static file set to mirror (default <datadir>/<network>/attestations)"`
	KeyFile    string        `long:"keyfile" description:"The issuer's attestation signing key, created 0600 on first start (default <datadir>/<network>/attestation.key); back it up: its public key is the issuer's identity"`
	TreeHeight int           `long:"treeheight" description:"Fixed liability tree height, so every proof has the same length (e.g. 24 for 2^24 leaves); 0 picks the smallest of 16, 20, 24, 28, 32 that holds every account. Attestations state the exact account count either way"`
	Timeout    time.Duration `long:"timeout" description:"How long one scheduled attestation may take"`
	Issuer     string        `long:"issuer" description:"The issuer's name, shown on the public page"`
}

// attestSchedules returns the configured schedules, none for "off".
func (c AttestConfig) attestSchedules() []string {
	var out []string
	for _, s := range c.Schedules {
		if s = strings.TrimSpace(s); s != "" && s != "off" {
			out = append(out, s)
		}
	}
	return out
}

// validate checks the attestation options.
func (c AttestConfig) validate() error {
	if _, err := attestor.ParseSpecs(c.attestSchedules()); err != nil {
		return fmt.Errorf("--attest.schedule: %w", err)
	}
	if c.TreeHeight < 0 || c.TreeHeight > 32 {
		return fmt.Errorf("--attest.treeheight %d is outside 0 to 32", c.TreeHeight)
	}
	return nil
}

// AttestDir is where attestation files are written.
func (c *Config) AttestDir() string {
	if c.Attest.Dir != "" {
		return c.Attest.Dir
	}
	return filepath.Join(c.NetworkDir(), "attestations")
}

// AttestKeyPath is the issuer's attestation key file.
func (c *Config) AttestKeyPath() string {
	if c.Attest.KeyFile != "" {
		return c.Attest.KeyFile
	}
	return filepath.Join(c.NetworkDir(), "attestation.key")
}

// attestMetrics count attestations and the runs that did not happen.
type attestMetrics struct {
	published *prometheus.CounterVec
	failed    prometheus.Counter
	missed    *prometheus.CounterVec
	lastSeq   prometheus.Gauge
	lastTime  prometheus.Gauge
	stale     prometheus.Gauge
	duration  prometheus.Histogram
}

func newAttestMetrics(reg prometheus.Registerer) *attestMetrics {
	m := &attestMetrics{
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

func (m *attestMetrics) observe(p attestor.Published, trigger string, took time.Duration) {
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

// Attestations is what the RPC server needs of attestations.
type Attestations struct {
	svc     *attestor.Service
	sched   *attestor.Scheduler
	metrics *attestMetrics
	key     *btcec.PrivateKey
}

// Attest makes an attestation now, or fails with attestor.ErrBusy.
func (a *Attestations) Attest(ctx context.Context) (attestor.Published, error) {
	var p attestor.Published
	err := a.sched.Do(ctx, func(ctx context.Context) error {
		var err error
		p, err = a.make(ctx, "rpc", "rpc")
		return err
	})
	return p, err
}

// make makes one attestation and counts it; the caller holds the
// scheduler's lock.
func (a *Attestations) make(ctx context.Context, trigger, label string) (attestor.Published, error) {
	start := time.Now()
	p, err := a.svc.Attest(ctx, trigger)
	if err != nil {
		a.metrics.failed.Inc()
		return p, err
	}
	a.metrics.observe(p, label, time.Since(start))
	return p, nil
}

// Service returns the attestation service (reads and proofs).
func (a *Attestations) Service() *attestor.Service { return a.svc }

// startAttestations loads the issuer key, builds the attestation service
// and starts its schedules.
func (d *Daemon) startAttestations() (*Attestations, error) {
	key := d.issuerKey
	m := newAttestMetrics(d.metrics.registry)
	var nodes []attestor.NodeSigner
	for _, l := range d.reserveSvc.Lightning() {
		nodes = append(nodes, l)
	}
	log := d.log.With("subsystem", "attest")
	svc := attestor.New(attestor.Config{DB: d.db, Ledger: d.ledger, Reserves: d.reserveSvc,
		Composer: attestor.DocComposer{Log: log}, Nodes: nodes, Key: key, Dir: d.cfg.AttestDir(),
		TreeHeight: d.cfg.Attest.TreeHeight, MinConf: d.cfg.Chain.MinConf, CountClaimed: d.cfg.Lnd.CountClaimed, Log: log})
	att := &Attestations{svc: svc, metrics: m, key: key}
	job := func(ctx context.Context, trigger string) error {
		_, err := att.make(ctx, trigger, "schedule")
		return err
	}
	sched, err := attestor.NewScheduler(job, attestor.SchedulerConfig{Specs: d.cfg.Attest.attestSchedules(),
		Timeout: d.cfg.Attest.Timeout, Log: log,
		OnMissed: func(spec, why string, n int) { m.missed.WithLabelValues(spec).Add(float64(n)) }})
	if err != nil {
		return nil, err
	}
	var last time.Time
	switch p, err := svc.Latest(d.ctx); {
	case err == nil:
		last = time.UnixMilli(p.CreatedAt)
		m.lastSeq.Set(float64(p.Seq))
		m.lastTime.Set(float64(p.CreatedAt) / 1000)
	case errors.Is(err, ledger.ErrNotFound):
	default:
		return nil, err
	}
	sched.Start(d.ctx, last)
	d.closers = append(d.closers, func() error { sched.Stop(); return nil })
	log.Info("attestations scheduled", "schedules", d.cfg.Attest.attestSchedules(), "issuer_key", attest.IssuerKeyOf(key),
		"dir", d.cfg.AttestDir(), "next", sched.Next(time.Now()))
	att.sched = sched
	return att, nil
}

// attestedPrice is the price of currency in the latest attestation: what
// fiat-pegged redemptions are paid at.
func (d *Daemon) attestedPrice(ctx context.Context, currency string) (payments.AttestedPrice, error) {
	if d.attestations == nil {
		return payments.AttestedPrice{}, errors.New("attestations are not running")
	}
	row, err := d.attestations.svc.Latest(ctx)
	if err != nil {
		return payments.AttestedPrice{}, err
	}
	doc, err := attest.Parse([]byte(row.Document))
	if err != nil {
		return payments.AttestedPrice{}, fmt.Errorf("attestation %d: %w", row.Seq, err)
	}
	for _, as := range doc.Assets {
		if p := as.Price; p != nil && p.Currency == currency {
			return payments.AttestedPrice{Coefficient: new(big.Int).Set(&p.Coefficient.Int), Scale: p.Scale,
				Ref: fmt.Sprintf("%d %s", row.Seq, row.ID)}, nil
		}
	}
	return payments.AttestedPrice{}, fmt.Errorf("attestation %d states no %s price", row.Seq, currency)
}
