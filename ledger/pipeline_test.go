package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// failingCommit is a ledgerrec.Store whose next write transaction to
// finish its work once armed fails after fn returned nil, as a failed
// commit would: fault injection around the real PostgreSQL store.
type failingCommit struct {
	ledgerrec.Store
	armed atomic.Bool
}

var errInjected = errors.New("injected commit failure")

func (s *failingCommit) Write(ctx context.Context, fn func(ledgerrec.Tx) error) error {
	return s.Store.Write(ctx, func(tx ledgerrec.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.armed.CompareAndSwap(true, false) {
			return errInjected
		}
		return nil
	})
}

// TestPipelinedFailure: when a pipelined batch's transaction fails, the
// batch launched after it, which decided from the failed batch's figures
// (and may have written while it was committing), rolls back, and both
// are applied again one after the other: every good job of both commits
// with the balances a serial order gives, a job the database refuses alone
// fails, and the journal's chain verifies (Freeze). The first batch fails
// in its write (a memo PostgreSQL cannot store: the next batch never
// starts deciding) or at its commit (injected, after the next batch
// decided from it and wrote, waiting on its row locks).
func TestPipelinedFailure(t *testing.T) {
	for _, atCommit := range []bool{false, true} {
		name := "write"
		if atCommit {
			name = "commit"
		}
		t.Run(name, func(t *testing.T) { testPipelinedFailure(t, atCommit) })
	}
}

func testPipelinedFailure(t *testing.T, atCommit bool) {
	ctx := context.Background()
	db := &failingCommit{Store: storetest.Ledger(t, storetest.Open(t, store.Postgres))}
	l, ids := testLedger(t, db, Config{SingleWriter: true}, 4)
	alice, bob, carol, dave := ids[0], ids[1], ids[2], ids[3]
	mk := func(kind Kind, r Transfer) *job { return batchJob(ctx, kind, r) }
	seed := []*job{mk(KindMint, Transfer{IdempotencyKey: "m", Asset: "KSH", To: alice, Amount: 100}),
		mk(KindMint, Transfer{IdempotencyKey: "md", Asset: "KSH", To: dave, Amount: 50})}
	l.commitBatch(seed)
	for _, j := range seed {
		if j.err != nil {
			t.Fatal(j.err)
		}
	}
	memo := "nul\x00"
	if atCommit {
		memo = ""
		// The first batch finishes first: the second waits for it.
		db.armed.Store(true)
	}
	first := []*job{
		mk(KindTransfer, Transfer{IdempotencyKey: "a1", Asset: "KSH", From: alice, To: bob, Amount: 10}),
		mk(KindTransfer, Transfer{IdempotencyKey: "bad", Asset: "KSH", From: alice, To: carol, Amount: 1, Memo: memo}),
		mk(KindTransfer, Transfer{IdempotencyKey: "a2", Asset: "KSH", From: alice, To: bob, Amount: 5}),
	}
	second := []*job{
		// A run of one, written at once (alice's row is the first batch's
		// to release; dave's it does not touch) ...
		mk(KindTransfer, Transfer{IdempotencyKey: "d1", Asset: "KSH", From: dave, To: alice, Amount: 2}),
		// ... a replay of a key the first batch used, which waits for it ...
		mk(KindTransfer, Transfer{IdempotencyKey: "a1", Asset: "KSH", From: alice, To: bob, Amount: 10}),
		// ... and bob's row, which the first batch inserts.
		mk(KindTransfer, Transfer{IdempotencyKey: "b1", Asset: "KSH", From: bob, To: carol, Amount: 3}),
		mk(KindTransfer, Transfer{IdempotencyKey: "b2", Asset: "KSH", From: alice, To: carol, Amount: 7}),
	}
	f := l.launch(first, nil)
	g := l.launch(second, f)
	if g = l.land(f, g); g != nil {
		t.Fatal("the batch after a failed one was landed as committed")
	}
	for i, j := range append(first, second...) {
		<-j.done
		if (j.err != nil) != (i == 1 && !atCommit) {
			t.Errorf("job %d (%s): %+v, %v", i, j.req.IdempotencyKey, j.entry, j.err)
		}
	}
	if e := second[1].entry; !e.Replayed || e.Seq != first[0].entry.Seq {
		t.Errorf("a1 again: %+v, want the replay of %+v", e, first[0].entry)
	}
	// With the commit failing, the "bad" job is good: alice pays carol 1.
	var paid int64
	if atCommit {
		paid = 1
	}
	if e := second[3].entry; e.DebitBalanceAfter != 80-paid || e.CreditBalanceAfter != 10+paid {
		t.Errorf("b2: %+v, want alice %d, carol %d", e, 80-paid, 10+paid)
	}
	for id, want := range map[string]int64{alice: 80 - paid, bob: 12, carol: 10 + paid, dave: 48} {
		_, bals, err := l.Account(ctx, id)
		if err != nil || len(bals) != 1 || bals[0].Amount != want {
			t.Errorf("account %s: %+v, %v; want %d", id, bals, err, want)
		}
	}
	if rep, err := l.Supply(ctx, "KSH"); err != nil || !rep.Consistent() || rep.Holders != 4 {
		t.Errorf("supply: %+v, %v", rep, err)
	}
	if _, err := l.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
}

// lostAck is a ledgerrec.Store whose next write transaction once armed
// commits but reports a failure, as a COMMIT whose answer the connection
// lost would: the caller cannot tell whether it landed.
type lostAck struct {
	ledgerrec.Store
	armed atomic.Bool
}

var errLostAck = errors.New("injected: connection lost after COMMIT was sent")

// Pipelined passes the wrapped store's answer on, so that the ledger
// pipelines its commits over lostAck as it would over the store.
func (s *lostAck) Pipelined() bool {
	bs, ok := s.Store.(ledgerrec.BatchStore)
	return ok && bs.Pipelined()
}

func (s *lostAck) Write(ctx context.Context, fn func(ledgerrec.Tx) error) error {
	if err := s.Store.Write(ctx, fn); err != nil {
		return err
	}
	if s.armed.CompareAndSwap(true, false) {
		return errLostAck
	}
	return nil
}

// TestLostCommitAnswer: a transfer that committed although its COMMIT
// reported a failure lands once (its retry replays it),
// and the chain head the ledger keeps in memory (one writer on its database)
// follows what the database holds, so later entries chain onto the last
// one that landed and the journal verifies (Freeze). With the pipelined
// path (PostgreSQL) and the per-batch path (SQLite).
func TestLostCommitAnswer(t *testing.T) {
	for _, b := range []store.Backend{store.SQLite, store.Postgres} {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			db := &lostAck{Store: storetest.Ledger(t, storetest.Open(t, b))}
			l, ids := testLedger(t, db, Config{SingleWriter: true}, 2)
			l.Start()
			defer l.Stop()
			if _, err := l.Mint(ctx, Transfer{Scope: IssuerScope, IdempotencyKey: "m", Asset: "KSH", To: ids[0], Amount: 100}); err != nil {
				t.Fatal(err)
			}
			db.armed.Store(true)
			t1 := Transfer{Scope: IssuerScope, IdempotencyKey: "t1", Asset: "KSH", From: ids[0], To: ids[1], Amount: 10}
			// The ledger answers with an error (the client retries), or
			// with the entry that landed, found by applying the batch again.
			if e, err := l.Transfer(ctx, t1); err == nil && e.DebitBalanceAfter != 90 {
				t.Fatalf("the transfer whose commit answer was lost: %+v", e)
			}
			// The client retries with its key: the transfer landed once.
			if e, err := l.Transfer(ctx, t1); err != nil || !e.Replayed || e.DebitBalanceAfter != 90 {
				t.Fatalf("the retried transfer: %+v, %v; want the replay of the one that landed", e, err)
			}
			for i := range 3 {
				if _, err := l.Transfer(ctx, Transfer{Scope: IssuerScope, IdempotencyKey: fmt.Sprintf("t%d", i+2),
					Asset: "KSH", From: ids[0], To: ids[1], Amount: 1}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := l.Freeze(ctx); err != nil {
				t.Fatalf("the journal after a lost commit answer: %v", err)
			}
		})
	}
}

// TestLockedOverlapFailure: sharing its database (no Config.SingleWriter),
// a batch starts beside the one before it and waits at the journal's
// append lock (launchLocked). When the first fails at its commit, the
// second, which reads everything after the first ended, commits on its
// own and keeps its outcomes; the first's jobs are applied again beside
// it, each exactly once (a key both used lands once), and the chain
// verifies.
func TestLockedOverlapFailure(t *testing.T) {
	ctx := context.Background()
	db := &failingCommit{Store: storetest.Ledger(t, storetest.Open(t, store.Postgres))}
	l, ids := testLedger(t, db, Config{}, 3)
	alice, bob, carol := ids[0], ids[1], ids[2]
	mk := func(kind Kind, r Transfer) *job { return batchJob(ctx, kind, r) }
	seed := []*job{mk(KindMint, Transfer{IdempotencyKey: "m", Asset: "KSH", To: alice, Amount: 100})}
	l.commitBatch(seed)
	if seed[0].err != nil {
		t.Fatal(seed[0].err)
	}
	first := []*job{
		mk(KindTransfer, Transfer{IdempotencyKey: "a1", Asset: "KSH", From: alice, To: bob, Amount: 10}),
		mk(KindTransfer, Transfer{IdempotencyKey: "a2", Asset: "KSH", From: alice, To: carol, Amount: 5}),
	}
	second := []*job{
		mk(KindTransfer, Transfer{IdempotencyKey: "a3", Asset: "KSH", From: alice, To: carol, Amount: 7}),
		// The same key as the first batch's: whichever commits first
		// applies it, the other replays it.
		mk(KindTransfer, Transfer{IdempotencyKey: "a1", Asset: "KSH", From: alice, To: bob, Amount: 10}),
	}
	db.armed.Store(true)
	f := l.launchLocked(first)
	<-f.planned
	g := l.launchLocked(second)
	if next := l.land(f, g); next != g {
		t.Fatal("the batch after a failed one was not left to land on its own")
	}
	if next := l.land(g, nil); next != nil {
		t.Fatal("land returned a batch after the last one")
	}
	for _, j := range append(first, second...) {
		<-j.done
		if j.err != nil {
			t.Fatalf("job %s: %v", j.req.IdempotencyKey, j.err)
		}
	}
	if first[1].entry.Replayed || second[0].entry.Replayed {
		t.Errorf("a2 and a3, each used once, answer with replays: %+v, %+v", first[1].entry, second[0].entry)
	}
	// a1 landed once: one of its two jobs applied it, the other replays
	// that entry.
	a, b := first[0].entry, second[1].entry
	if a.Replayed == b.Replayed || a.Seq != b.Seq {
		t.Errorf("a1 in both batches: %+v and %+v, want one entry and its replay", a, b)
	}
	for id, want := range map[string]int64{alice: 78, bob: 10, carol: 12} {
		_, bals, err := l.Account(ctx, id)
		if err != nil || len(bals) != 1 || bals[0].Amount != want {
			t.Errorf("account %s: %+v, %v; want %d", id, bals, err, want)
		}
	}
	if _, err := l.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
}

// testLedger returns a ledger on db with the sat-pegged asset KSH (mints
// capped at 1000) and n accounts, and their ids.
func testLedger(t *testing.T, db ledgerrec.Store, cfg Config, n int) (*Ledger, []string) {
	t.Helper()
	ctx := context.Background()
	l := New(db, capMint(1000), cfg)
	if _, err := l.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		a, err := l.CreateAccount(ctx, "x", "")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return l, ids
}

// batchJob makes the committer's job for an issuer call of kind.
func batchJob(ctx context.Context, kind Kind, r Transfer) *job {
	r.Scope = IssuerScope
	return &job{ctx: ctx, kind: kind, req: r, hash: r.requestHash(kind), done: make(chan struct{})}
}
