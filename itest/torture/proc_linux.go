package main

import "syscall"

// sysProcAttr makes the kernel SIGKILL koshd when the torture command dies,
// so an interrupted run leaves no daemon behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
