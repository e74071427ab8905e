// Package storetest opens real stores for tests: a fresh SQLite file, or a
// fresh schema in the PostgreSQL at KOSH_TEST_POSTGRES_DSN (default
// postgres://postgres@127.0.0.1:5432/test). Under CI=true an unreachable
// PostgreSQL fails the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/ledgerdb"
)

// DefaultPostgresDSN is used when KOSH_TEST_POSTGRES_DSN is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Backends lists the engines every store-backed test suite runs against.
var Backends = []store.Backend{store.SQLite, store.Postgres}

// PostgresDSN returns the DSN of the test PostgreSQL server.
func PostgresDSN() string {
	if dsn := os.Getenv("KOSH_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return DefaultPostgresDSN
}

// Config returns a store configuration for a fresh, empty database of the
// given backend, dropped when the test ends.
func Config(t testing.TB, backend store.Backend) store.Config {
	t.Helper()
	switch backend {
	case store.SQLite:
		return store.Config{Backend: store.SQLite, SQLitePath: filepath.Join(t.TempDir(), "kosh.db")}
	case store.Postgres:
		return store.Config{Backend: store.Postgres, PostgresDSN: freshSchema(t)}
	}
	t.Fatalf("unknown backend %q", backend)
	return store.Config{}
}

// Open opens a fresh store of the given backend, closed when the test ends.
func Open(t testing.TB, backend store.Backend) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), Config(t, backend), nil)
	if err != nil {
		t.Fatalf("open %s store: %v", backend, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Ledger returns the ledger's store on db (ledgerdb.Open), failing the test
// if it cannot prepare it.
func Ledger(t testing.TB, db *store.DB) *ledgerdb.Store {
	t.Helper()
	ls, err := ledgerdb.Open(context.Background(), db)
	if err != nil {
		t.Fatalf("open the ledger store: %v", err)
	}
	return ls
}

// OpenRaw opens the database of cfg with database/sql, beside a store on
// it, so that a test can read or change tables behind the store's back. It
// is closed when the test ends.
func OpenRaw(t testing.TB, cfg store.Config) *sql.DB {
	t.Helper()
	var (
		db  *sql.DB
		err error
	)
	if cfg.Backend == store.SQLite {
		db, err = sql.Open("sqlite", store.SQLiteDSN(cfg.SQLitePath, true))
	} else {
		db, err = sql.Open("pgx/v5", cfg.PostgresDSN)
	}
	if err != nil {
		t.Fatalf("open the %s database: %v", cfg.Backend, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("open the %s database: %v", cfg.Backend, err)
	}
	return db
}

// freshSchema creates a uniquely named schema and returns a DSN whose
// search_path points at it.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		unavailable(t, err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		unavailable(t, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "kosh_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer c.Close()
		c.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse KOSH_TEST_POSTGRES_DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := "PostgreSQL at " + PostgresDSN() + " is unreachable (" + err.Error() +
		"); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
