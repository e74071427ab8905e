package itest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/itest/harness/proc"
)

// pgCluster is a PostgreSQL cluster of the test's own, made with initdb on
// a free loopback port, so that the test can stop and restart it without
// touching the shared one (127.0.0.1:5432).
type pgCluster struct {
	t        testing.TB
	bin      string // the directory holding initdb, pg_ctl, postgres
	dir      string
	data     string
	port     int
	cred     *syscall.Credential // run as the postgres user when we are root
	logPath  string
	running  bool
	Restarts int
}

// pgBinDir finds PostgreSQL's server binaries (Debian installs them under
// /usr/lib/postgresql/<version>/bin), the newest version first.
func pgBinDir(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	t.Fatal("no initdb found (under /usr/lib/postgresql/*/bin or on PATH): install the PostgreSQL server package")
	return ""
}

// newPGCluster creates and starts a cluster (trust authentication, user
// postgres, loopback only, fsync on); it is stopped when the test ends.
func newPGCluster(t testing.TB) *pgCluster {
	t.Helper()
	c := &pgCluster{t: t, bin: pgBinDir(t)}
	dir, err := os.MkdirTemp("", "kosh-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c.dir, c.data, c.logPath = dir, filepath.Join(dir, "data"), filepath.Join(dir, "postgres.log")
	if err := os.Mkdir(c.data, 0o700); err != nil {
		t.Fatal(err)
	}
	// initdb and postgres refuse to run as root: run them as postgres.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and no postgres user to run initdb as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, p := range []string{dir, c.data} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if c.port, err = proc.FreePort(); err != nil {
		t.Fatal(err)
	}
	c.run("initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "--no-instructions", "-E", "UTF8")
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = on\nsynchronous_commit = on\nmax_connections = 100\n", c.port, dir)
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(conf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c.start()
	t.Cleanup(func() {
		if c.running {
			c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop")
		}
		if t.Failed() {
			t.Logf("postgres log (tail):\n%s", tail(c.logPath, 3000))
		}
	})
	return c
}

// DSN is the connection string of the cluster's postgres database.
func (c *pgCluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

func (c *pgCluster) run(name string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (c *pgCluster) start() {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.data, "-l", c.logPath, "-w", "-t", "60", "start")
	c.running = true
}

// restart stops the cluster (fast: open transactions are rolled back and
// every connection closed), leaves it down for down, and starts it again.
func (c *pgCluster) restart(down time.Duration) {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop")
	c.running = false
	time.Sleep(down)
	c.start()
	c.Restarts++
}
