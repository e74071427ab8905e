package daemon_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/datadir"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// startErr starts a daemon that is expected to refuse, and returns why.
func startErr(t *testing.T, cfg daemon.Config) error {
	t.Helper()
	d, err := daemon.Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		d.Stop()
		t.Fatal("koshd started; want it refused")
	}
	return err
}

// TestExposedPrivateFilesRefused proves koshd refuses to start when one
// of its private files or directories is open to other users — each named
// with the chmod that fixes it — and starts once fixed.
func TestExposedPrivateFilesRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		cfg := newConfig(t, backend)
		n := startNodeWith(t, cfg)
		n.stop()
		cases := []struct {
			path string
			mode os.FileMode
		}{
			{cfg.MacaroonPath("admin"), 0o644},
			{cfg.MacaroonPath("readonly"), 0o640},
			{cfg.MacaroonPath("root") + ".key", 0o604},
			{cfg.TLSKeyPath(), 0o644},
			{cfg.AttestKeyPath(), 0o644},
			{cfg.NetworkDir(), 0o777},
			{cfg.DataDir, 0o775},
		}
		if backend == store.SQLite {
			cases = append(cases, struct {
				path string
				mode os.FileMode
			}{cfg.StoreConfig().SQLitePath, 0o644})
		}
		for _, c := range cases {
			st, err := os.Stat(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(c.path, c.mode); err != nil {
				t.Fatal(err)
			}
			err = startErr(t, cfg)
			if !errors.Is(err, datadir.ErrExposed) || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), "chmod") {
				t.Errorf("%s at %04o: %v; want it refused, naming the file and the chmod", c.path, c.mode, err)
			}
			if err := os.Chmod(c.path, st.Mode().Perm()); err != nil {
				t.Fatal(err)
			}
		}
		startNodeWith(t, cfg).stop()
	})
}

// TestNewFilesArePrivate proves what koshd creates in a fresh data
// directory is its user's alone, the SQLite database and its WAL included.
func TestNewFilesArePrivate(t *testing.T) {
	cfg := newConfig(t, store.SQLite)
	n := startNodeWith(t, cfg)

	n.fundedReserves()
	n.createAsset("KSH")
	db := cfg.StoreConfig().SQLitePath
	for _, p := range []string{db, db + "-wal", db + "-shm", cfg.MacaroonPath("admin"), cfg.TLSKeyPath(), cfg.LedgerIDPath()} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s was created %04o; want 0600", p, st.Mode().Perm())
		}
	}
}

// TestExposedWhileRunning proves a private file exposed while koshd runs
// is noticed at the next check (kosh_private_files_exposed), and cleared
// once fixed.
func TestExposedWhileRunning(t *testing.T) {
	defer daemon.SetPrivateFilesInterval(20 * time.Millisecond)()
	n := startNode(t, store.SQLite)
	exposed := func() string {
		r := n.rest(http.MethodGet, "/metrics", "", nil)
		for _, line := range strings.Split(string(r.Raw), "\n") {
			if strings.HasPrefix(line, "kosh_private_files_exposed ") {
				return strings.TrimPrefix(line, "kosh_private_files_exposed ")
			}
		}
		return ""
	}
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for exposed() != want {
			if time.Now().After(deadline) {
				t.Fatalf("kosh_private_files_exposed = %q, want %s", exposed(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("0")
	if err := os.Chmod(n.cfg.MacaroonPath("admin"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("1")
	if err := os.Chmod(n.cfg.MacaroonPath("admin"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("0")
}

// TestLostDatabaseRefused proves koshd will not start a new ledger over a
// data directory that has served one: an emptied SQLite file or a fresh
// PostgreSQL database beside the directory's ledger.id, or an empty
// database beside published attestation files, is refused, naming the
// recovery flag; the flag starts it.
func TestLostDatabaseRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		cfg := newConfig(t, backend)
		n := startNodeWith(t, cfg)
		n.fundedReserves()
		n.createAsset("KSH")
		n.stop()

		// Lose the database.
		if backend == store.SQLite {
			db := cfg.StoreConfig().SQLitePath
			os.Remove(db + "-wal")
			os.Remove(db + "-shm")
			if err := os.Truncate(db, 0); err != nil {
				t.Fatal(err)
			}
		} else {
			cfg.DB.PostgresDSN = storetest.Config(t, store.Postgres).PostgresDSN
		}
		err := startErr(t, cfg)
		if !errors.Is(err, datadir.ErrPriorLedger) || !strings.Contains(err.Error(), "--allownewledger") {
			t.Fatalf("empty database beside ledger.id: %v; want ErrPriorLedger naming --allownewledger", err)
		}

		// Without ledger.id (a directory from before identities), the
		// published attestations are the evidence.
		if err := os.Remove(cfg.LedgerIDPath()); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(cfg.AttestDir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg.AttestDir(), "000001-00ab.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		err = startErr(t, cfg)
		if !errors.Is(err, datadir.ErrPriorLedger) || !strings.Contains(err.Error(), "000001-00ab.json") {
			t.Fatalf("empty database beside attestation files: %v", err)
		}

		cfg.AllowNewLedger = true
		startNodeWith(t, cfg).stop()
		cfg.AllowNewLedger = false
		startNodeWith(t, cfg).stop() // bound now: starts without the flag
	})
}

// TestOtherLedgersDatabaseRefused proves a data directory pointed at
// another ledger's database is refused.
func TestOtherLedgersDatabaseRefused(t *testing.T) {
	a, b := newConfig(t, store.Postgres), newConfig(t, store.Postgres)
	startNodeWith(t, a).stop()
	startNodeWith(t, b).stop()
	a.DB.PostgresDSN = b.DB.PostgresDSN
	err := startErr(t, a)
	if !errors.Is(err, datadir.ErrPriorLedger) || !strings.Contains(err.Error(), "is ledger") {
		t.Fatalf("another ledger's database: %v", err)
	}
}
