package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/store"
)

// holdersOf returns the holders count the store keeps on the asset (what
// the public page shows) and checks it against the supply report, which
// counts positive balances row by row.
func holdersOf(t *testing.T, l *ledger.Ledger, code string) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := l.Asset(ctx, code)
	if err != nil {
		t.Fatalf("asset %s: %v", code, err)
	}
	rep, err := l.Supply(ctx, code)
	if err != nil {
		t.Fatalf("supply of %s: %v", code, err)
	}
	if rep.Holders != a.Holders || rep.HoldersKept != a.Holders || !rep.Consistent() {
		t.Fatalf("%s: kept holders %d, counted %d (report kept %d, consistent %v)",
			code, a.Holders, rep.Holders, rep.HoldersKept, rep.Consistent())
	}
	return a.Holders
}

// TestHoldersKept walks an asset's holders count through every way a
// balance becomes or stops being positive (a mint to a new account, a
// transfer to a new account, a transfer or burn of a whole balance, a
// credit to a balance row that is back at zero) and the ways nothing may
// change (partial moves, replays, refusals rolled back in their savepoint,
// including a fast-path debit to zero whose credit then fails). After each
// step the kept count must equal the expected figure and the count made
// from the balances.
func TestHoldersKept(t *testing.T) {
	forEachBackend(t, newGate(1_000_000), func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "KSH")
		mustAsset(t, l, "OTH")
		alice, bob, carol := mustAccount(t, l), mustAccount(t, l), mustAccount(t, l)
		key := 0
		req := func(from, to string, amount int64) ledger.Transfer {
			key++
			return ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: fmt.Sprintf("h%d", key),
				Asset: "KSH", From: from, To: to, Amount: amount}
		}
		steps := []struct {
			name string
			op   func() error
			want int64
		}{
			{"no balances", func() error { return nil }, 0},
			{"mint to alice", func() error { _, err := l.Mint(ctx, req("", alice, 100)); return err }, 1},
			{"mint to alice again", func() error { _, err := l.Mint(ctx, req("", alice, 50)); return err }, 1},
			{"partial transfer to new holder bob", func() error { _, err := l.Transfer(ctx, req(alice, bob, 30)); return err }, 2},
			{"partial transfer back", func() error { _, err := l.Transfer(ctx, req(bob, alice, 10)); return err }, 2},
			{"bob sends all to alice", func() error { _, err := l.Transfer(ctx, req(bob, alice, 20)); return err }, 1},
			{"bob's zero row credited again", func() error { _, err := l.Transfer(ctx, req(alice, bob, 5)); return err }, 2},
			{"alice sends all to carol", func() error { _, err := l.Transfer(ctx, req(alice, carol, 145)); return err }, 2},
			{"carol burns part", func() error { _, err := l.Burn(ctx, req(carol, "", 45)); return err }, 2},
			{"carol burns the rest", func() error { _, err := l.Burn(ctx, req(carol, "", 100)); return err }, 1},
			{"mint to carol's zero row", func() error { _, err := l.Mint(ctx, req("", carol, 7)); return err }, 2},
			{"replayed transfer of a whole balance", func() error {
				r := req(carol, alice, 7)
				if _, err := l.Transfer(ctx, r); err != nil {
					return err
				}
				e, err := l.Transfer(ctx, r)
				if err == nil && !e.Replayed {
					err = errors.New("the retry was not a replay")
				}
				return err
			}, 2},
			{"overdraft refused", func() error {
				if _, err := l.Transfer(ctx, req(bob, carol, 6)); !errors.Is(err, ledger.ErrInsufficientFunds) {
					return fmt.Errorf("got %v, want ErrInsufficientFunds", err)
				}
				return nil
			}, 2},
			{"whole balance to an unknown account refused", func() error {
				// applyFast debits bob to zero before the credit's foreign
				// key fails; its savepoint must take the count back too.
				if _, err := l.Transfer(ctx, req(bob, "00000000-0000-4000-8000-000000000000", 5)); !errors.Is(err, ledger.ErrNotFound) {
					return fmt.Errorf("got %v, want ErrNotFound", err)
				}
				return nil
			}, 2},
			{"burn beyond the balance refused", func() error {
				if _, err := l.Burn(ctx, req(alice, "", 1000)); !errors.Is(err, ledger.ErrInsufficientFunds) {
					return fmt.Errorf("got %v, want ErrInsufficientFunds", err)
				}
				return nil
			}, 2},
		}
		for _, s := range steps {
			if err := s.op(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got := holdersOf(t, l, "KSH"); got != s.want {
				t.Fatalf("after %s: %d holders, want %d", s.name, got, s.want)
			}
		}
		if got := holdersOf(t, l, "OTH"); got != 0 {
			t.Fatalf("another asset's holders moved to %d", got)
		}
	})
}

// TestHoldersKeptRandom runs random concurrent mints, transfers and burns
// of small amounts over a few accounts, so that balances keep reaching and
// leaving zero and batches mix committed and refused operations, and checks
// the kept holders count against the counted one after every round.
func TestHoldersKeptRandom(t *testing.T) {
	forEachBackend(t, newGate(1<<40), func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "KSH")
		accts := make([]string, 6)
		for i := range accts {
			accts[i] = mustAccount(t, l)
		}
		rng := rand.New(rand.NewSource(7))
		var key int
		for round := range 25 {
			var wg sync.WaitGroup
			for range 24 {
				key++
				r := ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: fmt.Sprintf("r%d", key),
					Asset: "KSH", Amount: 1 + rng.Int63n(4)}
				from, to := accts[rng.Intn(len(accts))], accts[rng.Intn(len(accts))]
				op := rng.Intn(3)
				wg.Go(func() {
					var err error
					switch {
					case op == 0:
						r.To = to
						_, err = l.Mint(ctx, r)
					case op == 1 && from != to:
						r.From, r.To = from, to
						_, err = l.Transfer(ctx, r)
					default:
						r.From = from
						_, err = l.Burn(ctx, r)
					}
					if err != nil && !errors.Is(err, ledger.ErrInsufficientFunds) {
						t.Errorf("round %d: %v", round, err)
					}
				})
			}
			wg.Wait()
			var want int64
			for _, a := range accts {
				if balanceOf(t, l, a, "KSH") > 0 {
					want++
				}
			}
			if got := holdersOf(t, l, "KSH"); got != want {
				t.Fatalf("round %d: %d holders kept, %d accounts hold a balance", round, got, want)
			}
		}
	})
}
