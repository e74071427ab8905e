package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/receipts"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

const (
	// benchAsset is the asset every transfer moves.
	benchAsset = "BENCH"
	// startBalance is minted to every account: far more than a run can
	// move out of one account at one unit per transfer, so "insufficient
	// funds" cannot happen and every error is a real failure.
	startBalance = 1_000_000_000
	// syntheticReserves is what the benchmark's fake reserve source
	// reports, in sats.
	syntheticReserves = 1 << 62
	// seedWorkers bounds concurrent calls while seeding.
	seedWorkers = 32
)

// harness is a running in-process koshd with admin gRPC clients.
type harness struct {
	cfg     config
	d       *daemon.Daemon
	conns   []*grpc.ClientConn
	clients []koshv1.IssuerServiceClient

	accounts []string
	mints    int64
}

// macaroonCreds sends the admin macaroon hex-encoded in the "macaroon"
// metadata key with every call, as koshcli does.
type macaroonCreds string

func (m macaroonCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"macaroon": string(m)}, nil
}

func (macaroonCreds) RequireTransportSecurity() bool { return true }

// startHarness starts koshd on a data directory under tmp, on loopback
// ports, and dials cfg.conns TLS connections to it.
func startHarness(ctx context.Context, cfg config, tmp, pgDSN string, log *slog.Logger) (*harness, error) {
	dcfg := daemon.DefaultConfig()
	dcfg.DataDir = tmp + "/koshd"
	dcfg.RPCListen = "127.0.0.1:0"
	dcfg.RESTListen = "127.0.0.1:0"
	dcfg.DebugLevel = "warn"
	dcfg.DB.Backend = cfg.db
	dcfg.DB.PostgresDSN = pgDSN
	d, err := daemon.Start(ctx, dcfg, log)
	if err != nil {
		return nil, fmt.Errorf("start koshd: %w", err)
	}
	h := &harness{cfg: cfg, d: d}

	// This is a benchmark harness, not a deployment: a synthetic reserve
	// source reporting an enormous figure lets the seed mints pass the
	// coverage gate. Nothing here proves any reserve.
	d.Reserves().Register("bench-synthetic", 24*time.Hour)
	if err := d.Reserves().Report("bench-synthetic", syntheticReserves); err != nil {
		h.stop()
		return nil, fmt.Errorf("report synthetic reserves: %w", err)
	}

	dc := d.Config()
	mac, err := os.ReadFile(dc.MacaroonPath("admin"))
	if err != nil {
		h.stop()
		return nil, fmt.Errorf("read admin macaroon: %w", err)
	}
	tlsCreds, err := credentials.NewClientTLSFromFile(dc.TLSCertPath(), "")
	if err != nil {
		h.stop()
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	for range cfg.conns {
		conn, err := grpc.NewClient(d.RPCAddr(), grpc.WithTransportCredentials(tlsCreds),
			grpc.WithPerRPCCredentials(macaroonCreds(hex.EncodeToString(mac))))
		if err != nil {
			h.stop()
			return nil, fmt.Errorf("dial koshd at %s: %w", d.RPCAddr(), err)
		}
		conn.Connect()
		h.conns = append(h.conns, conn)
		h.clients = append(h.clients, koshv1.NewIssuerServiceClient(conn))
	}
	return h, nil
}

func (h *harness) stop() {
	for _, c := range h.conns {
		c.Close()
	}
	if err := h.d.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop koshd:", err)
	}
}

// client returns the shared connection's client for worker i.
func (h *harness) client(i int) koshv1.IssuerServiceClient { return h.clients[i%len(h.clients)] }

// seed creates the asset and the accounts and mints startBalance to each.
func (h *harness) seed(ctx context.Context) error {
	_, err := h.client(0).CreateAsset(ctx, &koshv1.CreateAssetRequest{
		Code: benchAsset, Name: "Benchmark token", Decimals: 0, Peg: koshv1.Peg_PEG_SAT, MinCoverageBps: 10_000,
	})
	if err != nil {
		return fmt.Errorf("create asset %s: %w", benchAsset, err)
	}
	h.accounts = make([]string, h.cfg.accounts)
	err = parallel(ctx, len(h.accounts), func(ctx context.Context, i int) error {
		resp, err := h.client(i).CreateAccount(ctx, &koshv1.CreateAccountRequest{
			Label: "bench-" + strconv.Itoa(i), IdempotencyKey: "bench-account-" + strconv.Itoa(i),
		})
		if err != nil {
			return fmt.Errorf("create account %d: %w", i, err)
		}
		h.accounts[i] = resp.Account.GetId()
		return nil
	})
	if err != nil {
		return err
	}
	err = parallel(ctx, len(h.accounts), func(ctx context.Context, i int) error {
		_, err := h.client(i).Mint(ctx, &koshv1.MintRequest{
			Asset: benchAsset, AccountId: h.accounts[i], Amount: startBalance,
			IdempotencyKey: "bench-mint-" + strconv.Itoa(i), Memo: "benchmark starting balance",
		})
		if err != nil {
			return fmt.Errorf("mint to account %d: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.mints = int64(len(h.accounts))
	return nil
}

// parallel calls fn(i) for i in [0, n) on seedWorkers goroutines and
// returns the first error.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idx := make(chan int)
	var wg sync.WaitGroup
	for range min(seedWorkers, n) {
		wg.Go(func() {
			for i := range idx {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idx)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// checkResult is what the post-run checks found.
type checkResult struct {
	receipts        receipts.Stats
	consistent      bool
	supply          int64
	journal         int64
	expectedJournal int64
}

// verify checks that the supply report is consistent and unchanged by the
// transfers, and that the journal holds exactly the successful mints and
// transfers.
func (h *harness) verify(ctx context.Context, res *loadResult) (checkResult, error) {
	c := checkResult{expectedJournal: h.mints + res.succeeded}
	sup, err := h.client(0).GetSupply(ctx, &koshv1.GetSupplyRequest{Asset: benchAsset})
	if err != nil {
		return c, fmt.Errorf("get supply: %w", err)
	}
	c.consistent, c.supply = sup.Consistent, sup.Supply
	var errs []error
	if !sup.Consistent {
		errs = append(errs, fmt.Errorf("supply of %s is inconsistent: supply %d, balances %d, journal %d",
			benchAsset, sup.Supply, sup.BalancesTotal, sup.JournalTotal))
	}
	if want := h.mints * startBalance; sup.Supply != want {
		errs = append(errs, fmt.Errorf("supply of %s is %d, want %d", benchAsset, sup.Supply, want))
	}
	var after int64
	for {
		page, err := h.client(0).ListJournal(ctx, &koshv1.ListJournalRequest{Asset: benchAsset, AfterSeq: after, Limit: 1000})
		if err != nil {
			return c, errors.Join(append(errs, fmt.Errorf("list journal after %d: %w", after, err))...)
		}
		c.journal += int64(len(page.Entries))
		if page.NextAfterSeq == 0 {
			break
		}
		after = page.NextAfterSeq
	}
	if c.journal != c.expectedJournal {
		errs = append(errs, fmt.Errorf("journal holds %d entries, want %d (%d mints + %d transfers)",
			c.journal, c.expectedJournal, h.mints, res.succeeded))
	}
	return c, errors.Join(errs...)
}

// freshSchema creates a uniquely named schema in the PostgreSQL at dsn and
// returns a DSN whose search_path points at it, and a function that drops
// it. (The same approach as store/storetest, which is for tests only.)
func freshSchema(ctx context.Context, dsn string) (string, func(), error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, fmt.Errorf("open postgres: %w", err)
	}
	defer admin.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(pctx); err != nil {
		return "", nil, fmt.Errorf("connect to postgres at %s: %w", dsn, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "kosh_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(pctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() {
		c, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := c.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", schema, err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("parse -dsn: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
