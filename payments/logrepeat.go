package payments

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// repeatLog keeps a condition that lasts (lnd down, a credit waiting for
// the coverage gate) from writing a line on every poll for every deposit
// or redemption it holds up: a condition, named by a key, is logged when it
// starts, when its state changes, and then at most once per interval, with
// the number of retries in between; its end is logged once.
type repeatLog struct {
	out   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]*repeat
}

type repeat struct {
	state   string
	at      time.Time
	retries int
}

func newRepeatLog(log *slog.Logger, every time.Duration, now func() time.Time) *repeatLog {
	return &repeatLog{out: log, every: every, now: now, seen: map[string]*repeat{}}
}

// log writes msg at level for the condition key in state, unless the same
// state was logged less than the interval ago.
func (l *repeatLog) log(level slog.Level, key, state, msg string, args ...any) {
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

// clear ends the condition key; if it had been logged, msg says so once.
func (l *repeatLog) clear(key, msg string, args ...any) {
	l.mu.Lock()
	_, ok := l.seen[key]
	delete(l.seen, key)
	l.mu.Unlock()
	if ok && msg != "" {
		l.out.Info(msg, args...)
	}
}
