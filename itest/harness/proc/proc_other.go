//go:build !linux

package proc

import "syscall"

// sysProcAttr returns nil: parent-death signals are Linux-only; elsewhere the
// harness relies on t.Cleanup and Close alone.
func sysProcAttr() *syscall.SysProcAttr { return nil }
