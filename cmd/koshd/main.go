// Command koshd is the Kosh daemon: it issues a token against bitcoin
// reserves and serves the issuer gRPC API, the wallet REST API and the public
// proof-of-reserves page. Run `koshd --help` for the options; every option
// can also be set in <datadir>/koshd.conf (see deploy/koshd.conf).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	flags "github.com/jessevdk/go-flags"
	"github.com/kosh-reserve/kosh/daemon"
)

func main() {
	cfg, err := daemon.LoadConfig(os.Args[1:])
	if err != nil {
		var ferr *flags.Error
		if errors.As(err, &ferr) && ferr.Type == flags.ErrHelp {
			fmt.Println(err)
			return
		}
		fmt.Fprintln(os.Stderr, "koshd:", err)
		os.Exit(1)
	}
	applyFaultHook(&cfg) // a no-op unless built with -tags kosh_faults (tests only)
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.DebugLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "koshd: --debuglevel:", err)
		os.Exit(1)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := daemon.Run(ctx, cfg, log); err != nil {
		log.Error("koshd exited with an error", "err", err)
		os.Exit(1)
	}
}
