package standalone

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
)

// TB lets a program that is not a test use the itest harness, whose methods
// take a testing.TB. The embedded nil testing.TB only supplies the
// interface's unexported method; every method the harness can call is
// overridden below, so the nil value is never used.
//
// Fatal, Fatalf and FailNow panic with a fatalError, which the caller recovers and
// turns into an error: they must only be called on the goroutine that runs
// the demo's set-up (the harness calls them only there).
type TB struct {
	testing.TB

	ctx     context.Context
	log     *slog.Logger
	tempDir string

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	keepLogs bool
}

// FatalError is the panic value of TB.Fatal and friends; the code that
// runs the set-up recovers it and returns it as an error.
type FatalError struct{ Msg string }

// Error returns the message passed to Fatal.
func (e FatalError) Error() string { return e.Msg }

// New returns a TB whose context is ctx, which logs to log and makes its
// temporary directories under tempDir.
func New(ctx context.Context, log *slog.Logger, tempDir string) *TB {
	return &TB{ctx: ctx, log: log, tempDir: tempDir}
}

func (t *TB) Helper()                  {}
func (t *TB) Name() string             { return "kosh-regtest-demo" }
func (t *TB) Context() context.Context { return t.ctx }
func (t *TB) Output() io.Writer        { return os.Stderr }
func (t *TB) ArtifactDir() string      { return t.TempDir() }
func (t *TB) Attr(key, value string)   { t.log.Info("attr", key, value) }
func (t *TB) Setenv(key, value string) { os.Setenv(key, value) }
func (t *TB) Chdir(dir string) {
	if err := os.Chdir(dir); err != nil {
		t.Fatalf("chdir %s: %v", dir, err)
	}
}

func (t *TB) Log(args ...any)                 { t.log.Info(fmt.Sprint(args...)) }
func (t *TB) Logf(format string, args ...any) { t.log.Info(fmt.Sprintf(format, args...)) }

func (t *TB) Error(args ...any) {
	t.Fail()
	t.log.Error(fmt.Sprint(args...))
}

func (t *TB) Errorf(format string, args ...any) {
	t.Fail()
	t.log.Error(fmt.Sprintf(format, args...))
}

func (t *TB) Fatal(args ...any) {
	t.Fail()
	panic(FatalError{fmt.Sprint(args...)})
}

func (t *TB) Fatalf(format string, args ...any) {
	t.Fail()
	panic(FatalError{fmt.Sprintf(format, args...)})
}

func (t *TB) FailNow() {
	t.Fail()
	panic(FatalError{"FailNow called"})
}

func (t *TB) Fail() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
}

// Failed also reports true once keepLogs is set: the harness removes an lnd
// node's directory at clean-up only when the test passed, and the demo keeps
// every log for a look after it stopped.
func (t *TB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed || t.keepLogs
}

func (t *TB) Skip(args ...any) { panic(FatalError{"skip: " + fmt.Sprint(args...)}) }
func (t *TB) Skipf(format string, args ...any) {
	panic(FatalError{"skip: " + fmt.Sprintf(format, args...)})
}
func (t *TB) SkipNow()      { panic(FatalError{"skip"}) }
func (t *TB) Skipped() bool { return false }

func (t *TB) TempDir() string {
	if err := os.MkdirAll(t.tempDir, 0o700); err != nil {
		t.Fatalf("make temp dir: %v", err)
	}
	dir, err := os.MkdirTemp(t.tempDir, "tmp-")
	if err != nil {
		t.Fatalf("make temp dir: %v", err)
	}
	return dir
}

func (t *TB) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

// RunCleanups runs the registered clean-ups, last first, keeping logs.
func (t *TB) RunCleanups() {
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
