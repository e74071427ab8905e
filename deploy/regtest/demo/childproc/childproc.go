// Package childproc runs the demo supervisor's own child processes
// (koshd): start with its output appended to a log, stop with SIGTERM then
// SIGKILL, the live children of a process, free loopback ports.
package childproc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// PickAddr returns 127.0.0.1:port if it is free, else a free port (never
// one of avoid).
func PickAddr(port int, avoid ...string) (string, error) {
	want := fmt.Sprintf("127.0.0.1:%d", port)
	if l, err := net.Listen("tcp", want); err == nil {
		l.Close()
		return want, nil
	}
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("find a free port: %w", err)
		}
		addr := l.Addr().String()
		l.Close()
		taken := false
		for _, a := range avoid {
			taken = taken || a == addr
		}
		if !taken {
			return addr, nil
		}
	}
	return "", errors.New("no free port")
}

// Child is a process the supervisor starts itself (koshd), its output
// appended to LogPath.
type Child struct {
	Name, Bin, LogPath string
	Args               []string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts the process; Done is closed when it exits.
func (c *Child) Start() error {
	f, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "=== %s start %s: %s %q\n", c.Name, time.Now().Format(time.RFC3339Nano), c.Bin, c.Args)
	c.cmd = exec.Command(c.Bin, c.Args...)
	c.cmd.Stdout, c.cmd.Stderr = f, f
	c.cmd.SysProcAttr = SysProcAttr()
	if err := c.cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", c.Bin, err)
	}
	c.done = make(chan struct{})
	go func() {
		c.err = c.cmd.Wait()
		fmt.Fprintf(f, "=== %s exit %s: %v\n", c.Name, time.Now().Format(time.RFC3339Nano), c.err)
		f.Close()
		close(c.done)
	}()
	return nil
}

// Done is closed when the process has exited; Err then says how.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err is the process's exit error, once Done is closed.
func (c *Child) Err() error { return c.err }

// PID is the process id (0 before Start).
func (c *Child) PID() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Stop sends SIGTERM and SIGKILL after grace.
func (c *Child) Stop(grace time.Duration) error {
	if c.cmd == nil {
		return nil
	}
	select {
	case <-c.done:
		return nil
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
	}
	c.cmd.Process.Kill()
	<-c.done
	return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", c.Name, grace)
}

// Tail returns the last n bytes of the file at path ("" if unreadable).
func Tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
