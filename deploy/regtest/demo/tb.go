package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
)

// tb lets a program that is not a test use the itest harness, whose methods
// take a testing.TB. The embedded nil testing.TB only supplies the
// interface's unexported method; every method the harness can call is
// overridden below, so the nil value is never used.
//
// Fatal, Fatalf and FailNow panic with a fatalError, which run recovers and
// turns into an error: they must only be called on the goroutine that runs
// the demo's set-up (the harness calls them only there).
type tb struct {
	testing.TB

	ctx     context.Context
	log     *slog.Logger
	tempDir string

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	keepLogs bool
}

// fatalError is the panic value of tb.Fatal and friends.
type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

func newTB(ctx context.Context, log *slog.Logger, tempDir string) *tb {
	return &tb{ctx: ctx, log: log, tempDir: tempDir}
}

func (t *tb) Helper()                  {}
func (t *tb) Name() string             { return "kosh-regtest-demo" }
func (t *tb) Context() context.Context { return t.ctx }
func (t *tb) Output() io.Writer        { return os.Stderr }
func (t *tb) ArtifactDir() string      { return t.TempDir() }
func (t *tb) Attr(key, value string)   { t.log.Info("attr", key, value) }
func (t *tb) Setenv(key, value string) { os.Setenv(key, value) }
func (t *tb) Chdir(dir string) {
	if err := os.Chdir(dir); err != nil {
		t.Fatalf("chdir %s: %v", dir, err)
	}
}

func (t *tb) Log(args ...any)                 { t.log.Info(fmt.Sprint(args...)) }
func (t *tb) Logf(format string, args ...any) { t.log.Info(fmt.Sprintf(format, args...)) }

func (t *tb) Error(args ...any) {
	t.Fail()
	t.log.Error(fmt.Sprint(args...))
}

func (t *tb) Errorf(format string, args ...any) {
	t.Fail()
	t.log.Error(fmt.Sprintf(format, args...))
}

func (t *tb) Fatal(args ...any) {
	t.Fail()
	panic(fatalError{fmt.Sprint(args...)})
}

func (t *tb) Fatalf(format string, args ...any) {
	t.Fail()
	panic(fatalError{fmt.Sprintf(format, args...)})
}

func (t *tb) FailNow() {
	t.Fail()
	panic(fatalError{"FailNow called"})
}

func (t *tb) Fail() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
}

// Failed also reports true once keepLogs is set: the harness removes an lnd
// node's directory at clean-up only when the test passed, and the demo keeps
// every log for a look after it stopped.
func (t *tb) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed || t.keepLogs
}

func (t *tb) Skip(args ...any) { panic(fatalError{"skip: " + fmt.Sprint(args...)}) }
func (t *tb) Skipf(format string, args ...any) {
	panic(fatalError{"skip: " + fmt.Sprintf(format, args...)})
}
func (t *tb) SkipNow()      { panic(fatalError{"skip"}) }
func (t *tb) Skipped() bool { return false }

func (t *tb) TempDir() string {
	if err := os.MkdirAll(t.tempDir, 0o700); err != nil {
		t.Fatalf("make temp dir: %v", err)
	}
	dir, err := os.MkdirTemp(t.tempDir, "tmp-")
	if err != nil {
		t.Fatalf("make temp dir: %v", err)
	}
	return dir
}

func (t *tb) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

// runCleanups runs the registered clean-ups, last first, keeping logs.
func (t *tb) runCleanups() {
	t.mu.Lock()
	t.keepLogs = true
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.log.Error("clean-up failed", "err", r)
				}
			}()
			fs[i]()
		}()
	}
}
