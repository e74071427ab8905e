package repeatlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLog: a lasting condition is logged when it starts, not again within
// the interval, again after it with the retries in between, again at once
// when its state changes; its end is logged once, and only if it was.
func TestLog(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), time.Minute, func() time.Time { return now })
	lines := func() []string {
		s := strings.TrimSpace(buf.String())
		buf.Reset()
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}

	l.Log(slog.LevelWarn, "lnd", "down", "lnd down")
	l.Log(slog.LevelWarn, "lnd", "down", "lnd down")
	l.Log(slog.LevelWarn, "lnd", "down", "lnd down")
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "lnd down") {
		t.Fatalf("first three: %q, want one line", got)
	}
	now = now.Add(time.Minute)
	l.Log(slog.LevelWarn, "lnd", "down", "lnd down")
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "retries_since_last_line=2") {
		t.Fatalf("after the interval: %q, want one line counting 2 retries", got)
	}
	l.Log(slog.LevelWarn, "lnd", "refused", "lnd refuses")
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "lnd refuses") {
		t.Fatalf("state change: %q, want it logged at once", got)
	}
	l.Clear("lnd", "lnd back")
	l.Clear("lnd", "lnd back")
	l.Clear("never", "never logged")
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "lnd back") {
		t.Fatalf("clears: %q, want the end logged once", got)
	}
}
