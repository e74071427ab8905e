// Command kosh-demo is the supervisor of the regtest demo (`make demo`, see
// deploy/regtest/README.md). deploy/regtest/demo.sh builds it into
// .build/bin/kosh-demo and starts it detached:
//
//	kosh-demo up -run deploy/regtest/run -bin .build/bin -repo .
//
// It starts btcd on regtest and two lnd nodes (alice, bob) with the
// integration-test harness (itest/harness), funds a watched descriptor wallet
// and a channel alice -> bob, starts the built koshd binary against them,
// creates a token, holder accounts, mints and a transfer with the built
// koshcli, writes what it started to <run>/pids and what to try to
// <run>/info.txt, then <run>/ready. It stays running as the parent of btcd,
// lnd and koshd — they are started with a parent-death signal — until
// SIGTERM or SIGINT, on which it stops koshd, then lnd and btcd.
//
// On a failure it writes the reason to <run>/failed, stops what it started
// and exits 1.
//
//	kosh-demo check -run deploy/regtest/run -bin .build/bin
//
// (make demo-check) checks the running demo: the page green in headless
// Chromium and koshverify on the attestation it links to (package democheck).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kosh-reserve/kosh/deploy/regtest/demo/childproc"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/democheck"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/demoinfo"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/standalone"
)

// supervisorComm is the supervisor's /proc/<pid>/comm (its binary name);
// demo.sh checks it before signalling a recorded pid.
const supervisorComm = "kosh-demo"

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	run, bin, repo      string
	rpcPort, restPort   int
	extraKoshdArgs      stringList
	reserveWaitTimeout  time.Duration
	koshdStartupTimeout time.Duration
}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "check" {
		os.Exit(democheck.Run(os.Args[2:]))
	}
	if len(os.Args) < 2 || os.Args[1] != "up" {
		fmt.Fprintln(os.Stderr, "usage: kosh-demo up [-run dir] [-bin dir] [-repo dir] [-rpcport n] [-restport n] [-koshd-arg flag]...")
		fmt.Fprintln(os.Stderr, "       kosh-demo check [-run dir] [-bin dir] [-chromium path]")
		fmt.Fprintln(os.Stderr, "Normally started by `make demo` (deploy/regtest/demo.sh); see deploy/regtest/README.md.")
		os.Exit(2)
	}
	var o options
	fs := flag.NewFlagSet("kosh-demo up", flag.ExitOnError)
	fs.StringVar(&o.run, "run", "deploy/regtest/run", "directory for all state and logs")
	fs.StringVar(&o.bin, "bin", ".build/bin", "directory holding koshd, koshcli, btcd, lnd and lncli")
	fs.StringVar(&o.repo, "repo", ".", "repository root (paths in the printed info are relative to it)")
	fs.IntVar(&o.rpcPort, "rpcport", 10019, "koshd gRPC port on 127.0.0.1, if free (else a free port)")
	fs.IntVar(&o.restPort, "restport", 8019, "koshd REST port on 127.0.0.1, if free (else a free port)")
	fs.Var(&o.extraKoshdArgs, "koshd-arg", "extra koshd flag, e.g. -koshd-arg=--debuglevel=debug (repeatable)")
	fs.DurationVar(&o.reserveWaitTimeout, "reserve-timeout", 3*time.Minute, "how long to wait for koshd's snapshot to show the funded reserves")
	fs.DurationVar(&o.koshdStartupTimeout, "koshd-timeout", time.Minute, "how long to wait for koshd to answer")
	fs.Parse(os.Args[2:])
	os.Exit(up(o))
}

func up(o options) int {
	t0 := time.Now()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for _, p := range []*string{&o.run, &o.bin, &o.repo} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			log.Error("bad path", "path", *p, "err", err)
			return 1
		}
		*p = abs
	}
	if err := os.MkdirAll(o.run, 0o700); err != nil {
		log.Error("make run dir", "err", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Make the harness's and koshd's children survive a SIGHUP of the
	// terminal demo.sh ran in (setsid already detaches us from it).
	signal.Ignore(syscall.SIGHUP)

	d := &demo{opt: o, log: log, t0: t0}
	d.t = standalone.New(ctx, log.With("from", "harness-tb"), filepath.Join(o.run, "tmp"))
	if err := d.writePids(); err != nil {
		log.Error("write pids", "err", err)
		return 1
	}
	log.Info("kosh-demo supervisor starting", "pid", os.Getpid(), "run", o.run)

	err := d.start(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted by a signal while starting: %w", err)
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		d.stepf("FAILED: %s", first)
		log.Error("demo start failed", "err", err)
		os.WriteFile(filepath.Join(o.run, demoinfo.FailedFile), []byte(err.Error()+"\n"), 0o600)
		d.shutdown()
		return 1
	}
	if err := os.WriteFile(filepath.Join(o.run, demoinfo.ReadyFile), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		log.Error("write ready file", "err", err)
		d.shutdown()
		return 1
	}
	d.stepf("ready")
	log.Info("demo ready; waiting for SIGTERM or SIGINT", "took", time.Since(t0).Round(time.Millisecond))

	code := 0
	select {
	case <-ctx.Done():
		log.Info("signal received, stopping the demo")
	case <-d.koshd.Done():
		log.Error("koshd exited on its own; stopping the demo", "err", d.koshd.Err(),
			"log", d.koshd.LogPath, "tail", childproc.Tail(d.koshd.LogPath, 2000))
		os.WriteFile(filepath.Join(o.run, demoinfo.FailedFile),
			[]byte(fmt.Sprintf("koshd exited on its own (%v); see %s\n", d.koshd.Err(), d.koshd.LogPath)), 0o600)
		code = 1
	}
	os.Remove(filepath.Join(o.run, demoinfo.ReadyFile))
	d.shutdown()
	log.Info("demo stopped")
	return code
}

// start runs every step; a harness failure (tb.Fatal) becomes an error.
func (d *demo) start(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			var fe standalone.FatalError
			if e, ok := r.(standalone.FatalError); ok {
				fe = e
			} else {
				panic(r)
			}
			err = errors.New(fe.Msg)
		}
	}()
	return d.run(ctx)
}
