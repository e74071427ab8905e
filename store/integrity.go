package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrCorrupt means the database file is damaged: SQLite's integrity check
// failed at open, or a statement reported a malformed database. Once seen,
// every write is refused until koshd is restarted on a repaired database,
// so that nothing more is committed into, or attested from, a damaged file.
var ErrCorrupt = errors.New("the database is corrupt")

// quickCheck runs SQLite's quick_check on the database within timeout
// (DefaultQuickCheckTimeout if 0; skipped if negative) and refuses a
// damaged file. Running out of time is logged, not refused: a large
// database on a slow disk must still start.
func (db *DB) quickCheck(ctx context.Context, path string, timeout time.Duration) error {
	if timeout < 0 {
		return nil
	}
	if timeout == 0 {
		timeout = DefaultQuickCheckTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	rows, err := db.writer.QueryContext(cctx, `PRAGMA quick_check(20)`)
	var found []string
	if err == nil {
		for rows.Next() {
			var line string
			if err = rows.Scan(&line); err != nil {
				break
			}
			found = append(found, line)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	switch {
	case cctx.Err() != nil && ctx.Err() == nil:
		db.log.Warn("SQLite integrity check did not finish in time; starting without it",
			"path", path, "timeout", timeout)
		return nil
	case isCorrupt(err):
		return fmt.Errorf("%w: %s: %v; restore it from a backup", ErrCorrupt, path, err)
	case err != nil:
		return fmt.Errorf("check integrity of %s: %w", path, err)
	case len(found) != 1 || found[0] != "ok":
		return fmt.Errorf("%w: %s fails SQLite's integrity check (%s); restore it from a backup",
			ErrCorrupt, path, strings.Join(found, "; "))
	}
	db.log.Debug("SQLite integrity check passed", "path", path, "took", time.Since(start))
	return nil
}

// isCorrupt reports whether err says the database file is damaged
// (SQLITE_CORRUPT or SQLITE_NOTADB, with any extended code).
func isCorrupt(err error) bool {
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
	}
	return false
}

// noteCorruption remembers the first error that says the file is damaged
// and logs it once, loudly.
func (db *DB) noteCorruption(err error) {
	if err == nil || !isCorrupt(err) {
		return
	}
	e := fmt.Errorf("%w: %v", ErrCorrupt, err)
	if db.corrupt.CompareAndSwap(nil, &e) {
		db.log.Error("THE DATABASE IS CORRUPT: koshd refuses every write and attestation from now on; "+
			"stop it, restore the database from a backup and restart", "err", err)
	}
}

// Corrupt returns an error wrapping ErrCorrupt once the database has been
// seen damaged, nil before.
func (db *DB) Corrupt() error {
	if e := db.corrupt.Load(); e != nil {
		return *e
	}
	return nil
}

// ledgerIdentity is the one row of the ledger_identity table.
const singletonRow = 1

// LedgerID returns the identity this database was given by BindLedgerID,
// or "" if it has none yet.
func (db *DB) LedgerID(ctx context.Context) (string, error) {
	var id string
	err := db.reader.QueryRowContext(ctx, `SELECT id FROM ledger_identity WHERE singleton = $1`, singletonRow).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read ledger identity: %w", err)
	}
	return id, nil
}

// BindLedgerID gives the database the identity id unless it has one
// already, and returns the identity it has: a concurrent first start of
// another koshd on the same PostgreSQL may have won.
func (db *DB) BindLedgerID(ctx context.Context, id string, now time.Time) (string, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO ledger_identity (singleton, id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (singleton) DO NOTHING`, singletonRow, id, now.UnixMicro())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("record ledger identity: %w", err)
	}
	return db.LedgerID(ctx)
}

// Empty reports whether the database holds no ledger data at all: no
// asset, account, journal entry or attestation. A database just created
// by Open is empty.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var any int
	err := db.reader.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM assets LIMIT 1) a) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM accounts LIMIT 1) b) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM journal LIMIT 1) c) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM attestations LIMIT 1) d)`).Scan(&any)
	if err != nil {
		return false, fmt.Errorf("check whether the database is empty: %w", err)
	}
	return any == 0, nil
}
