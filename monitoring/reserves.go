package monitoring

import (
	"fmt"

	"github.com/kosh-reserve/kosh/reserve"
	"github.com/prometheus/client_golang/prometheus"
)

// reserveCollector exposes the live reserve picture at scrape time, so the
// figures on /metrics are never older than the monitor's.
type reserveCollector struct {
	svc *reserve.Service

	counted, usable, sourceCounted, sourceStale, sourceAge, classAmount *prometheus.Desc
	chainHeight, blocksScanned, outputsMatched, reorgs, blocksUndone    *prometheus.Desc
}

// NewReserveCollector exposes svc's reserve picture and chain watcher.
func NewReserveCollector(svc *reserve.Service) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &reserveCollector{
		svc:            svc,
		counted:        d("kosh_reserve_counted_sats", "Counted reserves over all sources, in sats."),
		usable:         d("kosh_reserve_usable", "1 when the reserve snapshot can back a mint (every source fresh), else 0."),
		sourceCounted:  d("kosh_reserve_source_counted_sats", "What each source counts toward reserves, in sats.", "source", "kind"),
		sourceStale:    d("kosh_reserve_source_stale", "1 when the source is past its max age.", "source", "kind"),
		sourceAge:      d("kosh_reserve_source_age_seconds", "Seconds since the source's last good report (-1: never).", "source", "kind"),
		classAmount:    d("kosh_reserve_class_sats", "Each source's amount per class, counted or only reported.", "source", "class", "counted"),
		chainHeight:    d("kosh_chain_height", "Height of the last block the chain watcher processed."),
		blocksScanned:  d("kosh_chain_blocks_scanned_total", "Blocks the chain watcher fetched and matched since start."),
		outputsMatched: d("kosh_chain_outputs_matched_total", "Outputs paying a watched script found since start."),
		reorgs:         d("kosh_chain_reorgs_total", "Chain reorganisations rolled back since start."),
		blocksUndone:   d("kosh_chain_blocks_undone_total", "Blocks undone by reorganisations since start."),
	}
}

// Describe implements prometheus.Collector.
func (c *reserveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.counted, c.usable, c.sourceCounted, c.sourceStale, c.sourceAge,
		c.classAmount, c.chainHeight, c.blocksScanned, c.outputsMatched, c.reorgs, c.blocksUndone} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *reserveCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.svc.Snapshot()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(c.counted, float64(snap.Counted))
	gauge(c.usable, boolFloat(snap.Usable()))
	for _, s := range snap.Sources {
		gauge(c.sourceCounted, float64(s.Counted), s.Name, s.Kind)
		gauge(c.sourceStale, boolFloat(s.Stale), s.Name, s.Kind)
		age := -1.0
		if !s.LastSeen.IsZero() {
			age = snap.Time.Sub(s.LastSeen).Seconds()
		}
		gauge(c.sourceAge, age, s.Name, s.Kind)
		for _, cl := range s.Classes {
			gauge(c.classAmount, float64(cl.Amount), s.Name, cl.Name, fmt.Sprint(cl.Counted))
		}
	}
	if st, ok := c.svc.ChainStats(); ok {
		chainSnap, _ := c.svc.Details()
		gauge(c.chainHeight, float64(chainSnap.Height))
		counter(c.blocksScanned, st.BlocksScanned)
		counter(c.outputsMatched, st.OutputsMatched)
		counter(c.reorgs, st.Reorgs)
		counter(c.blocksUndone, st.BlocksUndone)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
