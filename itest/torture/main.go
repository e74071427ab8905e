package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kosh-reserve/kosh/itest/harness"
)

// defaultPostgresDSN is the PostgreSQL the test suites use
// (KOSH_TEST_POSTGRES_DSN overrides it, as it does for them).
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// config is the command line.
type config struct {
	rounds      int
	stores      []string
	clients     int
	accounts    int
	minLoad     time.Duration
	maxLoad     time.Duration
	restartKill float64
	replays     int
	dsn         string
	seed        uint64
	keep        bool
}

func main() {
	var cfg config
	var stores string
	dsn := os.Getenv("KOSH_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = defaultPostgresDSN
	}
	flag.IntVar(&cfg.rounds, "rounds", 20, "rounds of load, SIGKILL, restart, retry and check, per store")
	flag.StringVar(&stores, "stores", "sqlite,postgres", "comma-separated stores to torture: sqlite, postgres")
	flag.IntVar(&cfg.clients, "clients", 16, "concurrent clients, each with one call in flight")
	flag.IntVar(&cfg.accounts, "accounts", 24, "accounts the operations move between")
	flag.DurationVar(&cfg.minLoad, "minload", 200*time.Millisecond, "shortest load before the SIGKILL")
	flag.DurationVar(&cfg.maxLoad, "maxload", 2*time.Second, "longest load before the SIGKILL")
	flag.Float64Var(&cfg.restartKill, "restartkill", 0.35, "probability that koshd is killed again while it starts")
	flag.IntVar(&cfg.replays, "replays", 32, "acknowledged operations per round sent again, which must answer the same")
	flag.StringVar(&cfg.dsn, "dsn", dsn, "PostgreSQL server; a fresh database is created in it for the run and dropped after")
	flag.Uint64Var(&cfg.seed, "seed", 0, "random seed for the operations and kill times (0: random)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep koshd's data directories (they are kept anyway when a check fails)")
	flag.Parse()
	cfg.stores = strings.Split(stores, ",")
	if cfg.seed == 0 {
		cfg.seed = rand.Uint64()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "torture:", err)
		os.Exit(1)
	}
}

func (c config) validate() error {
	for _, s := range c.stores {
		if s != "sqlite" && s != "postgres" {
			return fmt.Errorf("-stores: unknown store %q (want sqlite or postgres)", s)
		}
	}
	switch {
	case c.rounds < 1:
		return errors.New("-rounds must be at least 1")
	case c.clients < 1:
		return errors.New("-clients must be at least 1")
	case c.accounts < 2:
		return errors.New("-accounts must be at least 2 (transfers need two)")
	case c.minLoad <= 0 || c.maxLoad < c.minLoad:
		return errors.New("-minload must be positive and at most -maxload")
	case c.restartKill < 0 || c.restartKill > 1:
		return errors.New("-restartkill is a probability, 0 to 1")
	case c.replays < 0:
		return errors.New("-replays must not be negative")
	}
	return nil
}

// env is what every store's run shares: the koshd binary and the btcd the
// reserves are watched on.
type env struct {
	koshdBin string
	btcd     harness.BtcdInfo
	reserve  *reserveWallet
	birthday int64
}

// chainArgs points koshd at the harness's btcd, watching the run's reserve
// wallet: enough to back every mint of the run once proven.
func (e *env) chainArgs() []string {
	return []string{"--chain.backend=btcd", "--chain.rpchost=" + e.btcd.RPCAddr, "--chain.rpcuser=" + e.btcd.RPCUser,
		"--chain.rpcpass=" + e.btcd.RPCPass, "--chain.rpccert=" + e.btcd.CertPath, "--chain.minconf=1",
		"--chain.pollinterval=200ms", "--chain.birthday=" + strconv.FormatInt(e.birthday, 10),
		"--chain.descriptor=" + e.reserve.desc}
}

// run builds koshd, starts btcd, tortures each store in turn and prints the
// table. It returns an error if a run could not be carried out or any
// check failed.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	var e env
	fmt.Fprintln(os.Stderr, "torture: building koshd ...")
	if e.koshdBin, err = buildKoshd(ctx, root); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "torture: starting btcd (regtest) ...")
	t0 := time.Now()
	h, err := harness.Start(ctx, harness.Config{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return fmt.Errorf("start btcd: %w", err)
	}
	defer func() {
		if err := h.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "torture: stop btcd:", err)
		}
	}()
	fmt.Fprintf(os.Stderr, "torture: btcd up in %s\n", time.Since(t0).Round(time.Millisecond))
	e.btcd = h.Btcd()
	if e.reserve, err = newReserveWallet(h.Params()); err != nil {
		return err
	}
	_, tip, err := h.Client().GetBestBlock()
	if err != nil {
		return fmt.Errorf("btcd best block: %w", err)
	}
	e.birthday = int64(tip) + 1 // a first scan of one block
	if err := e.reserve.fund(ctx, h); err != nil {
		return err
	}

	var results []storeResult
	var errs []error
	for _, store := range cfg.stores {
		fmt.Fprintf(os.Stderr, "torture: %s, %d rounds, %d clients, seed %d\n", store, cfg.rounds, cfg.clients, cfg.seed)
		res, err := runStore(ctx, cfg, &e, store)
		results = append(results, res)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", store, err))
		}
		if res.rep.Failed() {
			errs = append(errs, fmt.Errorf("%s: %d lost, %d double-applied, %d mismatched, %d invariant failures",
				store, res.rep.Lost, res.rep.Double, res.rep.Mismatched, res.rep.Invariant))
		}
		if res.dir != "" {
			fmt.Fprintf(os.Stderr, "torture: %s data directory (and koshd.log) kept in %s\n", store, res.dir)
		}
		if ctx.Err() != nil {
			break
		}
	}
	printTable(out, cfg, results)
	return errors.Join(errs...)
}

func printTable(out io.Writer, cfg config, results []storeResult) {
	fmt.Fprintf(out, "kosh torture: koshd SIGKILLed under %d concurrent clients, seed %d\n", cfg.clients, cfg.seed)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\trounds\tkills\trestart kills\tacknowledged\tunacknowledged\tcommitted before kill\tretried\tapplied by retry\trefused\treplays\tlost\tdouble-applied\tmismatched\tinvariant failures\t")
	for _, r := range results {
		p := r.rep
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.store, r.rounds, r.kills, r.restartKills,
			p.Acknowledged, p.Unacknowledged, p.Committed, p.Retried, p.RetryApplied, p.Refused, p.Replays,
			p.Lost, p.Double, p.Mismatched, p.Invariant)
	}
	w.Flush()
	for _, r := range results {
		for _, p := range r.rep.Problems {
			fmt.Fprintf(out, "%s: %s\n", r.store, p)
		}
	}
}
