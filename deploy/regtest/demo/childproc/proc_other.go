//go:build !linux

package childproc

import "syscall"

// SysProcAttr: no parent-death signal outside Linux.
func SysProcAttr() *syscall.SysProcAttr { return nil }

// Proc is a live process: its id and command name.
type Proc struct {
	PID  int
	Comm string
}

// Children is not implemented outside Linux: the pids file then lists the
// supervisor only, which stops its children on SIGTERM.
func Children(int) []Proc { return nil }
