package anchorer

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count anchors and say where the newest one stands.
type metrics struct {
	made      *prometheus.CounterVec
	failed    prometheus.Counter
	skipped   *prometheus.CounterVec
	missed    prometheus.Counter
	lastSeq   prometheus.Gauge
	lastConf  prometheus.Gauge
	pending   prometheus.Gauge
	pendingAt prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		made: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kosh_anchors_made_total",
			Help: "Anchor transactions signed, by trigger (a schedule or rpc)."}, []string{"trigger"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "kosh_anchors_failed_total",
			Help: "Anchor runs that failed (lnd refused, the database failed, ...)."}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kosh_anchors_skipped_total",
			Help: "Scheduled anchor runs that made nothing, by reason (nothing_new, pending)."}, []string{"reason"}),
		missed: prometheus.NewCounter(prometheus.CounterOpts{Name: "kosh_anchors_missed_total",
			Help: "Scheduled anchor runs that did not happen (another was running, or koshd was down)."}),
		lastSeq: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kosh_anchor_last_confirmed_attestation_seq",
			Help: "The attestation the newest confirmed anchor commits to."}),
		lastConf: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kosh_anchor_last_confirmed_height",
			Help: "Block height of the newest confirmed anchor."}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kosh_anchor_pending",
			Help: "1 while the newest anchor is signed or published and not confirmed."}),
		pendingAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kosh_anchor_pending_since_timestamp_seconds",
			Help: "When the pending anchor was signed (0: none pending); alert when it is old."}),
	}
	reg.MustRegister(m.made, m.failed, m.skipped, m.missed, m.lastSeq, m.lastConf, m.pending, m.pendingAt)
	return m
}

// observe records the newest anchor as Follow returned it.
func (m *metrics) observe(r Record, err error) {
	if err != nil && !errors.Is(err, ErrNotFound) {
		return
	}
	switch r.State {
	case StateConfirmed:
		m.lastSeq.Set(float64(r.AttestationSeq))
		m.lastConf.Set(float64(r.Height))
		m.pending.Set(0)
		m.pendingAt.Set(0)
	case StateSigned, StatePublished:
		m.pending.Set(1)
		m.pendingAt.Set(float64(time.UnixMilli(r.CreatedAt).Unix()))
	}
}

// outcome counts one Anchor run.
func (m *metrics) outcome(trigger string, err error) {
	switch {
	case err == nil:
		m.made.WithLabelValues(trigger).Inc()
	case errors.Is(err, ErrNothingToAnchor):
		m.skipped.WithLabelValues("nothing_new").Inc()
	case errors.Is(err, ErrPending):
		m.skipped.WithLabelValues("pending").Inc()
	default:
		m.failed.Inc()
	}
}
