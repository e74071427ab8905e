// Package proc runs the child processes of Kosh's integration harness (btcd
// and lnd) and hands out the loopback ports they listen on.
//
// A Process appends its stdout and stderr to a log file, can be stopped
// gracefully (SIGINT, then SIGKILL after a grace period) or killed, and can
// be started again with the same arguments. On Linux every child is started
// with a parent-death signal, so a crashed test binary leaves no orphans.
// FreeAddrs returns 127.0.0.1 addresses that no other caller in the same
// test binary has been given. TailFile reads the end of a log for error
// messages.
package proc
