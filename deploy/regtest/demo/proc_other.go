//go:build !linux

package main

import "syscall"

// sysProcAttr: no parent-death signal outside Linux.
func sysProcAttr() *syscall.SysProcAttr { return nil }

type proc struct {
	pid  int
	comm string
}

// children is not implemented outside Linux: the pids file then lists the
// supervisor only, which stops its children on SIGTERM.
func children(int) []proc { return nil }
