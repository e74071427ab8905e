package childproc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// SysProcAttr makes the kernel SIGKILL koshd if the supervisor dies, as the
// harness does for btcd and lnd.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// Proc is a live process: its id and command name.
type Proc struct {
	PID  int
	Comm string
}

// Children lists the live child processes of parent, from /proc.
func Children(parent int) []Proc {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []Proc
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		s := string(b)
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != parent {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		out = append(out, Proc{PID: pid, Comm: s[open+1 : close]})
	}
	return out
}
