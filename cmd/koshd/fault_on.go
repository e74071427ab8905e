//go:build kosh_faults

package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/kosh-reserve/kosh/daemon"
)

// FaultEnv names the crash point (payments: docs/payments.md; anchors:
// docs/proofs.md 4.14: anchor:funded, anchor:stored, anchor:published,
// anchor:replaced) at which a koshd built with -tags kosh_faults kills
// itself with SIGKILL: no deferred
// function, no graceful shutdown, exactly as if the machine lost power
// there (the database is in WAL mode with synchronous=FULL, so what was
// committed stays committed).
const FaultEnv = "KOSH_FAULT_POINT"

func applyFaultHook(cfg *daemon.Config) {
	point := os.Getenv(FaultEnv)
	if point == "" {
		return
	}
	fmt.Fprintf(os.Stderr, "koshd: built with kosh_faults: SIGKILL at crash point %q\n", point)
	fault := func(p string) error {
		if p == point {
			fmt.Fprintf(os.Stderr, "koshd: crash point %s reached: SIGKILL\n", p)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is delivered before this returns
		}
		return nil
	}
	cfg.Payments.Fault = fault
	cfg.Anchor.Fault = fault
}
