package anchorer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kosh-reserve/kosh/schedule"
	"github.com/prometheus/client_golang/prometheus"
)

// Runner anchors on schedules and on demand, and follows the newest anchor
// every poll interval.
type Runner struct {
	a     *Anchorer
	sched *schedule.Scheduler
	m     *metrics
	poll  time.Duration
	log   *slog.Logger
	stop  chan struct{}
	wg    sync.WaitGroup
}

// NewRunner returns a Runner of a on the cron specs, following every poll;
// its metrics go to reg (nil: not exported).
func NewRunner(a *Anchorer, specs []string, poll time.Duration, reg prometheus.Registerer, log *slog.Logger) (*Runner, error) {
	if log == nil {
		log = slog.Default()
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	r := &Runner{a: a, poll: poll, log: log, stop: make(chan struct{}), m: newMetrics(reg)}
	job := func(ctx context.Context, trigger string) error {
		rec, err := a.Anchor(ctx, trigger)
		r.m.outcome(trigger, err)
		switch {
		case errors.Is(err, ErrNothingToAnchor), errors.Is(err, ErrPending):
			log.Info("scheduled anchor skipped", "why", err)
			return nil
		case err != nil:
			return err
		}
		log.Info("scheduled anchor made", "anchor", rec.Seq, "attestation", rec.AttestationSeq, "txid", rec.Txid)
		return nil
	}
	sched, err := schedule.New(job, schedule.Config{Specs: specs, Timeout: 5 * time.Minute, Log: log,
		OnMissed: func(_, _ string, n int) { r.m.missed.Add(float64(n)) }})
	if err != nil {
		return nil, err
	}
	r.sched = sched
	return r, nil
}

// Start starts the schedules and the follower until ctx is done or Stop.
func (r *Runner) Start(ctx context.Context) {
	// A fresh stop channel each time: the leader among several koshd
	// starts the runner again at each tenure (package leader).
	r.stop = make(chan struct{})
	stop := r.stop
	r.sched.Start(ctx, time.Time{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.poll)
		defer t.Stop()
		for {
			rec, err := r.a.Follow(ctx)
			r.m.observe(rec, err)
			if err != nil && !errors.Is(err, ErrNotFound) && ctx.Err() == nil {
				r.log.Warn("following the newest anchor", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Stop stops the schedules and the follower.
func (r *Runner) Stop() {
	close(r.stop)
	r.sched.Stop()
	r.wg.Wait()
}

// Anchor makes an anchor now (the schedules' lock held), or fails with
// schedule.ErrBusy, ErrPending or ErrNothingToAnchor.
func (r *Runner) Anchor(ctx context.Context) (Record, error) {
	var rec Record
	err := r.sched.Do(ctx, func(ctx context.Context) error {
		var err error
		rec, err = r.a.Anchor(ctx, "rpc")
		r.m.outcome("rpc", err)
		return err
	})
	return rec, err
}

// List pages through the stored anchors, newest first.
func (r *Runner) List(ctx context.Context, before int64, limit int) ([]Record, error) {
	return r.a.cfg.Store.List(ctx, before, limit)
}
