package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx/v5" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Backend names a database engine.
type Backend string

// The supported engines.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Config selects and locates the database.
type Config struct {
	// Backend is SQLite or Postgres.
	Backend Backend
	// SQLitePath is the database file for SQLite.
	SQLitePath string
	// PostgresDSN is a pgx connection string for PostgreSQL, e.g.
	// "postgres://user@127.0.0.1:5432/kosh?sslmode=disable".
	PostgresDSN string
	// MaxReaders bounds the pool of read connections (default 8).
	MaxReaders int
	// QuickCheckTimeout bounds SQLite's quick_check at open (default
	// DefaultQuickCheckTimeout; negative skips it). A check that runs out
	// of time is logged and the database used; one that finds damage
	// refuses the database.
	QuickCheckTimeout time.Duration
}

// DefaultQuickCheckTimeout bounds the integrity check of a SQLite database
// at open: quick_check reads every page, ~1 s per GB here.
const DefaultQuickCheckTimeout = 2 * time.Minute

// DB is an open store. It is safe for concurrent use.
type DB struct {
	backend Backend
	// writer serialises writes. For SQLite it is a single connection that
	// begins transactions with BEGIN IMMEDIATE; for PostgreSQL it is the same
	// pool as readers.
	writer *sql.DB
	reader *sql.DB
	log    *slog.Logger
	// hot holds the hot-path statements prepared on the SQLite writer (nil
	// for PostgreSQL), replaced whole under hotMu; see stmtcache.go.
	hot   atomic.Pointer[map[string]*sql.Stmt]
	hotMu sync.Mutex
	// corrupt holds the first error that said the database file is
	// damaged; from then on every write is refused (see Corrupt).
	corrupt atomic.Pointer[error]
}

// Sentinel errors the domain packages branch on.
var (
	// ErrNotFound means no row matched.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint rejected the write.
	ErrConflict = errors.New("conflict")
	// ErrNoChange means a conditional update matched no row: a guard such as
	// "balance >= amount" or "supply <= max - amount" did not hold.
	ErrNoChange = errors.New("condition not met")
)

// Open connects to the configured database and applies pending migrations.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.MaxReaders <= 0 {
		cfg.MaxReaders = 8
	}
	db := &DB{backend: cfg.Backend, log: log}
	switch cfg.Backend {
	case SQLite:
		if cfg.SQLitePath == "" {
			return nil, errors.New("open sqlite: no database path given")
		}
		if err := os.MkdirAll(filepath.Dir(cfg.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("open sqlite: create directory: %w", err)
		}
		// A new database file is created readable by its owner only;
		// SQLite gives its -wal and -shm files the same permissions.
		if f, err := os.OpenFile(cfg.SQLitePath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
			f.Close()
		} else if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("open sqlite: create %s: %w", cfg.SQLitePath, err)
		}
		var err error
		db.writer, err = sql.Open("sqlite", SQLiteDSN(cfg.SQLitePath, true))
		if err != nil {
			return nil, fmt.Errorf("open sqlite writer %s: %w", cfg.SQLitePath, err)
		}
		db.writer.SetMaxOpenConns(1)
		db.writer.SetMaxIdleConns(1)
		db.writer.SetConnMaxLifetime(0)
		db.reader, err = sql.Open("sqlite", SQLiteDSN(cfg.SQLitePath, false))
		if err != nil {
			db.writer.Close()
			return nil, fmt.Errorf("open sqlite reader %s: %w", cfg.SQLitePath, err)
		}
		db.reader.SetMaxOpenConns(cfg.MaxReaders)
		db.reader.SetMaxIdleConns(cfg.MaxReaders)
	case Postgres:
		if cfg.PostgresDSN == "" {
			return nil, errors.New("open postgres: no DSN given")
		}
		// "pgx/v5", not "pgx": lnd's kvdb links pgx v4's stdlib too, whose
		// init runs first and takes the name "pgx"; its errors are v4
		// *pgconn.PgError, which isUniqueViolation and IsTransient (v5) do
		// not recognise.
		pool, err := sql.Open("pgx/v5", cfg.PostgresDSN)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(cfg.MaxReaders + 4)
		pool.SetMaxIdleConns(cfg.MaxReaders + 4)
		db.writer, db.reader = pool, pool
	default:
		return nil, fmt.Errorf("open store: unknown backend %q (want %q or %q)", cfg.Backend, SQLite, Postgres)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.writer.PingContext(pingCtx); err != nil {
		db.Close()
		if isCorrupt(err) {
			return nil, fmt.Errorf("%w: %s: %v; restore it from a backup", ErrCorrupt, cfg.SQLitePath, err)
		}
		return nil, fmt.Errorf("connect to %s: %w", cfg.Backend, err)
	}
	if db.backend == SQLite {
		if err := db.quickCheck(ctx, cfg.SQLitePath, cfg.QuickCheckTimeout); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.backend == SQLite {
		if err := db.PrepareHot(ctx, qSavepoint, qRollbackSavepoint, qReleaseSavepoint); err != nil {
			db.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	return db, nil
}

// SQLiteDSN is the modernc.org/sqlite DSN store.Open uses for the database
// file at path, for its single writer connection (writer) or its readers;
// benchmarks open their raw baselines with it, so both run on the same
// settings. Every connection runs in WAL
// mode with synchronous=FULL: a commit returns only after the WAL is synced.
// temp_store=MEMORY keeps the savepoint sub-journal of a group commit in
// memory instead of a temporary file; the sub-journal only serves rolling
// back a savepoint inside an open transaction and plays no part in crash
// recovery, so durability is unchanged. wal_autocheckpoint(10000) copies
// the WAL into the database every 10,000 pages (40 MB) instead of SQLite's
// 1,000: a group commit of 64 transfers writes ~200 pages, so the default
// checkpointed every few commits, on the committer's path, copying the same
// hot balance and index pages again each time; commits stay synced to the
// WAL either way (bench/transfers: 1.17x transfers/s).
func SQLiteDSN(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Backend reports the engine in use.
func (db *DB) Backend() Backend { return db.backend }

// Close closes every connection.
func (db *DB) Close() error {
	var errs []error
	db.closeHot()
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	if db.reader != nil && db.reader != db.writer {
		errs = append(errs, db.reader.Close())
	}
	return errors.Join(errs...)
}

// Tx is a database transaction carrying the store's typed queries.
type Tx struct {
	tx      *sql.Tx
	backend Backend
	// conn is the connection a PostgreSQL write transaction runs on (see
	// Pgx); nil otherwise.
	conn *sql.Conn
	// hot is the store's prepared statements, set only for SQLite write
	// transactions; txStmts are those bound to this transaction so far.
	hot     map[string]*sql.Stmt
	txStmts map[string]*sql.Stmt
}

// maxAttempts bounds retries of a write transaction that failed with a
// transient error (deadlock, serialization failure, busy database).
const maxAttempts = 8

// Write runs fn in a read-write transaction and commits it. A transaction
// that fails with a transient error (PostgreSQL deadlock or serialization
// failure, SQLite busy) is rolled back and fn is run again, so fn must not
// have effects outside the transaction. Any error from fn rolls back.
// If ctx carries a Fence (WithFence), it runs first inside the transaction
// and its error refuses the write.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	if err := db.Corrupt(); err != nil {
		return err
	}
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = db.runTx(ctx, db.writer, false, fn)
		db.noteCorruption(err)
		if err == nil || !IsTransient(err) {
			return err
		}
		db.log.Debug("retrying transaction", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt*attempt) * time.Millisecond):
		}
	}
	return fmt.Errorf("transaction failed after %d attempts: %w", maxAttempts, err)
}

// Read runs fn in a read-only transaction that sees one consistent snapshot
// of the database (REPEATABLE READ on PostgreSQL; a WAL read snapshot on
// SQLite).
func (db *DB) Read(ctx context.Context, fn func(*Tx) error) error {
	err := db.runTx(ctx, db.reader, true, fn)
	db.noteCorruption(err)
	return err
}

func (db *DB) runTx(ctx context.Context, pool *sql.DB, readOnly bool, fn func(*Tx) error) error {
	opts := &sql.TxOptions{}
	if db.backend == Postgres && readOnly {
		opts = &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	var (
		conn *sql.Conn
		tx   *sql.Tx
		err  error
	)
	if db.backend == Postgres && !readOnly {
		// A write transaction keeps hold of its connection, so that Pgx
		// can reach the driver's.
		if conn, err = pool.Conn(ctx); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		defer conn.Close()
		tx, err = conn.BeginTx(ctx, opts)
	} else {
		tx, err = pool.BeginTx(ctx, opts)
	}
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &Tx{tx: tx, backend: db.backend, conn: conn}
	if !readOnly {
		t.hot = db.hotMap()
		if fence := FenceOf(ctx); fence != nil {
			if err := fence(ctx, t); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
	}
	if err := fn(t); err != nil {
		_ = tx.Rollback()
		return err
	}
	if readOnly {
		return tx.Rollback()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Savepoint runs fn inside a savepoint of the transaction: if fn fails, the
// transaction is rolled back to the state before fn and stays usable, so a
// batch of independent operations can share one commit.
func (t *Tx) Savepoint(ctx context.Context, fn func() error) error {
	// Savepoints share one name: SQLite and PostgreSQL both resolve a name
	// to the innermost savepoint holding it, so nesting still works, and
	// the three statements can stay prepared.
	if _, err := t.exec(ctx, qSavepoint); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := t.exec(ctx, qRollbackSavepoint); rbErr != nil {
			return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
		}
		if _, relErr := t.exec(ctx, qReleaseSavepoint); relErr != nil {
			return errors.Join(err, fmt.Errorf("release savepoint: %w", relErr))
		}
		return err
	}
	if _, err := t.exec(ctx, qReleaseSavepoint); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}
