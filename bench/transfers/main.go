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
)

// defaultPostgresDSN is the PostgreSQL the test suites use.
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// config is the benchmark's command line.
type config struct {
	db         string // "sqlite" or "postgres"
	dsn        string
	accounts   int
	clients    int
	conns      int
	duration   time.Duration
	warmup     time.Duration
	batch      int // rows per transaction of the batched baseline
	cpuProfile string
	// singleWriter sets koshd's db.singlewriter: the ledger pipelines
	// its commits on PostgreSQL.
	singleWriter bool
	out          io.Writer
}

func main() {
	var cfg config
	flag.StringVar(&cfg.db, "db", "sqlite", "database engine: sqlite or postgres")
	flag.StringVar(&cfg.dsn, "dsn", defaultPostgresDSN, "PostgreSQL DSN for -db postgres; a fresh schema is created in it and dropped afterwards")
	flag.IntVar(&cfg.accounts, "accounts", 1000, "number of accounts")
	flag.IntVar(&cfg.clients, "clients", 64, "concurrent clients (goroutines), each with one call in flight")
	flag.IntVar(&cfg.conns, "conns", 4, "gRPC connections the clients share")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured duration of each phase (after a 1s warm-up for transfers)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured transfer window to `file`")
	flag.BoolVar(&cfg.singleWriter, "singlewriter", false, "run koshd with db.singlewriter (PostgreSQL: pipelined commits, no journal append lock; valid only for one koshd per database)")
	flag.Parse()
	cfg.warmup = time.Second
	cfg.batch = 64
	cfg.out = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench/transfers:", err)
		os.Exit(1)
	}
}

func (c config) validate() error {
	switch {
	case c.db != "sqlite" && c.db != "postgres":
		return fmt.Errorf("-db %q: want sqlite or postgres", c.db)
	case c.accounts < 2:
		return fmt.Errorf("-accounts %d: need at least 2 to transfer between", c.accounts)
	case c.clients < 1 || c.conns < 1:
		return errors.New("-clients and -conns must be at least 1")
	case c.duration <= 0:
		return errors.New("-duration must be positive")
	}
	return nil
}

// run performs the whole benchmark and prints the table. It returns an
// error if any call failed or any post-run check did not hold.
func run(ctx context.Context, cfg config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kosh-bench-")
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	var pgDSN string
	if cfg.db == "postgres" {
		var drop func()
		pgDSN, drop, err = freshSchema(ctx, cfg.dsn)
		if err != nil {
			return err
		}
		defer drop()
	}

	// Baselines first, on an otherwise idle process.
	fmt.Fprintf(os.Stderr, "raw %s baselines, %s each ...\n", cfg.db, cfg.duration)
	base, err := runBaselines(ctx, cfg, tmp, pgDSN)
	if err != nil {
		return err
	}

	h, err := startHarness(ctx, cfg, tmp, pgDSN)
	if err != nil {
		return err
	}
	defer func() {
		if err := h.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()

	fmt.Fprintf(os.Stderr, "seeding %d accounts ...\n", cfg.accounts)
	seedStart := time.Now()
	if err := h.seed(ctx); err != nil {
		return err
	}
	seedTime := time.Since(seedStart)

	fmt.Fprintf(os.Stderr, "transfers: %d clients on %d conns, %s warm-up + %s ...\n",
		cfg.clients, cfg.conns, cfg.warmup, cfg.duration)
	var prof *profiler
	if cfg.cpuProfile != "" {
		prof = &profiler{path: cfg.cpuProfile}
	}
	res, err := h.drive(ctx, prof)
	if err != nil {
		return err
	}
	if prof != nil && prof.err != nil {
		return prof.err
	}

	checks, checkErr := h.verify(ctx, res)
	checks.receipts = h.Daemon.ReceiptStats()
	printTable(cfg, base, res, seedTime, checks)
	if res.errors > 0 {
		return fmt.Errorf("%d transfer calls failed (first: %w)", res.errors, res.firstErr)
	}
	return checkErr
}

// profiler writes a CPU profile of the measured window.
type profiler struct {
	path string
	f    *os.File
	err  error
}

func (p *profiler) start() {
	f, err := os.Create(p.path)
	if err != nil {
		p.err = fmt.Errorf("create CPU profile: %w", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		p.err = fmt.Errorf("start CPU profile: %w", err)
		return
	}
	p.f = f
}

func (p *profiler) stop() {
	if p.f == nil {
		return
	}
	pprof.StopCPUProfile()
	if err := p.f.Close(); err != nil {
		p.err = fmt.Errorf("write CPU profile: %w", err)
	}
	p.f = nil
}

func printTable(cfg config, base baselines, res *loadResult, seedTime time.Duration, checks checkResult) {
	fmt.Fprintf(cfg.out, "kosh transfer benchmark (%s, %d clients, %d conns, %s, %d CPUs)\n",
		cfg.db, cfg.clients, cfg.conns, cfg.duration, runtime.NumCPU())
	w := tabwriter.NewWriter(cfg.out, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
	row("measure", "value")
	row(fmt.Sprintf("raw %s 1-row commits/s", cfg.db), "%.0f", base.single.rate())
	row(fmt.Sprintf("raw %s %d-row commits/s (rows/s)", cfg.db, cfg.batch), "%.0f  (%.0f)",
		base.batched.rate()/float64(cfg.batch), base.batched.rate())
	row("gRPC transfers/s", "%.0f", res.rate())
	row("p50 / p99 / p99.9 latency", "%s / %s / %s",
		fmtDur(res.percentile(50)), fmtDur(res.percentile(99)), fmtDur(res.percentile(99.9)))
	row("max latency", "%s", fmtDur(res.percentile(100)))
	if r := base.single.rate(); r > 0 {
		row("ratio transfers : raw 1-row", "%.1fx", res.rate()/r)
	}
	if r := base.batched.rate(); r > 0 {
		row(fmt.Sprintf("ratio transfers : raw %d-row rows", cfg.batch), "%.2fx", res.rate()/r)
	}
	row("transfers measured / total", "%d / %d", res.measured, res.succeeded)
	row("errors", "%d", res.errors)
	row("seed (asset, accounts, mints)", "%s", seedTime.Round(time.Millisecond))
	row("supply consistent", "%v (supply %d)", checks.consistent, checks.supply)
	row("journal entries / expected", "%d / %d", checks.journal, checks.expectedJournal)
	if st := checks.receipts; st.Signatures > 0 {
		row("receipts / signatures (whole run)", "%d / %d  (%.1f per signature)",
			st.Receipts, st.Signatures, float64(st.Receipts)/float64(st.Signatures))
	}
	w.Flush()
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
