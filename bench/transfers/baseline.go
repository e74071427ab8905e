package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/kosh-reserve/kosh/store"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// phase is the outcome of one timed insert loop.
type phase struct {
	rows    int64
	elapsed time.Duration
}

// rate is rows per second.
func (p phase) rate() float64 {
	if p.elapsed <= 0 {
		return 0
	}
	return float64(p.rows) / p.elapsed.Seconds()
}

// baselines are the raw-store figures the ledger is compared with.
type baselines struct {
	single  phase // one row per committed transaction
	batched phase // cfg.batch rows per committed transaction
}

// sqliteWriterDSN is the DSN store.Open uses for its single writer
// connection: the raw baseline runs on exactly koshd's SQLite settings.
func sqliteWriterDSN(path string) string { return store.SQLiteDSN(path, true) }

// baselineTable is roughly a journal row: an integer key, a unique text key
// and a hash. Each engine gets its own spelling of the auto-increment key.
const baselineTable = `CREATE TABLE raw_inserts (
	seq    %s,
	k      TEXT   NOT NULL UNIQUE,
	amount BIGINT NOT NULL,
	hash   %s     NOT NULL
)`

// runBaselines measures raw single-row and batched commits on the engine
// under test: a SQLite file in dir, or the PostgreSQL schema at pgDSN.
func runBaselines(ctx context.Context, cfg config, dir, pgDSN string) (baselines, error) {
	var (
		db  *sql.DB
		err error
		ddl string
	)
	if cfg.db == "postgres" {
		db, err = sql.Open("pgx", pgDSN)
		ddl = fmt.Sprintf(baselineTable, "BIGSERIAL PRIMARY KEY", "BYTEA")
	} else {
		db, err = sql.Open("sqlite", sqliteWriterDSN(filepath.Join(dir, "raw.db")))
		ddl = fmt.Sprintf(baselineTable, "INTEGER PRIMARY KEY", "BLOB")
	}
	if err != nil {
		return baselines{}, fmt.Errorf("open baseline database: %w", err)
	}
	defer db.Close()
	// One writer connection, as the store has.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return baselines{}, fmt.Errorf("create baseline table: %w", err)
	}

	var b baselines
	var next int64
	if b.single, err = insertLoop(ctx, db, cfg.duration, 1, &next); err != nil {
		return b, fmt.Errorf("1-row baseline: %w", err)
	}
	if b.batched, err = insertLoop(ctx, db, cfg.duration, cfg.batch, &next); err != nil {
		return b, fmt.Errorf("%d-row baseline: %w", cfg.batch, err)
	}
	return b, nil
}

// insertLoop commits transactions of perTx single-row INSERTs, through
// database/sql as the store does, until d has passed.
func insertLoop(ctx context.Context, db *sql.DB, d time.Duration, perTx int, next *int64) (phase, error) {
	hash := make([]byte, 32)
	start := time.Now()
	deadline := start.Add(d)
	var p phase
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return p, fmt.Errorf("begin: %w", err)
		}
		for range perTx {
			*next++
			if _, err := tx.ExecContext(ctx, `INSERT INTO raw_inserts (k, amount, hash) VALUES ($1, $2, $3)`,
				fmt.Sprintf("raw-%d", *next), *next, hash); err != nil {
				_ = tx.Rollback()
				return p, fmt.Errorf("insert: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return p, fmt.Errorf("commit: %w", err)
		}
		p.rows += int64(perTx)
	}
	p.elapsed = time.Since(start)
	return p, nil
}
