//go:build !kosh_faults

package main

import "github.com/kosh-reserve/kosh/daemon"

// applyFaultHook does nothing in a normal build: the crash hook exists only
// in binaries built with -tags kosh_faults (fault_on.go), for the
// integration tests that kill koshd at a named crash point.
func applyFaultHook(*daemon.Config) {}
