package proc

import "syscall"

// sysProcAttr makes the kernel SIGKILL the child when the test binary dies,
// so a crashed or timed-out test leaves no child behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
