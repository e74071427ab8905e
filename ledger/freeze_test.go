package ledger

import (
	"context"
	"testing"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

type allowAll struct{}

func (allowAll) AllowMint(context.Context, MintCheck) error { return nil }

// TestFreeze: the frozen ledger holds every non-zero balance, totals equal
// supply, and the cut-off is the last journal sequence; later entries are
// not in an earlier freeze.
func TestFreeze(t *testing.T) {
	for _, backend := range []store.Backend{store.SQLite, store.Postgres} {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			l := New(storetest.Ledger(t, storetest.Open(t, backend)), allowAll{}, Config{})
			l.Start()
			defer l.Stop()
			if _, err := l.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat}); err != nil {
				t.Fatal(err)
			}
			a, _ := l.CreateAccount(ctx, "a", "ka")
			b, _ := l.CreateAccount(ctx, "b", "kb")
			c, _ := l.CreateAccount(ctx, "c", "kc")
			mint := func(acct string, n int64, key string) Entry {
				e, err := l.Mint(ctx, Transfer{Asset: "KSH", To: acct, Amount: n, IdempotencyKey: key, Scope: IssuerScope})
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
			mint(a.ID, 100, "m1")
			last := mint(b.ID, 50, "m2")
			f, err := l.Freeze(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.CutoffSeq != last.Seq || len(f.Assets) != 1 || f.Assets[0].Total != 150 || len(f.Assets[0].Balances) != 2 {
				t.Fatalf("frozen %+v, want cut-off %d and two balances totalling 150", f, last.Seq)
			}
			_ = c
			mint(c.ID, 7, "m3")
			g, err := l.Freeze(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if g.CutoffSeq != last.Seq+1 || g.Assets[0].Total != 157 || len(g.Assets[0].Balances) != 3 {
				t.Fatalf("second freeze %+v", g)
			}
			// Each balance carries the last entry that changed it: a
			// transfer changes both sides, a later mint only its own.
			tr, err := l.Transfer(ctx, Transfer{Asset: "KSH", From: a.ID, To: b.ID, Amount: 10, IdempotencyKey: "t1", Scope: AccountScope(a.ID)})
			if err != nil {
				t.Fatal(err)
			}
			m := mint(a.ID, 1, "m4")
			h, err := l.Freeze(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{a.ID: m.Seq, b.ID: tr.Seq, c.ID: last.Seq + 1}
			for _, fb := range h.Assets[0].Balances {
				if fb.LastSeq != want[fb.AccountID] {
					t.Errorf("account %s: last seq %d, want %d", fb.AccountID, fb.LastSeq, want[fb.AccountID])
				}
			}
		})
	}
}
