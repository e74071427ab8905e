package proc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is one child process (btcd or lnd) whose stdout and stderr go to a
// log file. It can be started again after it exited, with the same arguments.
type Process struct {
	// Name names the process in errors and in its log.
	Name string
	// Bin is the executable.
	Bin string
	// Args are its arguments.
	Args []string
	// LogPath is the file stdout and stderr are appended to.
	LogPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// Start launches the process. It fails if the process is already running.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isClosed(p.done) {
		return fmt.Errorf("%s: already running (pid %d)", p.Name, p.cmd.Process.Pid)
	}
	f, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: open log: %w", p.Name, err)
	}
	fmt.Fprintf(f, "=== %s start %s: %s %q\n", p.Name, time.Now().Format(time.RFC3339Nano), p.Bin, p.Args)
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("%s: start %s: %w", p.Name, p.Bin, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.waitErr = cmd, done, nil
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(f, "=== %s exit %s: %v\n", p.Name, time.Now().Format(time.RFC3339Nano), err)
		f.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Exited returns a channel closed when the current run of the process ended,
// or nil if it was never started.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Pid returns the pid of the current run, or 0.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process is started and has not exited.
func (p *Process) Running() bool {
	done := p.Exited()
	return done != nil && !isClosed(done)
}

// Stop asks the process to shut down with SIGINT and kills it with SIGKILL if
// it has not exited within grace. It returns once the process is gone.
func (p *Process) Stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return p.Kill()
	}
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		if err := p.Kill(); err != nil {
			return err
		}
		return fmt.Errorf("%s: did not stop within %s, killed", p.Name, grace)
	}
}

// Kill sends SIGKILL and waits for the process to be reaped.
func (p *Process) Kill() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: kill pid %d: %w", p.Name, cmd.Process.Pid, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s: pid %d not reaped 10s after SIGKILL", p.Name, cmd.Process.Pid)
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

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and has
// not been handed out before by this process.
func FreePort() (int, error) {
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

// FreeAddrs returns n distinct free 127.0.0.1:port addresses.
func FreeAddrs(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		out[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return out, nil
}

// TailFile returns up to the last n bytes of a file, for error messages.
func TailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	if st.Size() > n {
		if _, err := f.Seek(st.Size()-n, io.SeekStart); err != nil {
			return ""
		}
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
