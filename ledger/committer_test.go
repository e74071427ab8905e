package ledger

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// capMint refuses a mint that would take the minted asset past cap.
type capMint int64

func (c capMint) AllowMint(_ context.Context, m MintCheck) error {
	if m.SupplyAfter > int64(c) {
		return fmt.Errorf("supply %d over cap %d", m.SupplyAfter, int64(c))
	}
	return nil
}

// TestBatchOutcomes applies one batch mixing successes, replays and every
// kind of refusal through commitBatch, on both engines, and checks each
// job's exact result: the refused jobs (some of which fail inside the
// database, e.g. a credit to an unknown account on a foreign key, or a
// replay on the journal's unique key) roll back only their own savepoint,
// the error messages and their precedence are those of the checked path,
// and the jobs after them in the same transaction commit.
func TestBatchOutcomes(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			l := New(storetest.Ledger(t, storetest.Open(t, backend)), capMint(1000), Config{})
			if _, err := l.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat}); err != nil {
				t.Fatal(err)
			}
			acct := func() string {
				a, err := l.CreateAccount(ctx, "x", "")
				if err != nil {
					t.Fatal(err)
				}
				return a.ID
			}
			alice, bob, carol := acct(), acct(), acct()
			const unknown = "6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"

			type want struct {
				err      string // exact message; "" for success
				is       error
				replayed bool
				debit    int64
				credit   int64
				supply   int64
			}
			runBatch := func(reqs []Transfer, kinds []Kind) []*job {
				t.Helper()
				batch := make([]*job, len(reqs))
				for i, r := range reqs {
					if r.Scope == "" {
						r.Scope = IssuerScope
					}
					batch[i] = &job{ctx: ctx, kind: kinds[i], req: r, hash: r.requestHash(kinds[i]), done: make(chan struct{})}
				}
				l.commitBatch(batch)
				return batch
			}
			check := func(batch []*job, wants []want) {
				t.Helper()
				for i, j := range batch {
					w := wants[i]
					if w.err != "" {
						if j.err == nil || j.err.Error() != w.err || !errors.Is(j.err, w.is) {
							t.Errorf("job %d (%s): err = %v, want %q (%v)", i, j.req.IdempotencyKey, j.err, w.err, w.is)
						}
						continue
					}
					e := j.entry
					if j.err != nil || e.Replayed != w.replayed || e.DebitBalanceAfter != w.debit ||
						e.CreditBalanceAfter != w.credit || e.SupplyAfter != w.supply {
						t.Errorf("job %d (%s): %+v, %v; want %+v", i, j.req.IdempotencyKey, e, j.err, w)
					}
				}
			}

			first := runBatch([]Transfer{
				{IdempotencyKey: "m1", Asset: "KSH", To: alice, Amount: 500},
				{IdempotencyKey: "t1", Asset: "KSH", From: alice, To: bob, Amount: 300},
			}, []Kind{KindMint, KindTransfer})
			check(first, []want{{credit: 500, supply: 500}, {debit: 200, credit: 300, supply: 500}})
			t1 := first[1].entry

			T, M, B := KindTransfer, KindMint, KindBurn
			reqs := []Transfer{
				/* 0 */ {IdempotencyKey: "a", Asset: "KSH", From: alice, To: carol, Amount: 10},
				/* 1 */ {IdempotencyKey: "b", Asset: "KSH", From: alice, To: unknown, Amount: 1},
				/* 2 */ {IdempotencyKey: "c", Asset: "KSH", From: unknown, To: bob, Amount: 1},
				/* 3 */ {IdempotencyKey: "d", Asset: "KSH", From: alice, To: unknown, Amount: 10_000},
				/* 4 */ {IdempotencyKey: "t1", Asset: "KSH", From: alice, To: bob, Amount: 300},
				/* 5 */ {IdempotencyKey: "t1", Asset: "KSH", From: alice, To: bob, Amount: 301},
				/* 6 */ {IdempotencyKey: "e", Asset: "KSH", From: carol, To: alice, Amount: 11},
				/* 7 */ {IdempotencyKey: "f", Asset: "KSH", To: unknown, Amount: 1},
				/* 8 */ {IdempotencyKey: "g", Asset: "KSH", From: unknown, Amount: 1},
				/* 9 */ {IdempotencyKey: "h", Asset: "KSH", From: bob, Amount: 600},
				/* 10 */ {IdempotencyKey: "i", Asset: "NOPE", From: alice, To: bob, Amount: 1},
				/* 11 */ {IdempotencyKey: "j", Asset: "KSH", To: bob, Amount: 501},
				/* 12 */ {IdempotencyKey: "a", Asset: "KSH", From: alice, To: carol, Amount: 10},
				/* 13 */ {IdempotencyKey: "k", Asset: "KSH", To: carol, Amount: 500},
				/* 14 */ {IdempotencyKey: "l", Asset: "KSH", From: bob, Amount: 100},
				/* 15 */ {IdempotencyKey: "m", Asset: "KSH", From: carol, To: alice, Amount: 5},
				/* 16 */ {IdempotencyKey: "n", Asset: "KSH", From: bob, To: carol, Amount: 200, Scope: AccountScope(bob)},
			}
			kinds := []Kind{T, T, T, T, T, T, T, M, B, B, T, M, T, M, B, T, T}
			batch := runBatch(reqs, kinds)
			check(batch, []want{
				/* 0 */ {debit: 190, credit: 10, supply: 500},
				/* 1 */ {err: "not found: no account " + unknown, is: ErrNotFound},
				/* 2 */ {err: "not found: no account " + unknown, is: ErrNotFound},
				/* 3 */ {err: "not found: no account " + unknown, is: ErrNotFound},
				/* 4 */ {replayed: true, debit: 200, credit: 300, supply: 500},
				/* 5 */ {err: fmt.Sprintf(`idempotency key reused: idempotency_key "t1" was already used for a different request (entry %d); use a new key for a new operation`, t1.Seq), is: ErrIdempotencyConflict},
				/* 6 */ {err: "insufficient funds: account " + carol + " holds 10 KSH, cannot debit 11", is: ErrInsufficientFunds},
				/* 7 */ {err: "not found: no account " + unknown, is: ErrNotFound},
				/* 8 */ {err: "not found: no account " + unknown, is: ErrNotFound},
				/* 9 */ {err: "insufficient funds: burning 600 exceeds the supply of KSH", is: ErrInsufficientFunds},
				/* 10 */ {err: "not found: no asset with code NOPE", is: ErrNotFound},
				/* 11 */ {err: "mint refused: supply 1001 over cap 1000", is: ErrMintRefused},
				/* 12 */ {replayed: true, debit: 190, credit: 10, supply: 500},
				/* 13 */ {credit: 510, supply: 1000},
				/* 14 */ {debit: 200, supply: 900},
				/* 15 */ {debit: 505, credit: 195, supply: 900},
				/* 16 */ {debit: 0, credit: 705, supply: 900},
			})
			if t.Failed() {
				return
			}
			// A replay is answered from the journal even when the request
			// could no longer succeed (bob now holds 0).
			again := runBatch([]Transfer{{IdempotencyKey: "t1", Asset: "KSH", From: alice, To: bob, Amount: 300}, reqs[16]}, []Kind{T, T})
			check(again, []want{{replayed: true, debit: 200, credit: 300, supply: 500}, {replayed: true, debit: 0, credit: 705, supply: 900}})

			rep, err := l.Supply(ctx, "KSH")
			if err != nil || !rep.Consistent() || rep.Supply != 900 {
				t.Fatalf("supply report %+v, %v; want consistent 900", rep, err)
			}
			for id, bal := range map[string]int64{alice: 195, bob: 0, carol: 705} {
				_, bals, err := l.Account(ctx, id)
				if err != nil || len(bals) != 1 || bals[0].Amount != bal {
					t.Errorf("account %s: %+v, %v; want %d", id, bals, err, bal)
				}
			}
			entries, err := l.Journal(ctx, JournalFilter{Limit: 100})
			if err != nil || len(entries) != 7 {
				t.Fatalf("journal: %d entries, %v; want 7", len(entries), err)
			}
		})
	}
}

// TestFailedBatchLeavesNoSupplyCache: a batch transaction that fails after
// a mint raised the supply is rolled back entirely, and the next batch's
// transfers record the supply the database holds, not the failed batch's.
func TestFailedBatchLeavesNoSupplyCache(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Ledger(t, storetest.Open(t, backend))
			l := New(db, allowAll{}, Config{})
			a, err := l.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat})
			if err != nil {
				t.Fatal(err)
			}
			x, _ := l.CreateAccount(ctx, "x", "")
			y, _ := l.CreateAccount(ctx, "y", "")
			mk := func(kind Kind, r Transfer) *job {
				r.Scope = IssuerScope
				return &job{ctx: ctx, kind: kind, req: r, hash: r.requestHash(kind), done: make(chan struct{})}
			}
			seed := mk(KindMint, Transfer{IdempotencyKey: "seed", Asset: "KSH", To: x.ID, Amount: 100})
			l.commitBatch([]*job{seed})
			if seed.err != nil {
				t.Fatal(seed.err)
			}
			boom := errors.New("disk on fire")
			err = db.Write(ctx, func(tx ledgerrec.Tx) error {
				if s, err := tx.Supply(ctx, a.ID); err != nil || s != 100 {
					t.Fatalf("supply = %d, %v", s, err)
				}
				if _, err := tx.AddSupply(ctx, a.ID, 50); err != nil {
					t.Fatal(err)
				}
				if s, err := tx.Supply(ctx, a.ID); err != nil || s != 150 {
					t.Fatalf("supply after mint in tx = %d, %v", s, err)
				}
				// A refused operation's savepoint rolls its supply change back.
				err := tx.Savepoint(ctx, func() error {
					if _, err := tx.AddSupply(ctx, a.ID, 7); err != nil {
						return err
					}
					return boom
				})
				if !errors.Is(err, boom) {
					t.Fatal(err)
				}
				if s, err := tx.Supply(ctx, a.ID); err != nil || s != 150 {
					t.Fatalf("supply after rolled-back savepoint = %d, %v; want 150", s, err)
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			tr := mk(KindTransfer, Transfer{IdempotencyKey: "t", Asset: "KSH", From: x.ID, To: y.ID, Amount: 1})
			l.commitBatch([]*job{tr})
			if tr.err != nil || tr.entry.SupplyAfter != 100 {
				t.Fatalf("transfer after failed batch: %+v, %v; want supply_after 100", tr.entry, tr.err)
			}
		})
	}
}

// TestBatchJobErrorIsItsOwn puts a job that the database itself refuses
// (PostgreSQL cannot store NUL in text; the ledger's own validation, which
// the committer does not repeat, normally stops it at the edge) between two
// good jobs of one batch: the bad job gets its error and its neighbours
// commit, instead of the whole batch failing with it.
func TestBatchJobErrorIsItsOwn(t *testing.T) {
	ctx := context.Background()
	l := New(storetest.Ledger(t, storetest.Open(t, store.Postgres)), capMint(1000), Config{})
	if _, err := l.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat}); err != nil {
		t.Fatal(err)
	}
	alice, err := l.CreateAccount(ctx, "a", "")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := l.CreateAccount(ctx, "b", "")
	if err != nil {
		t.Fatal(err)
	}
	reqs := []Transfer{
		{IdempotencyKey: "m1", Asset: "KSH", To: alice.ID, Amount: 100},
		{IdempotencyKey: "bad", Asset: "KSH", To: bob.ID, Amount: 5, Memo: "nul\x00here"},
		{IdempotencyKey: "m2", Asset: "KSH", To: bob.ID, Amount: 7},
	}
	batch := make([]*job, len(reqs))
	for i, r := range reqs {
		r.Scope = IssuerScope
		batch[i] = &job{ctx: ctx, kind: KindMint, req: r, hash: r.requestHash(KindMint), done: make(chan struct{})}
	}
	l.commitBatch(batch)
	for i, j := range batch {
		<-j.done
		if (j.err != nil) != (i == 1) {
			t.Errorf("job %d (%s): err = %v", i, j.req.IdempotencyKey, j.err)
		}
	}
	rep, err := l.Supply(ctx, "KSH")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Supply != 107 || !rep.Consistent() {
		t.Errorf("supply after the batch: %+v, want 107 (both good mints, not the bad one)", rep)
	}
}
