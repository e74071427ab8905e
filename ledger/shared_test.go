package ledger

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestSharedJournal runs three ledgers, as three koshd would, on one
// PostgreSQL schema, each moving units concurrently, and checks that the
// journal they wrote together is one hash chain that Freeze verifies and
// replays: every entry names the one committed before it, whichever
// process wrote it.
func TestSharedJournal(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.Config(t, store.Postgres)
	cfg.MaxReaders = 2
	var ledgers []*Ledger
	for i := 0; i < 3; i++ {
		db, err := store.Open(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		l := New(storetest.Ledger(t, db), allowAll{}, Config{})
		if err := l.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		l.Start()
		t.Cleanup(l.Stop)
		ledgers = append(ledgers, l)
	}
	first := ledgers[0]
	if _, err := first.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat}); err != nil {
		t.Fatal(err)
	}
	var accts []string
	for i := 0; i < 6; i++ {
		a, err := first.CreateAccount(ctx, "x", "")
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, a.ID)
		if _, err := first.Mint(ctx, Transfer{Scope: IssuerScope, IdempotencyKey: "mint-" + a.ID, Asset: "KSH", To: a.ID, Amount: 1_000_000}); err != nil {
			t.Fatal(err)
		}
	}
	const perClient = 40
	var wg sync.WaitGroup
	errs := make(chan error, len(ledgers)*4)
	for li, l := range ledgers {
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < perClient; n++ {
					from, to := accts[(li+c+n)%len(accts)], accts[(li+c+n+1)%len(accts)]
					_, err := l.Transfer(ctx, Transfer{Scope: IssuerScope, IdempotencyKey: fmt.Sprintf("t-%d-%d-%d", li, c, n),
						Asset: "KSH", From: from, To: to, Amount: 1})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, l := range ledgers {
		f, err := l.Freeze(ctx)
		if err != nil {
			t.Fatalf("ledger %d: freeze the shared journal: %v", i, err)
		}
		if want := int64(6 + len(ledgers)*4*perClient); f.CutoffSeq < want {
			t.Fatalf("ledger %d: cut-off at seq %d, want at least %d entries", i, f.CutoffSeq, want)
		}
	}
}
