package ledger_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// BenchmarkTransfer drives Ledger.Transfer from 64 goroutines on a SQLite
// file store opened as koshd opens it (WAL, synchronous=FULL, one writer),
// as bench/transfers does through gRPC: 1000 accounts, amount 1, random
// distinct accounts, a fresh idempotency key per call. It reports durable
// transfers/s. Run it with a fixed count so the setup happens once:
//
//	go test -run '^$' -bench Transfer -benchtime 20000x ./ledger/
func BenchmarkTransfer(b *testing.B) {
	const (
		accounts = 1000
		clients  = 64
	)
	ctx := context.Background()
	// Opened as koshd opens it (store.Open with the default config for the
	// path), without the migration log lines.
	db, err := store.Open(ctx, storetest.Config(b, store.SQLite), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := ledger.New(db, newGate(1<<62), ledger.Config{})
	l.Start()
	defer l.Stop()
	if _, err := l.CreateAsset(ctx, ledger.Asset{Code: "BENCH", Name: "bench", Peg: ledger.PegSat}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, accounts)
	var wg sync.WaitGroup
	var failed atomic.Pointer[error] // the first error, if any
	sem := make(chan struct{}, clients)
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			a, err := l.CreateAccount(ctx, "bench", "")
			if err == nil {
				ids[i] = a.ID
				_, err = l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "seed-" + strconv.Itoa(i),
					Asset: "BENCH", To: a.ID, Amount: 1_000_000_000})
			}
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}

	var next atomic.Int64
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				from := rng.IntN(accounts)
				to := rng.IntN(accounts - 1)
				if to >= from {
					to++
				}
				_, err := l.Transfer(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "t-" + strconv.FormatInt(n, 10),
					Asset: "BENCH", From: ids[from], To: ids[to], Amount: 1})
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "transfers/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	rep, err := l.Supply(ctx, "BENCH")
	if err != nil || !rep.Consistent() {
		b.Fatalf("supply after the run: %+v, %v", rep, err)
	}
}

// BenchmarkDurableInsert is the baseline for BenchmarkTransfer on the same
// disk: one-row inserts of a journal-like row, each committed durably in
// its own transaction with the pragmas the store uses.
func BenchmarkDurableInsert(b *testing.B) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE raw (seq INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, amount BIGINT NOT NULL, hash BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	hash := make([]byte, 32)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO raw (k, amount, hash) VALUES ($1, $2, $3)`, fmt.Sprintf("k-%d", i), i, hash); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
