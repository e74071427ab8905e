package ledger

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// BenchmarkCommitBatch measures the committer's serial path alone: batches
// of 64 transfers (1000 accounts, amount 1, random distinct accounts, fresh
// keys) applied and durably committed by commitBatch on a SQLite file store,
// from one goroutine, with no queueing or scheduling around it. ns/op is per
// transfer; it is the ceiling on transfers/s the committer allows.
func BenchmarkCommitBatch(b *testing.B) {
	const (
		accounts = 1000
		batch    = 64
	)
	ctx := context.Background()
	// Opened as koshd opens it (store.Open with the default config for the
	// path), without the migration log lines.
	db, err := store.Open(ctx, storetest.Config(b, store.SQLite), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := New(db, allowAll{}, Config{})
	if _, err := l.CreateAsset(ctx, Asset{Code: "BENCH", Name: "bench", Peg: PegSat}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, accounts)
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
	for i := range ids {
		a, err := l.CreateAccount(ctx, "bench", "")
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = a.ID
		add(KindMint, Transfer{IdempotencyKey: "seed-" + strconv.Itoa(i), Asset: "BENCH", To: a.ID, Amount: 1_000_000_000})
	}
	run()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	cpu0 := processCPU()
	for n := 0; n < b.N; n++ {
		from := rng.IntN(accounts)
		to := rng.IntN(accounts - 1)
		if to >= from {
			to++
		}
		add(KindTransfer, Transfer{IdempotencyKey: "t-" + strconv.Itoa(n), Asset: "BENCH", From: ids[from], To: ids[to], Amount: 1})
	}
	run()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time (user + system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
