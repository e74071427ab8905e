package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// damagedSQLite makes a SQLite store with a table of ~400 pages, closes it
// and overwrites the first 50 bytes of a page in the middle of the file
// (the page header and cell pointers, as a bad disk would), returning its
// path.
func damagedSQLite(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kosh.db")
	db, err := Open(ctx, Config{Backend: SQLite, SQLitePath: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.ExecContext(ctx, `CREATE TABLE pad (n INTEGER PRIMARY KEY, x TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.ExecContext(ctx, `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 4000)
		INSERT INTO pad SELECT n, printf('%0400d', n) FROM c`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	page := (st.Size() / 4096 / 2) * 4096
	junk := []byte(strings.Repeat("\xa5", 50))
	if _, err := f.WriteAt(junk, page); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestQuickCheckRefusesDamagedFile proves a damaged SQLite file is refused
// at open, before anything is written into it.
func TestQuickCheckRefusesDamagedFile(t *testing.T) {
	path := damagedSQLite(t)
	_, err := Open(context.Background(), Config{Backend: SQLite, SQLitePath: path}, nil)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("open a damaged file: %v; want ErrCorrupt naming the file", err)
	}
}

// TestDamageSeenWhileRunningStopsWrites proves the first statement that
// reports a malformed database stops every later write (and Corrupt says
// so, for the attestor), on a file whose check at open was skipped.
func TestDamageSeenWhileRunningStopsWrites(t *testing.T) {
	ctx := context.Background()
	path := damagedSQLite(t)
	db, err := Open(ctx, Config{Backend: SQLite, SQLitePath: path, QuickCheckTimeout: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Corrupt() != nil {
		t.Fatal("corrupt before any statement saw damage")
	}
	err = db.Read(ctx, func(tx *Tx) error {
		var n, l int64
		return tx.tx.QueryRowContext(ctx, `SELECT COUNT(*), SUM(LENGTH(x)) FROM pad`).Scan(&n, &l)
	})
	if !isCorrupt(err) {
		t.Fatalf("reading the damaged table: %v; want SQLITE_CORRUPT", err)
	}
	if !errors.Is(db.Corrupt(), ErrCorrupt) {
		t.Fatalf("Corrupt() = %v after a statement saw damage", db.Corrupt())
	}
	wrote := false
	err = db.Write(ctx, func(tx *Tx) error { wrote = true; return nil })
	if !errors.Is(err, ErrCorrupt) || wrote {
		t.Fatalf("a write after damage was seen: ran %v, err %v; want refused with ErrCorrupt", wrote, err)
	}
}
