package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestRunsMatchPerJobPath feeds the same random batches to a ledger on
// SQLite, where every job takes the per-job path (applyJob), and to one on
// PostgreSQL, where runs of plain transfers are decided in memory and
// written in one statement (applyRun): mostly transfers of small amounts
// between a few accounts (balances reach zero and leave it, so holders
// churn; debits fail for want of funds), with mints past a cap, burns,
// replays and reused keys (within a batch and across batches), unknown
// accounts and assets, and callers that gave up. Both clocks tick per
// call, so a job decided on a different path than apply's would show in
// its created_at. Every job's outcome, the balances, the holders counts and
// the journal's chain head must be identical, and Freeze must verify the
// PostgreSQL journal's chain. The pipelined subtest lands each batch on
// PostgreSQL only after launching the next (pipeline.go), as the committer
// does: the second transaction decides and writes while the first is
// committing.
func TestRunsMatchPerJobPath(t *testing.T) {
	for _, pipelined := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) { testRunsMatch(t, pipelined) })
	}
}

func testRunsMatch(t *testing.T, pipelined bool) {
	ctx := context.Background()
	type side struct {
		l  *Ledger
		db ledgerrec.Store
	}
	open := func(backend store.Backend) side {
		db := storetest.Ledger(t, storetest.Open(t, backend))
		var tick atomic.Int64
		now := func() time.Time { return time.UnixMicro(1_700_000_000_000_000 + tick.Add(1)) }
		l := New(db, capMint(2_000), Config{Now: now, SingleWriter: true})
		if _, err := l.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.CreateAsset(ctx, Asset{Code: "ALT", Name: "a", Peg: PegSat}); err != nil {
			t.Fatal(err)
		}
		return side{l: l, db: db}
	}
	lite, pg := open(store.SQLite), open(store.Postgres)
	if err := pg.db.Write(ctx, func(tx ledgerrec.Tx) error {
		if _, ok := tx.(ledgerrec.BatchTx); !ok {
			return errors.New("a PostgreSQL write transaction is not a ledgerrec.BatchTx: runs would not be tested")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Accounts with the same ids on both sides, so that the chain hashes
	// (which cover the ids) can match.
	accts := make([]string, 6)
	for i := range accts {
		accts[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		for _, s := range []side{lite, pg} {
			if err := s.db.Write(ctx, func(tx ledgerrec.Tx) error {
				_, err := tx.InsertAccount(ctx, ledgerrec.Account{ID: accts[i], Label: "x", CreatedAt: 1})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const unknown = "6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"

	rng := rand.New(rand.NewPCG(3, 4))
	pick := func() string { return accts[rng.IntN(len(accts))] }
	var (
		sent  []Transfer
		kinds []Kind
	)
	newJob := func() (Kind, Transfer, bool) {
		if len(sent) > 0 && rng.IntN(8) == 0 {
			// A key used before (perhaps earlier in this batch): the same
			// request (a replay) or another one (a conflict).
			i := rng.IntN(len(sent))
			r := sent[i]
			if rng.IntN(2) == 0 {
				r.Amount++
			}
			return kinds[i], r, false
		}
		r := Transfer{Scope: IssuerScope, IdempotencyKey: fmt.Sprintf("k%d", len(sent)), Asset: "KSH",
			Amount: int64(rng.IntN(4) + 1)}
		if rng.IntN(3) == 0 {
			r.Asset = "ALT"
		}
		if rng.IntN(40) == 0 {
			r.Asset = "NOPE"
		}
		if rng.IntN(5) == 0 {
			r.Scope = AccountScope(pick())
		}
		kind := KindTransfer
		switch n := rng.IntN(20); {
		case n < 3:
			kind, r.To, r.Amount = KindMint, pick(), int64(rng.IntN(30)+1)
		case n < 4:
			kind, r.From = KindBurn, pick()
		default:
			r.From, r.To = pick(), pick()
			for r.To == r.From {
				r.To = pick()
			}
		}
		if rng.IntN(40) == 0 {
			if kind != KindBurn {
				r.To = unknown
			} else {
				r.From = unknown
			}
		}
		sent, kinds = append(sent, r), append(kinds, kind)
		return kind, r, rng.IntN(25) == 0
	}

	gaveUp, cancel := context.WithCancel(ctx)
	cancel()
	// An idempotency conflict names the entry's seq, which differs between
	// the engines (PostgreSQL does not roll sequences back).
	seqRE := regexp.MustCompile(`entry \d+`)
	outcome := func(j *job) string {
		if j.err != nil {
			return "error: " + seqRE.ReplaceAllString(j.err.Error(), "entry N")
		}
		e := j.entry
		e.Seq = 0
		return fmt.Sprintf("%+v", e)
	}
	var (
		committed, planned int
		prev               *flight
		all                [][2][]*job
	)
	for range 150 {
		n := rng.IntN(40) + 1
		var bl, bp []*job
		for range n {
			kind, r, cancelled := newJob()
			jctx := ctx
			if cancelled {
				jctx = gaveUp
			}
			mk := func() *job {
				return &job{ctx: jctx, kind: kind, req: r, hash: r.requestHash(kind), done: make(chan struct{})}
			}
			bl, bp = append(bl, mk()), append(bp, mk())
		}
		lite.l.commitBatch(bl)
		if !pipelined {
			pg.l.commitBatch(bp)
		} else {
			f := pg.l.launch(bp, prev)
			if prev != nil {
				f = pg.l.land(prev, f)
			}
			prev = f
		}
		all = append(all, [2][]*job{bl, bp})
	}
	if prev != nil {
		pg.l.land(prev, nil)
	}
	for b, pair := range all {
		bl, bp := pair[0], pair[1]
		for i := range bl {
			if got, want := outcome(bp[i]), outcome(bl[i]); got != want {
				t.Fatalf("batch %d job %d (%v %+v):\npostgres: %s\nsqlite:   %s", b, i, bl[i].kind, bl[i].req, got, want)
			}
			if bl[i].err == nil && !bl[i].entry.Replayed {
				committed++
				if bl[i].kind == KindTransfer {
					planned++
				}
			}
		}
	}
	if committed < 1000 || planned < 700 {
		t.Fatalf("the workload committed %d entries, %d of them transfers: too few to test runs", committed, planned)
	}

	head := func(s side) []byte {
		var h []byte
		if err := s.db.Read(ctx, func(tx ledgerrec.Tx) error {
			var err error
			_, h, err = tx.JournalHead(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if hl, hp := head(lite), head(pg); string(hl) != string(hp) {
		t.Fatalf("journal chain heads differ: sqlite %x, postgres %x", hl, hp)
	}
	for _, code := range []string{"KSH", "ALT"} {
		rl, err := lite.l.Supply(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := pg.l.Supply(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if rl != rp || !rp.Consistent() {
			t.Fatalf("%s: postgres %+v, sqlite %+v", code, rp, rl)
		}
	}
	for _, id := range accts {
		_, bl, err := lite.l.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		_, bp, err := pg.l.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(bl) != fmt.Sprint(bp) {
			t.Fatalf("account %s: postgres %v, sqlite %v", id, bp, bl)
		}
	}
	if _, err := pg.l.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
}
