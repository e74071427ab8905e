package repeatlog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Log keeps a condition that lasts (lnd down, a credit waiting for
// the coverage gate) from writing a line on every poll for every deposit
// or redemption it holds up: a condition, named by a key, is logged when it
// starts, when its state changes, and then at most once per interval, with
// the number of retries in between; its end is logged once.
type Log struct {
	out   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]*repeat
}

// repeat is what was last logged of one condition.
type repeat struct {
	state   string
	at      time.Time
	retries int
}

// New returns a Log writing to log, repeating a lasting condition at most
// once per every, by the clock now.
func New(log *slog.Logger, every time.Duration, now func() time.Time) *Log {
	return &Log{out: log, every: every, now: now, seen: map[string]*repeat{}}
}

// Log writes msg at level for the condition key in state, unless the same
// state was logged less than the interval ago.
func (l *Log) Log(level slog.Level, key, state, msg string, args ...any) {
	l.mu.Lock()
	now := l.now()
	r, ok := l.seen[key]
	if ok && r.state == state && now.Sub(r.at) < l.every {
		r.retries++
		l.mu.Unlock()
		return
	}
	retries := 0
	if ok {
		retries = r.retries
	}
	l.seen[key] = &repeat{state: state, at: now}
	l.mu.Unlock()
	if retries > 0 {
		args = append(args, "retries_since_last_line", retries)
	}
	l.out.Log(context.Background(), level, msg, args...)
}

// Clear ends the condition key; if it had been logged, msg says so once.
func (l *Log) Clear(key, msg string, args ...any) {
	l.mu.Lock()
	_, ok := l.seen[key]
	delete(l.seen, key)
	l.mu.Unlock()
	if ok && msg != "" {
		l.out.Info(msg, args...)
	}
}
