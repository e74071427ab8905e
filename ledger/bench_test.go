package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// Benchmarks of the ledger on a store opened as koshd opens it (store.Open;
// SQLite: WAL, synchronous=FULL, one writer), 1000 accounts, transfers of 1
// between random distinct accounts with fresh idempotency keys, on each
// engine (sub-benchmarks sqlite and postgres). Run them with a fixed count
// so the setup happens once:
//
//	go test -run '^$' -bench . -benchtime 20000x ./ledger/
//
// On PostgreSQL they also report round-trips/op: the statements (each one
// round trip to the server; BEGIN and COMMIT included) per transfer.
// BenchmarkDurableInsert is their baseline on the same disk and settings.
const benchAccounts = 1000

// roundTrips counts the statements a pgx connection sends, and the
// commits among them.
type roundTrips struct{ n, commits atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	if strings.EqualFold(d.SQL, "commit") {
		r.commits.Add(1)
	}
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// benchLedger opens a store of backend, creates the BENCH asset and returns
// the ledger, not started, with the accounts to create and fund through
// seed, and on PostgreSQL the counter of its round trips (nil on SQLite).
func benchLedger(b *testing.B, backend store.Backend) (*Ledger, *roundTrips, func()) {
	b.Helper()
	ctx := context.Background()
	cfg := storetest.Config(b, backend)
	var rt *roundTrips
	if backend == store.Postgres {
		pc, err := pgx.ParseConfig(cfg.PostgresDSN)
		if err != nil {
			b.Fatal(err)
		}
		rt = &roundTrips{}
		pc.Tracer = rt
		cfg.PostgresDSN = stdlib.RegisterConnConfig(pc)
	}
	db, err := store.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	l := New(storetest.Ledger(b, db), allowAll{}, Config{})
	if _, err := l.CreateAsset(ctx, Asset{Code: "BENCH", Name: "bench", Peg: PegSat}); err != nil {
		db.Close()
		b.Fatal(err)
	}
	return l, rt, func() { db.Close() }
}

// eachBackend runs fn as a sub-benchmark per engine.
func eachBackend(b *testing.B, fn func(b *testing.B, backend store.Backend)) {
	for _, backend := range storetest.Backends {
		b.Run(string(backend), func(b *testing.B) { fn(b, backend) })
	}
}

// createAccounts creates benchAccounts accounts, calls fund with each, and
// returns their ids.
func createAccounts(b *testing.B, l *Ledger, fund func(i int, id string)) []string {
	b.Helper()
	ids := make([]string, benchAccounts)
	for i := range ids {
		a, err := l.CreateAccount(context.Background(), "bench", "")
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = a.ID
		fund(i, a.ID)
	}
	return ids
}

// randomPair returns two distinct account indexes.
func randomPair(rng *rand.Rand) (from, to int) {
	from = rng.IntN(benchAccounts)
	to = rng.IntN(benchAccounts - 1)
	if to >= from {
		to++
	}
	return from, to
}

// BenchmarkTransfer drives Ledger.Transfer from 64 goroutines, as
// bench/transfers does through gRPC, and reports durable transfers/s and
// CPU per transfer (on PostgreSQL also round trips per transfer and
// transfers per commit: the batch size group commit reaches).
func BenchmarkTransfer(b *testing.B) { eachBackend(b, benchTransfer) }

func benchTransfer(b *testing.B, backend store.Backend) {
	const clients = 64
	ctx := context.Background()
	l, rt, closeDB := benchLedger(b, backend)
	defer closeDB()
	l.Start()
	defer l.Stop()
	ids := createAccounts(b, l, func(i int, id string) {
		if _, err := l.Mint(ctx, Transfer{Scope: IssuerScope, IdempotencyKey: "seed-" + strconv.Itoa(i),
			Asset: "BENCH", To: id, Amount: 1_000_000_000}); err != nil {
			b.Fatal(err)
		}
	})

	var next atomic.Int64
	var failed atomic.Pointer[error] // the first error, if any
	var wg sync.WaitGroup
	b.ResetTimer()
	rt0, c0 := rt.count(), rt.commitCount()
	cpu0 := processCPU()
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				from, to := randomPair(rng)
				_, err := l.Transfer(ctx, Transfer{Scope: IssuerScope, IdempotencyKey: "t-" + strconv.FormatInt(n, 10),
					Asset: "BENCH", From: ids[from], To: ids[to], Amount: 1})
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	trips, commits := rt.count()-rt0, rt.commitCount()-c0
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "transfers/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if rt != nil {
		b.ReportMetric(float64(trips)/float64(b.N), "round-trips/op")
		b.ReportMetric(float64(b.N)/float64(commits), "transfers/commit")
	}
	rep, err := l.Supply(ctx, "BENCH")
	if err != nil || !rep.Consistent() {
		b.Fatalf("supply after the run: %+v, %v", rep, err)
	}
}

// BenchmarkCommitBatch measures the committer's serial path alone: batches
// of 64 transfers applied and durably committed by commitBatch from one
// goroutine, with no queueing or scheduling around it. ns/op is per
// transfer; it is the ceiling on transfers/s the committer allows.
func BenchmarkCommitBatch(b *testing.B) {
	eachBackend(b, func(b *testing.B, backend store.Backend) {
		benchCommitBatch(b, backend, func(int) int64 { return 1_000_000_000 }, randomPair)
	})
}

// BenchmarkCommitBatchHolderChurn is BenchmarkCommitBatch with every
// transfer moving a whole balance of 1 to an account that holds nothing:
// each one takes a holder from the asset and gives it another, the worst
// case for the holders count the store keeps (two more UPDATEs of the
// asset row per transfer; a transfer between holders runs none). Compare
// its cpu-ns/op with BenchmarkCommitBatch's.
func BenchmarkCommitBatchHolderChurn(b *testing.B) {
	eachBackend(b, benchHolderChurn)
}

func benchHolderChurn(b *testing.B, backend store.Backend) {
	// Even accounts hold 1, odd ones nothing; holds[i] says which.
	holds := make([]bool, benchAccounts)
	mint := func(i int) int64 {
		if i%2 != 0 {
			return 0
		}
		holds[i] = true
		return 1
	}
	pick := func(rng *rand.Rand) (from, to int) {
		from, to = randomPair(rng)
		for !holds[from] || holds[to] {
			from, to = randomPair(rng)
		}
		holds[from], holds[to] = false, true
		return from, to
	}
	benchCommitBatch(b, backend, mint, pick)
}

// benchCommitBatch creates the accounts and mints mint(i) to account i
// (nothing for 0), then times b.N transfers of 1 between the accounts pick
// names, fed to commitBatch directly 64 at a time, failing the benchmark if
// any job fails; it reports the CPU time per transfer (and on PostgreSQL
// the round trips).
func benchCommitBatch(b *testing.B, backend store.Backend, mint func(i int) int64, pick func(rng *rand.Rand) (from, to int)) {
	const batch = 64
	ctx := context.Background()
	l, rt, closeDB := benchLedger(b, backend)
	defer closeDB()
	jobs := make([]*job, 0, batch)
	run := func() {
		l.commitBatch(jobs)
		for _, j := range jobs {
			if j.err != nil {
				b.Fatal(j.err)
			}
		}
		jobs = jobs[:0]
	}
	add := func(kind Kind, r Transfer) {
		r.Scope = IssuerScope
		jobs = append(jobs, &job{ctx: ctx, kind: kind, req: r, hash: r.requestHash(kind), done: make(chan struct{})})
		if len(jobs) == batch {
			run()
		}
	}
	ids := createAccounts(b, l, func(i int, id string) {
		if amount := mint(i); amount > 0 {
			add(KindMint, Transfer{IdempotencyKey: "seed-" + strconv.Itoa(i), Asset: "BENCH", To: id, Amount: amount})
		}
	})
	run()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	rt0 := rt.count()
	cpu0 := processCPU()
	for n := 0; n < b.N; n++ {
		from, to := pick(rng)
		add(KindTransfer, Transfer{IdempotencyKey: "t-" + strconv.Itoa(n), Asset: "BENCH", From: ids[from], To: ids[to], Amount: 1})
	}
	run()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if rt != nil {
		b.ReportMetric(float64(rt.count()-rt0)/float64(b.N), "round-trips/op")
	}
}

// BenchmarkDurableInsert is the baseline for the others on the same disk:
// one-row inserts of a journal-like row, each committed durably in its own
// transaction, on the store's SQLite settings (store.SQLiteDSN).
func BenchmarkDurableInsert(b *testing.B) {
	db, err := sql.Open("sqlite", store.SQLiteDSN(filepath.Join(b.TempDir(), "raw.db"), true))
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

// count is how many statements were sent (0 for a nil counter: SQLite).
func (r *roundTrips) count() int64 {
	if r == nil {
		return 0
	}
	return r.n.Load()
}

// commitCount is how many commits were sent (0 for a nil counter).
func (r *roundTrips) commitCount() int64 {
	if r == nil {
		return 0
	}
	return r.commits.Load()
}

// processCPU is the CPU time (user + system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
