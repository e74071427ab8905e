// Package monitoring is koshd's Prometheus surface: the gRPC call
// metrics and the collectors that read the reserves, prices and coverage
// at scrape time, so that /metrics is never older than what it reports.
package monitoring

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Metrics are koshd's Prometheus metrics, on a registry of their own,
// and the gRPC interceptors that count calls.
type Metrics struct {
	// Registry is what /metrics serves; every collector registers here.
	Registry *prometheus.Registry
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New returns the metrics with the RPC, Go runtime and process
// collectors registered.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kosh_rpc_calls_total", Help: "gRPC calls by method and status code.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kosh_rpc_duration_seconds", Help: "gRPC call latency by method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"method"}),
	}
	m.Registry.MustRegister(m.calls, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// UnaryInterceptor counts calls and observes their latency. It runs before
// authentication so refused calls are counted too.
func (m *Metrics) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	m.observe(info.FullMethod, start, err)
	return resp, err
}

// StreamInterceptor is UnaryInterceptor for streams.
func (m *Metrics) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo,
	handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	m.observe(info.FullMethod, start, err)
	return err
}

func (m *Metrics) observe(method string, start time.Time, err error) {
	m.calls.WithLabelValues(method, status.Code(err).String()).Inc()
	m.latency.WithLabelValues(method).Observe(time.Since(start).Seconds())
}
