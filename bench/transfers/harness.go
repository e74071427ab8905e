package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/bench/internal/benchkosh"
	"github.com/kosh-reserve/kosh/receipts"
)

const (
	// benchAsset is the asset every transfer moves.
	benchAsset = "BENCH"
	// seedWorkers bounds concurrent calls while seeding.
	seedWorkers = 32
)

// harness is a running in-process koshd with admin gRPC clients.
type harness struct {
	*benchkosh.Kosh
	cfg config

	accounts []string
	mints    int64
}

// startHarness starts koshd on a data directory under tmp, on loopback
// ports, on cfg.db (in the PostgreSQL at pgDSN for postgres), and dials
// cfg.conns TLS connections to it.
func startHarness(ctx context.Context, cfg config, tmp, pgDSN string) (*harness, error) {
	dcfg := benchkosh.Config(tmp)
	dcfg.DB.Backend = cfg.db
	dcfg.DB.PostgresDSN = pgDSN
	dcfg.DB.SingleWriter = cfg.singleWriter
	k, err := benchkosh.Start(ctx, dcfg, cfg.conns)
	if err != nil {
		return nil, err
	}
	return &harness{Kosh: k, cfg: cfg}, nil
}

// seed creates the asset and the accounts and mints a starting balance to
// each, seedWorkers calls at a time.
func (h *harness) seed(ctx context.Context) error {
	accounts, err := h.Seed(ctx, benchAsset, h.cfg.accounts, seedWorkers)
	if err != nil {
		return err
	}
	h.accounts = accounts
	h.mints = int64(len(accounts))
	return nil
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
	sup, err := h.Client(0).GetSupply(ctx, &koshv1.GetSupplyRequest{Asset: benchAsset})
	if err != nil {
		return c, fmt.Errorf("get supply: %w", err)
	}
	c.consistent, c.supply = sup.Consistent, sup.Supply
	var errs []error
	if !sup.Consistent {
		errs = append(errs, fmt.Errorf("supply of %s is inconsistent: supply %d, balances %d, journal %d",
			benchAsset, sup.Supply, sup.BalancesTotal, sup.JournalTotal))
	}
	if want := h.mints * benchkosh.StartBalance; sup.Supply != want {
		errs = append(errs, fmt.Errorf("supply of %s is %d, want %d", benchAsset, sup.Supply, want))
	}
	var after int64
	for {
		page, err := h.Client(0).ListJournal(ctx, &koshv1.ListJournalRequest{Asset: benchAsset, AfterSeq: after, Limit: 1000})
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
