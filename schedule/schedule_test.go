package schedule

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseSpecs(t *testing.T) {
	if _, err := ParseSpecs([]string{"@hourly", "@every 1m", "*/5 * * * *"}); err != nil {
		t.Fatal(err)
	}
	_, err := ParseSpecs([]string{"@hourly", "61 * * * *"})
	if err == nil || !strings.Contains(err.Error(), `"61 * * * *"`) {
		t.Fatalf("bad spec: %v", err)
	}
}

func TestMissedRuns(t *testing.T) {
	sch, err := ParseSpecs([]string{"0 * * * *"})
	if err != nil {
		t.Fatal(err)
	}
	last := time.Date(2026, 11, 22, 10, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{last.Add(30 * time.Minute), 0},
		{last.Add(61 * time.Minute), 1},
		{last.Add(3*time.Hour + time.Minute), 3},
	} {
		if got := missedRuns(sch[0], last, tc.now); got != tc.want {
			t.Errorf("missed between %s and %s: %d, want %d", last, tc.now, got, tc.want)
		}
	}
}

// TestNeverTwoAtOnce: a scheduled run that fires while another attestation
// is being made is skipped and reported missed; RunNow meanwhile is refused
// with ErrBusy; afterwards both work again.
func TestNeverTwoAtOnce(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 10)
	var runs atomic.Int32
	var missedMu sync.Mutex
	var missed []string
	s, err := New(func(ctx context.Context, trigger string) error {
		runs.Add(1)
		started <- trigger
		if trigger == "manual-slow" {
			<-release
		}
		return nil
	}, Config{Specs: []string{"@every 1s"}, OnMissed: func(spec, why string, n int) {
		missedMu.Lock()
		missed = append(missed, why)
		missedMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.RunNow(context.Background(), "manual-slow") }()
	if got := <-started; got != "manual-slow" {
		t.Fatalf("first run %q", got)
	}
	if err := s.RunNow(context.Background(), "manual-2"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second RunNow while busy: %v, want ErrBusy", err)
	}
	s.Start(context.Background(), time.Time{})
	defer s.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		missedMu.Lock()
		n := len(missed)
		missedMu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no scheduled run reported missed while busy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-started:
		if got != "@every 1s" {
			t.Fatalf("run after release: %q", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("schedule did not run after the slow attestation finished")
	}
}
