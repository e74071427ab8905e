package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kosh-reserve/kosh/ratelimit"
)

// config is the benchmark's command line.
type config struct {
	accounts     int
	journal      int
	pages        int
	flood        int
	duration     time.Duration
	rounds       int
	transferRate float64
	supplyRate   float64
	refusalDelay time.Duration
	cpuProfile   string
	out          io.Writer
}

func main() {
	var cfg config
	flag.IntVar(&cfg.accounts, "accounts", 64, "accounts (one mint each) that transfers move between")
	flag.IntVar(&cfg.journal, "journal", 100_000, "transfers added to the journal between the two page measurements")
	flag.IntVar(&cfg.pages, "pages", 80, "page loads measured at each journal size")
	flag.IntVar(&cfg.flood, "flood", 200, "public clients in the flood, each from its own loopback address")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured window of issuer calls, without and with the flood, split over -rounds")
	flag.IntVar(&cfg.rounds, "rounds", 2, "alternations of a window without and a window with the flood (the machine's other load drifts)")
	flag.Float64Var(&cfg.transferRate, "transferrate", 100, "issuer Transfer calls per second during the windows")
	flag.Float64Var(&cfg.supplyRate, "supplyrate", 4, "issuer GetSupply calls per second during the windows")
	flag.DurationVar(&cfg.refusalDelay, "refusaldelay", ratelimit.DefaultOptions().RefusalDelay,
		"koshd's --ratelimit.refusaldelay (0: refusals are answered at once)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the flooded window to `file` (koshd and the flood clients share the process)")
	flag.Parse()
	cfg.out = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench/public:", err)
		os.Exit(1)
	}
}

func (c config) validate() error {
	switch {
	case c.accounts < 2:
		return fmt.Errorf("-accounts %d: need at least 2 to transfer between", c.accounts)
	case c.journal < 0 || c.pages < 1:
		return errors.New("-journal must not be negative and -pages must be at least 1")
	case c.flood < 1 || c.flood > 250*250:
		return fmt.Errorf("-flood %d: want 1 to %d", c.flood, 250*250)
	case c.duration <= 0 || c.transferRate <= 0 || c.supplyRate <= 0 || c.rounds < 1:
		return errors.New("-duration, -rounds, -transferrate and -supplyrate must be positive")
	}
	return nil
}

// results are everything the table shows.
type results struct {
	seedRows, largeRows       int64
	pageSmall, pageLarge      latencies
	supplySmall, supplyLarge  latencies
	quiet, flooded            window
	flood                     floodStats
	consistent                bool
	preload                   time.Duration
	preloadErrors             int64
	issuerErrors              int64
	firstIssuerErr, checkFail error
}

func run(ctx context.Context, cfg config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kosh-bench-public-")
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	h, err := startHarness(ctx, cfg, tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err := h.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()

	var res results
	fmt.Fprintf(os.Stderr, "seeding %d accounts ...\n", cfg.accounts)
	if err := h.seed(ctx); err != nil {
		return err
	}
	res.seedRows = int64(cfg.accounts)

	fmt.Fprintf(os.Stderr, "page and GetSupply at %d journal rows ...\n", res.seedRows)
	if res.pageSmall, err = h.pageCost(ctx, 1); err != nil {
		return err
	}
	if res.supplySmall, err = h.supplyCost(ctx, 20); err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "adding %d transfers to the journal ...\n", cfg.journal)
	start := time.Now()
	res.preloadErrors, err = h.preload(ctx, cfg.journal)
	if err != nil {
		return err
	}
	res.preload = time.Since(start)
	res.largeRows = res.seedRows + int64(cfg.journal) - res.preloadErrors
	fmt.Fprintf(os.Stderr, "page and GetSupply at %d journal rows ...\n", res.largeRows)
	if res.pageLarge, err = h.pageCost(ctx, 2); err != nil {
		return err
	}
	if res.supplyLarge, err = h.supplyCost(ctx, 20); err != nil {
		return err
	}

	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
	}
	for round := range cfg.rounds {
		fmt.Fprintf(os.Stderr, "round %d: issuer calls for %s without public load, then %s under a %d-client flood ...\n",
			round+1, cfg.duration/time.Duration(cfg.rounds), cfg.duration/time.Duration(cfg.rounds), cfg.flood)
		res.quiet.add(h.issuerWindow(ctx, nil))
		res.flooded.add(h.issuerWindow(ctx, &res.flood))
	}
	pprof.StopCPUProfile()
	res.quiet.sort()
	res.flooded.sort()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	for _, w := range []window{res.quiet, res.flooded} {
		res.issuerErrors += w.errors
		if res.firstIssuerErr == nil {
			res.firstIssuerErr = w.firstErr
		}
	}
	res.consistent, res.checkFail = h.verify(ctx)
	printTable(cfg, &res)
	switch {
	case res.issuerErrors > 0:
		return fmt.Errorf("%d issuer calls failed (first: %w)", res.issuerErrors, res.firstIssuerErr)
	case res.preloadErrors > 0:
		return fmt.Errorf("%d preload transfers failed", res.preloadErrors)
	}
	return res.checkFail
}

func printTable(cfg config, r *results) {
	fmt.Fprintf(cfg.out, "kosh public-load benchmark (sqlite, %d flood clients, %s without and %s with, in %d rounds, refusal delay %s, %d CPUs)\n",
		cfg.flood, cfg.duration, cfg.duration, cfg.rounds, cfg.refusalDelay, runtime.NumCPU())
	w := tabwriter.NewWriter(cfg.out, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
	row("measure", "value")
	row(fmt.Sprintf("page p50 / p90, journal %d rows", r.seedRows), "%s / %s", fmtDur(r.pageSmall.pct(50)), fmtDur(r.pageSmall.pct(90)))
	row(fmt.Sprintf("page p50 / p90, journal %d rows", r.largeRows), "%s / %s", fmtDur(r.pageLarge.pct(50)), fmtDur(r.pageLarge.pct(90)))
	row("ratio page p50 large : small", "%s", ratio(r.pageLarge.pct(50), r.pageSmall.pct(50)))
	row("GetSupply p50 small / large (the old page's scan)", "%s / %s", fmtDur(r.supplySmall.pct(50)), fmtDur(r.supplyLarge.pct(50)))
	row("ratio GetSupply p50 large : small", "%s", ratio(r.supplyLarge.pct(50), r.supplySmall.pct(50)))
	for _, c := range []struct {
		name     string
		quiet, f latencies
	}{{"Transfer", r.quiet.transfer, r.flooded.transfer}, {"GetSupply", r.quiet.supply, r.flooded.supply}} {
		row(fmt.Sprintf("issuer %s p50 / p99, no public load (%d calls)", c.name, len(c.quiet)), "%s / %s",
			fmtDur(c.quiet.pct(50)), fmtDur(c.quiet.pct(99)))
		row(fmt.Sprintf("issuer %s p50 / p99, %d-client flood (%d calls)", c.name, cfg.flood, len(c.f)), "%s / %s",
			fmtDur(c.f.pct(50)), fmtDur(c.f.pct(99)))
		row(fmt.Sprintf("ratio %s p50 / p99 flood : none", c.name), "%s / %s",
			ratio(c.f.pct(50), c.quiet.pct(50)), ratio(c.f.pct(99), c.quiet.pct(99)))
	}
	secs := r.flood.window.Seconds()
	row("flood answers/s: 200 / 429 / other (errors)", "%.0f / %.0f / %.0f (%d)",
		float64(r.flood.ok)/secs, float64(r.flood.limited)/secs, float64(r.flood.other)/secs, r.flood.errors)
	row("issuer calls failed", "%d", r.issuerErrors)
	row(fmt.Sprintf("journal preload (%d transfers)", r.largeRows-r.seedRows), "%s", r.preload.Round(time.Millisecond))
	row("supply consistent", "%v", r.consistent)
	w.Flush()
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
}
