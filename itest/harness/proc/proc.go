package harness

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is one child process (btcd or lnd) whose stdout and stderr go to a
// log file. It can be started again after it exited, with the same arguments.
type process struct {
	name    string
	bin     string
	args    []string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// start launches the process. It fails if the process is already running.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isClosed(p.done) {
		return fmt.Errorf("%s: already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: open log: %w", p.name, err)
	}
	fmt.Fprintf(f, "=== %s start %s: %s %q\n", p.name, time.Now().Format(time.RFC3339Nano), p.bin, p.args)
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("%s: start %s: %w", p.name, p.bin, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.waitErr = cmd, done, nil
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(f, "=== %s exit %s: %v\n", p.name, time.Now().Format(time.RFC3339Nano), err)
		f.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// exited returns a channel closed when the current run of the process ended,
// or nil if it was never started.
func (p *process) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// pid returns the pid of the current run, or 0.
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// running reports whether the process is started and has not exited.
func (p *process) running() bool {
	done := p.exited()
	return done != nil && !isClosed(done)
}

// stop asks the process to shut down with SIGINT and kills it with SIGKILL if
// it has not exited within grace. It returns once the process is gone.
func (p *process) stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return p.kill()
	}
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		if err := p.kill(); err != nil {
			return err
		}
		return fmt.Errorf("%s: did not stop within %s, killed", p.name, grace)
	}
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *process) kill() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: kill pid %d: %w", p.name, cmd.Process.Pid, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s: pid %d not reaped 10s after SIGKILL", p.name, cmd.Process.Pid)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

var (
	portsMu sync.Mutex
	// portsTaken holds every port handed out in this process, so two nodes of
	// one test binary never get the same port even if neither listens yet.
	portsTaken = map[int]bool{}
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago and has
// not been handed out before by this process.
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsTaken[port] {
			portsTaken[port] = true
			return port, nil
		}
	}
	return 0, errors.New("find free port: no new port after 50 tries")
}

// freeAddrs returns n distinct free 127.0.0.1:port addresses.
func freeAddrs(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		out[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return out, nil
}
