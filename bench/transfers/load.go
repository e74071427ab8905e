package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
)

// loadResult is the outcome of the transfer phase.
type loadResult struct {
	window    time.Duration
	latencies []time.Duration // sorted; calls completed inside the window
	measured  int64           // successful calls completed inside the window
	succeeded int64           // every successful call, warm-up and tail included
	errors    int64
	firstErr  error
}

// rate is successful transfers per second over the measured window.
func (r *loadResult) rate() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.measured) / r.window.Seconds()
}

// percentile returns the p-th percentile latency (nearest rank).
func (r *loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.latencies))+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

// clientStats is one client's tally; only its goroutine writes it.
type clientStats struct {
	latencies []time.Duration
	succeeded int64
	errors    int64
	firstErr  error
}

// callTimeout bounds one Transfer call, so a wedged server fails the run
// instead of hanging it.
const callTimeout = 30 * time.Second

// drive runs cfg.clients clients for the warm-up plus the measured window.
// Each client has one call in flight at a time; a call counts if it
// completes inside the window. prof, if set, profiles exactly the window.
func (h *harness) drive(ctx context.Context, prof *profiler) (*loadResult, error) {
	cfg := h.cfg
	start := time.Now()
	winStart := start.Add(cfg.warmup)
	winEnd := winStart.Add(cfg.duration)
	expected := int(float64(cfg.duration/time.Second+1) * 20000 / float64(cfg.clients))

	stats := make([]clientStats, cfg.clients)
	var wg sync.WaitGroup
	for c := range cfg.clients {
		st := &stats[c]
		st.latencies = make([]time.Duration, 0, expected)
		client := h.Client(c)
		rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(c)))
		prefix := "bench-t" + strconv.Itoa(c) + "-"
		wg.Go(func() {
			n := len(h.accounts)
			for seq := 0; ; seq++ {
				if ctx.Err() != nil || !time.Now().Before(winEnd) {
					return
				}
				from := rng.IntN(n)
				to := rng.IntN(n - 1)
				if to >= from {
					to++
				}
				req := &koshv1.TransferRequest{Asset: benchAsset, FromAccountId: h.accounts[from],
					ToAccountId: h.accounts[to], Amount: 1, IdempotencyKey: prefix + strconv.Itoa(seq)}
				cctx, cancel := context.WithTimeout(ctx, callTimeout)
				t0 := time.Now()
				_, err := client.Transfer(cctx, req)
				t1 := time.Now()
				cancel()
				if err != nil {
					st.errors++
					if st.firstErr == nil {
						st.firstErr = fmt.Errorf("transfer %s: %w", req.IdempotencyKey, err)
					}
					continue
				}
				st.succeeded++
				if !t1.Before(winStart) && !t1.After(winEnd) {
					st.latencies = append(st.latencies, t1.Sub(t0))
				}
			}
		})
	}

	if prof != nil {
		sleepUntil(ctx, winStart)
		prof.start()
		sleepUntil(ctx, winEnd)
		prof.stop()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transfer phase interrupted: %w", err)
	}

	res := &loadResult{window: cfg.duration}
	for i := range stats {
		st := &stats[i]
		res.latencies = append(res.latencies, st.latencies...)
		res.succeeded += st.succeeded
		res.errors += st.errors
		if res.firstErr == nil {
			res.firstErr = st.firstErr
		}
	}
	res.measured = int64(len(res.latencies))
	slices.Sort(res.latencies)
	return res, nil
}

func sleepUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
