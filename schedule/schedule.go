// Package schedule runs one job on cron schedules and on demand, never two
// at once, and counts the runs that did not happen (attestations and
// anchors).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrBusy means the job is running already; it never runs two at a time
// (an attestation names the one before it; an anchor spends the seal of
// the one before it).
var ErrBusy = errors.New("another run is in progress; try again when it is done")

// Job is one run: an attestation, an anchor.
type Job func(ctx context.Context, trigger string) error

// Config configures a Scheduler.
type Config struct {
	// Specs are robfig/cron specs (5 fields, or descriptors such as
	// "@hourly" and "@every 1m"), each a schedule of its own.
	Specs []string
	// Timeout bounds one scheduled run (default 10 minutes).
	Timeout time.Duration
	// OnMissed is told about every run that did not happen: a schedule
	// fired while another run was in progress, or the daemon was
	// down at a scheduled instant.
	OnMissed func(spec, why string, n int)
	Log      *slog.Logger
}

// Scheduler runs a Job on cron schedules and on demand, never two at once.
type Scheduler struct {
	cfg  Config
	job  Job
	cron *cron.Cron
	mu   sync.Mutex // held while a run is in progress
	sch  []cron.Schedule
}

// ParseSpecs parses cron specs, naming the one that is malformed.
func ParseSpecs(specs []string) ([]cron.Schedule, error) {
	var out []cron.Schedule
	for _, s := range specs {
		sch, err := cron.ParseStandard(s)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w (want 5 cron fields such as \"0 * * * *\", or @hourly, @daily, \"@every 1m\")", s, err)
		}
		out = append(out, sch)
	}
	return out, nil
}

// New returns a scheduler of job; Start starts it.
func New(job Job, cfg Config) (*Scheduler, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.OnMissed == nil {
		cfg.OnMissed = func(string, string, int) {}
	}
	sch, err := ParseSpecs(cfg.Specs)
	if err != nil {
		return nil, err
	}
	return &Scheduler{cfg: cfg, job: job, sch: sch, cron: cron.New()}, nil
}

// Start schedules every spec. last is the time of the newest published
// attestation (zero if none): scheduled instants between it and now, when
// the daemon was not running, are reported as missed.
func (s *Scheduler) Start(ctx context.Context, last time.Time) {
	// A fresh cron each time: a scheduler is started again after Stop when
	// its koshd leads again (package leader).
	s.cron = cron.New()
	now := time.Now()
	for i, sch := range s.sch {
		spec := s.cfg.Specs[i]
		if !last.IsZero() {
			if n := missedRuns(sch, last, now); n > 0 {
				s.cfg.Log.Warn("attestation runs missed while koshd was down", "schedule", spec, "missed", n, "last", last)
				s.cfg.OnMissed(spec, "koshd was not running", n)
			}
		}
		s.cron.Schedule(sch, cron.FuncJob(func() { s.run(ctx, spec) }))
	}
	s.cron.Start()
}

// missedRuns counts the instants of sch strictly between last and now
// (capped, so a schedule of every second over years stays cheap).
func missedRuns(sch cron.Schedule, last, now time.Time) int {
	n := 0
	for t := sch.Next(last); t.Before(now) && n < 100_000; t = sch.Next(t) {
		n++
	}
	return n
}

// Stop stops scheduling and waits for a running attestation to finish.
func (s *Scheduler) Stop() {
	<-s.cron.Stop().Done()
	// An on-demand run may still hold the lock: taking it waits for that
	// run to finish, which is all Stop needs.
	s.mu.Lock()
	//lint:ignore SA2001 the empty critical section is the wait for a running attestation
	s.mu.Unlock()
}

func (s *Scheduler) run(ctx context.Context, spec string) {
	if !s.mu.TryLock() {
		s.cfg.Log.Warn("scheduled attestation skipped: another is being made", "schedule", spec)
		s.cfg.OnMissed(spec, "another attestation was being made", 1)
		return
	}
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.job(rctx, spec); err != nil {
		s.cfg.Log.Error("scheduled attestation failed", "schedule", spec, "err", err)
	}
}

// RunNow makes an attestation at once, or returns ErrBusy if one is being
// made.
func (s *Scheduler) RunNow(ctx context.Context, trigger string) error {
	return s.Do(ctx, func(ctx context.Context) error { return s.job(ctx, trigger) })
}

// Do runs fn as the one attestation being made, or returns ErrBusy if one
// is being made: for callers that need the result of their own run.
func (s *Scheduler) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	if !s.mu.TryLock() {
		return ErrBusy
	}
	defer s.mu.Unlock()
	return fn(ctx)
}

// Next returns the next scheduled instant over all specs (zero if none).
func (s *Scheduler) Next(after time.Time) time.Time {
	var next time.Time
	for _, sch := range s.sch {
		if t := sch.Next(after); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// ActiveSpecs returns the cron specs of a repeatable schedule option
// without its "off" and blank entries.
func ActiveSpecs(specs []string) []string {
	var out []string
	for _, s := range specs {
		if s = strings.TrimSpace(s); s != "" && s != "off" {
			out = append(out, s)
		}
	}
	return out
}
