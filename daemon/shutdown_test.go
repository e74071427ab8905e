package daemon_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// holdWriteLock takes SQLite's write lock on path from a connection of its
// own (BEGIN IMMEDIATE) and returns a function that releases it. While it is
// held every write transaction of the daemon waits (busy_timeout).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatalf("connect to %s: %v", path, err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Errorf("release the write lock: %v", err)
		}
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// requireClosedAndReopen proves nothing holds the SQLite database open any
// more — SQLite checkpoints and deletes the -wal file when the last
// connection closes — and that the database reopens with its schema
// current and the given account in it.
func requireClosedAndReopen(t *testing.T, path, account string) {
	t.Helper()
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s-wal still exists after Stop (err %v): a connection was left open", path, err)
	}
	db, err := store.Open(context.Background(), store.Config{Backend: store.SQLite, SQLitePath: path}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("reopen the database after Stop: %v", err)
	}
	defer db.Close()
	err = storetest.Ledger(t, db).Read(context.Background(), func(tx ledgerrec.Tx) error {
		_, err := tx.Account(context.Background(), account)
		return err
	})
	if err != nil {
		t.Errorf("account %s is not in the reopened database: %v", account, err)
	}
}

// TestStopDrainsInFlightCalls proves graceful shutdown: a transfer that is
// in flight (its group commit held up by a lock on the database) when Stop
// begins still completes and is durable; calls made after Stop began are
// refused over gRPC and REST; and Stop closes the store.
func TestStopDrainsInFlightCalls(t *testing.T) {
	n := startNode(t, store.SQLite)
	n.fundedReserves()
	n.createAsset("KSH")
	a, _ := n.createAccount("a")
	b, _ := n.createAccount("b")
	n.mint("KSH", a, 100)
	dbPath := n.cfg.StoreConfig().SQLitePath
	restAddr := n.d.RESTAddr()

	release := holdWriteLock(t, dbPath)
	type result struct {
		resp *koshv1.TransferResponse
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := n.issuer.Transfer(ctx(t, n.admin), &koshv1.TransferRequest{Asset: "KSH",
			FromAccountId: a, ToAccountId: b, Amount: 7, IdempotencyKey: newKey("drain")})
		inflight <- result{resp, err}
	}()
	// Let the call reach the ledger and wait on the lock.
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-inflight:
		t.Fatalf("transfer finished while the database was locked: %v %v", r.resp, r.err)
	default:
	}

	stopped := make(chan error, 1)
	stopBegan := time.Now()
	go func() {
		n.stopped.Store(true) // the test stops the node itself
		stopped <- n.d.Stop()
	}()

	// New calls on the open connection are refused while the transfer is
	// still in flight.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := n.issuer.GetSupply(ctx(t, n.admin), &koshv1.GetSupplyRequest{Asset: "KSH"})
		if status.Code(err) == codes.Unavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a call made after Stop began was not refused: got %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// New connections are refused too, gRPC and REST.
	if c, err := net.DialTimeout("tcp", n.d.RPCAddr(), time.Second); err == nil {
		c.Close()
		t.Error("the gRPC listener still accepts connections after Stop began")
	}
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("https://" + restAddr + "/v1/assets"); err == nil {
		resp.Body.Close()
		t.Error("the REST listener still answers after Stop began")
	}
	// Keep the call in flight well past the moment Stop began, so that
	// only a drain (not a race with a hard stop) lets it finish.
	time.Sleep(time.Until(stopBegan.Add(time.Second)))
	select {
	case r := <-inflight:
		t.Fatalf("the in-flight transfer ended before the lock was released: %v %v", r.resp, r.err)
	case err := <-stopped:
		t.Fatalf("Stop returned with a call still in flight: %v", err)
	default:
	}

	release()
	select {
	case r := <-inflight:
		if r.err != nil {
			t.Fatalf("the in-flight transfer failed during shutdown: %v", r.err)
		}
		if r.resp.Entry.GetDebitBalanceAfter() != 93 || r.resp.Entry.GetCreditBalanceAfter() != 7 {
			t.Errorf("in-flight transfer entry: %v", r.resp.Entry)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the in-flight transfer did not complete after the lock was released")
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("Stop did not return")
	}
	n.conn.Close()

	requireClosedAndReopen(t, dbPath, b)
	db, err := store.Open(context.Background(), store.Config{Backend: store.SQLite, SQLitePath: dbPath}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = storetest.Ledger(t, db).Read(context.Background(), func(tx ledgerrec.Tx) error {
		asset, err := tx.AssetByCode(context.Background(), "KSH")
		if err != nil {
			return err
		}
		if bal, err := tx.Balance(context.Background(), b, asset.ID); err != nil || bal != 7 {
			t.Errorf("b's balance after restart: %d %v, want 7 (the drained transfer is durable)", bal, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestRunStopsOnSIGTERM proves the path cmd/koshd takes: daemon.Run under
// signal.NotifyContext returns cleanly on SIGTERM, having closed the store.
func TestRunStopsOnSIGTERM(t *testing.T) {
	cfg := newConfig(t, store.SQLite)
	cfg.RPCListen, cfg.RESTListen = freePort(t), freePort(t)
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- daemon.Run(sigCtx, cfg, slog.New(slog.DiscardHandler)) }()

	// Wait until koshd serves, then create an account so the store has
	// something to keep.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", cfg.RPCListen, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-ran:
			t.Fatalf("Run returned before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("koshd did not start listening")
		}
		time.Sleep(50 * time.Millisecond)
	}
	creds, err := credentials.NewClientTLSFromFile(cfg.TLSCertPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(cfg.RPCListen, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := os.ReadFile(cfg.MacaroonPath("admin"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := koshv1.NewIssuerServiceClient(conn).CreateAccount(ctx(t, hex.EncodeToString(mac)),
		&koshv1.CreateAccountRequest{Label: "survivor"})
	conn.Close()
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	acct := resp.Account.Id

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after SIGTERM")
	}
	requireClosedAndReopen(t, cfg.StoreConfig().SQLitePath, acct)
}

// TestStopWithUnreachableChain proves SIGTERM-style Stop returns promptly
// while the chain backend is unreachable (it took 15-19 s: rpcclient's
// Connect sleeps 5 s after each failed dial and cannot be interrupted).
func TestStopWithUnreachableChain(t *testing.T) {
	cfg := newConfig(t, store.SQLite)
	cert := filepath.Join(t.TempDir(), "rpc.cert")
	if err := os.WriteFile(cert, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Chain.Backend = "btcd"
	cfg.Chain.RPCHost = freePort(t)
	cfg.Chain.RPCCert = cert
	cfg.Chain.PollInterval = 50 * time.Millisecond
	d, err := daemon.Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // several failed connection attempts
	start := time.Now()
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Stop took %s with the chain backend unreachable; want well under 2 s", took)
	}
}
