package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// capGate is a test coverage gate: it allows a mint while the minted
// asset's supply after it stays within a fixed reserve figure. (The real
// gate, reserve.Monitor, is tested in package reserve and end to end.)
type capGate struct{ reserve atomic.Int64 }

func (g *capGate) AllowMint(_ context.Context, c ledger.MintCheck) error {
	if r := g.reserve.Load(); c.SupplyAfter > r {
		return fmt.Errorf("supply of %s after the mint would be %d, reserves back only %d", c.Asset.Code, c.SupplyAfter, r)
	}
	return nil
}

func newGate(reserve int64) *capGate {
	g := &capGate{}
	g.reserve.Store(reserve)
	return g
}

// forEachBackend runs fn against a fresh ledger on every store backend.
func forEachBackend(t *testing.T, gate ledger.CoverageGate, fn func(t *testing.T, l *ledger.Ledger, db *store.DB)) {
	for _, b := range storetest.Backends {
		t.Run(string(b), func(t *testing.T) {
			db := storetest.Open(t, b)
			l := ledger.New(storetest.Ledger(t, db), gate, ledger.Config{})
			l.Start()
			t.Cleanup(l.Stop)
			fn(t, l, db)
		})
	}
}

func mustAsset(t *testing.T, l *ledger.Ledger, code string) ledger.Asset {
	t.Helper()
	a, err := l.CreateAsset(context.Background(), ledger.Asset{Code: code, Name: code + " token", Peg: ledger.PegSat})
	if err != nil {
		t.Fatalf("create asset %s: %v", code, err)
	}
	return a
}

func mustAccount(t *testing.T, l *ledger.Ledger) string {
	t.Helper()
	a, err := l.CreateAccount(context.Background(), "holder", "")
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a.ID
}

func balanceOf(t *testing.T, l *ledger.Ledger, id, asset string) int64 {
	t.Helper()
	_, bals, err := l.Account(context.Background(), id)
	if err != nil {
		t.Fatalf("account %s: %v", id, err)
	}
	for _, b := range bals {
		if b.Asset == asset {
			return b.Amount
		}
	}
	return 0
}

func checkInvariant(t *testing.T, l *ledger.Ledger, asset string, want int64) {
	t.Helper()
	rep, err := l.Supply(context.Background(), asset)
	if err != nil {
		t.Fatalf("supply: %v", err)
	}
	if !rep.Consistent() || rep.Supply != want {
		t.Fatalf("invariant broken: supply=%d balances=%d journal=%d, want all %d",
			rep.Supply, rep.BalancesTotal, rep.JournalTotal, want)
	}
}

func TestMintBurnTransfer(t *testing.T) {
	forEachBackend(t, newGate(1_000_000), func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "KSH")
		alice, bob := mustAccount(t, l), mustAccount(t, l)

		e, err := l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "m1", Asset: "KSH", To: alice, Amount: 700})
		if err != nil {
			t.Fatalf("mint: %v", err)
		}
		if e.Kind != ledger.KindMint || e.CreditBalanceAfter != 700 || e.SupplyAfter != 700 || e.Seq <= 0 {
			t.Fatalf("mint entry = %+v", e)
		}
		e, err = l.Transfer(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "t1", Asset: "KSH", From: alice, To: bob, Amount: 250, Memo: "rent"})
		if err != nil {
			t.Fatalf("transfer: %v", err)
		}
		if e.DebitBalanceAfter != 450 || e.CreditBalanceAfter != 250 || e.SupplyAfter != 700 || e.Memo != "rent" {
			t.Fatalf("transfer entry = %+v", e)
		}
		e, err = l.Burn(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "b1", Asset: "KSH", From: bob, Amount: 50})
		if err != nil {
			t.Fatalf("burn: %v", err)
		}
		if e.DebitBalanceAfter != 200 || e.SupplyAfter != 650 {
			t.Fatalf("burn entry = %+v", e)
		}
		if got := balanceOf(t, l, alice, "KSH"); got != 450 {
			t.Errorf("alice = %d, want 450", got)
		}
		if got := balanceOf(t, l, bob, "KSH"); got != 200 {
			t.Errorf("bob = %d, want 200", got)
		}
		checkInvariant(t, l, "KSH", 650)

		hist, err := l.Journal(ctx, ledger.JournalFilter{AccountID: bob, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].Kind != ledger.KindTransfer || hist[1].Kind != ledger.KindBurn {
			t.Fatalf("bob's history = %+v", hist)
		}
	})
}

func TestIdempotency(t *testing.T) {
	forEachBackend(t, newGate(1_000_000), func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "KSH")
		alice, bob := mustAccount(t, l), mustAccount(t, l)
		req := ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "k1", Asset: "KSH", To: alice, Amount: 100}

		first, err := l.Mint(ctx, req)
		if err != nil || first.Replayed {
			t.Fatalf("first mint: %+v, %v", first, err)
		}
		again, err := l.Mint(ctx, req)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if !again.Replayed || again.Seq != first.Seq || again.SupplyAfter != 100 {
			t.Fatalf("retry returned %+v, want replay of %+v", again, first)
		}
		checkInvariant(t, l, "KSH", 100)

		// Same key, different request: refused.
		diff := req
		diff.Amount = 101
		if _, err := l.Mint(ctx, diff); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Fatalf("reused key with new amount: err = %v, want ErrIdempotencyConflict", err)
		}
		// Same key, different operation kind: refused.
		burn := ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "k1", Asset: "KSH", From: alice, Amount: 100}
		if _, err := l.Burn(ctx, burn); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Fatalf("reused key for a burn: err = %v, want ErrIdempotencyConflict", err)
		}
		// The same key in another scope is a different key.
		tr := ledger.Transfer{Scope: ledger.AccountScope(alice), IdempotencyKey: "k1", Asset: "KSH", From: alice, To: bob, Amount: 10}
		if _, err := l.Transfer(ctx, tr); err != nil {
			t.Fatalf("same key in wallet scope: %v", err)
		}
		// A refused request leaves its key unused: after the refusal the
		// same key can carry the request once it can succeed.
		over := ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "k2", Asset: "KSH", From: bob, To: alice, Amount: 11}
		if _, err := l.Transfer(ctx, over); !errors.Is(err, ledger.ErrInsufficientFunds) {
			t.Fatalf("overdraft: err = %v", err)
		}
		over.Amount = 10
		if _, err := l.Transfer(ctx, over); err != nil {
			t.Fatalf("key of a refused request: %v", err)
		}
		checkInvariant(t, l, "KSH", 100)

		// Account creation is idempotent too.
		a1, err := l.CreateAccount(ctx, "x", "acct-key")
		if err != nil {
			t.Fatal(err)
		}
		a2, err := l.CreateAccount(ctx, "x", "acct-key")
		if err != nil || a2.ID != a1.ID {
			t.Fatalf("account retry = %v, %v; want %s", a2.ID, err, a1.ID)
		}
		if _, err := l.CreateAccount(ctx, "y", "acct-key"); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Fatalf("account key reuse: %v", err)
		}
	})
}

func TestRefusals(t *testing.T) {
	forEachBackend(t, newGate(1_000), func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "KSH")
		alice, bob := mustAccount(t, l), mustAccount(t, l)
		if _, err := l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "seed", Asset: "KSH", To: alice, Amount: 500}); err != nil {
			t.Fatal(err)
		}
		unknown := "6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"
		iss := ledger.IssuerScope
		tests := []struct {
			name string
			op   func() (ledger.Entry, error)
			want error
		}{
			{"zero amount", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "a", Asset: "KSH", To: alice})
			}, ledger.ErrInvalidArgument},
			{"negative amount", func() (ledger.Entry, error) {
				return l.Transfer(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "b", Asset: "KSH", From: alice, To: bob, Amount: -5})
			}, ledger.ErrInvalidArgument},
			{"missing key", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, Asset: "KSH", To: alice, Amount: 1})
			}, ledger.ErrInvalidArgument},
			{"key with space", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "a b", Asset: "KSH", To: alice, Amount: 1})
			}, ledger.ErrInvalidArgument},
			{"malformed account id", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "c", Asset: "KSH", To: "alice", Amount: 1})
			}, ledger.ErrInvalidArgument},
			{"malformed asset code", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "d", Asset: "ksh!", To: alice, Amount: 1})
			}, ledger.ErrInvalidArgument},
			{"self transfer", func() (ledger.Entry, error) {
				return l.Transfer(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "e", Asset: "KSH", From: alice, To: alice, Amount: 1})
			}, ledger.ErrInvalidArgument},
			{"unknown asset", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "f", Asset: "NOPE", To: alice, Amount: 1})
			}, ledger.ErrNotFound},
			{"unknown account", func() (ledger.Entry, error) {
				return l.Transfer(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "g", Asset: "KSH", From: alice, To: unknown, Amount: 1})
			}, ledger.ErrNotFound},
			{"overdraft", func() (ledger.Entry, error) {
				return l.Transfer(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "h", Asset: "KSH", From: alice, To: bob, Amount: 501})
			}, ledger.ErrInsufficientFunds},
			{"burn more than held", func() (ledger.Entry, error) {
				return l.Burn(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "i", Asset: "KSH", From: bob, Amount: 1})
			}, ledger.ErrInsufficientFunds},
			{"mint beyond reserves", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "j", Asset: "KSH", To: bob, Amount: 501})
			}, ledger.ErrMintRefused},
			{"memo too long", func() (ledger.Entry, error) {
				return l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "k", Asset: "KSH", To: bob, Amount: 1, Memo: string(make([]byte, 300))})
			}, ledger.ErrInvalidArgument},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := tc.op()
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			})
		}
		// Nothing refused changed anything.
		checkInvariant(t, l, "KSH", 500)
		if got := balanceOf(t, l, alice, "KSH"); got != 500 {
			t.Fatalf("alice = %d after refusals, want 500", got)
		}
	})
}

func TestOverflowIsRefused(t *testing.T) {
	gate := newGate(math.MaxInt64)
	forEachBackend(t, gate, func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "BIG")
		a, b := mustAccount(t, l), mustAccount(t, l)
		if _, err := l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "max", Asset: "BIG", To: a, Amount: math.MaxInt64}); err != nil {
			t.Fatalf("mint max: %v", err)
		}
		_, err := l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "one", Asset: "BIG", To: b, Amount: 1})
		if !errors.Is(err, ledger.ErrOverflow) {
			t.Fatalf("mint past max: err = %v, want ErrOverflow", err)
		}
		checkInvariant(t, l, "BIG", math.MaxInt64)
	})
}

func TestCreateAssetValidation(t *testing.T) {
	forEachBackend(t, newGate(0), func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		tests := []struct {
			name  string
			asset ledger.Asset
			want  error
		}{
			{"ok", ledger.Asset{Code: "KSH", Name: "Kosh", Peg: ledger.PegSat}, nil},
			{"identical again", ledger.Asset{Code: "KSH", Name: "Kosh", Peg: ledger.PegSat}, nil},
			{"redefined", ledger.Asset{Code: "KSH", Name: "Other", Peg: ledger.PegSat}, ledger.ErrAlreadyExists},
			{"lower case", ledger.Asset{Code: "ksh", Name: "x", Peg: ledger.PegSat}, ledger.ErrInvalidArgument},
			{"too long", ledger.Asset{Code: "ABCDEFGHIJKLM", Name: "x", Peg: ledger.PegSat}, ledger.ErrInvalidArgument},
			{"no name", ledger.Asset{Code: "ABC", Peg: ledger.PegSat}, ledger.ErrInvalidArgument},
			{"no peg", ledger.Asset{Code: "ABC", Name: "x"}, ledger.ErrInvalidArgument},
			{"decimals", ledger.Asset{Code: "ABC", Name: "x", Peg: ledger.PegSat, Decimals: 19}, ledger.ErrInvalidArgument},
			{"fractional reserve", ledger.Asset{Code: "ABC", Name: "x", Peg: ledger.PegSat, MinCoverageBps: 9999}, ledger.ErrInvalidArgument},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a, err := l.CreateAsset(ctx, tc.asset)
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if err == nil && a.MinCoverageBps != ledger.DefaultSatBps {
					t.Fatalf("default coverage = %d", a.MinCoverageBps)
				}
			})
		}
	})
}

// TestConcurrentRandomWorkload drives random mints, burns and transfers from
// many goroutines, with retries that reuse idempotency keys, against a gate
// whose limit moves, then checks sum(balances) == supply == sum(journal), that
// every account's balance equals what its journal entries add up to, and
// that each idempotency key produced at most one entry.
func TestConcurrentRandomWorkload(t *testing.T) {
	gate := newGate(50_000)
	forEachBackend(t, gate, func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "KSH")
		mustAsset(t, l, "ALT")
		const nAccounts = 12
		accts := make([]string, nAccounts)
		for i := range accts {
			accts[i] = mustAccount(t, l)
		}
		const workers, opsPerWorker = 16, 60
		var wg sync.WaitGroup
		var committed, refused atomic.Int64
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewSource(int64(w)))
				for i := 0; i < opsPerWorker; i++ {
					asset := []string{"KSH", "ALT"}[rng.Intn(2)]
					req := ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: fmt.Sprintf("w%d-%d", w, i),
						Asset: asset, Amount: int64(rng.Intn(400) + 1)}
					from, to := accts[rng.Intn(nAccounts)], accts[rng.Intn(nAccounts)]
					var op func(context.Context, ledger.Transfer) (ledger.Entry, error)
					switch k := rng.Intn(10); {
					case k < 3:
						req.To, op = to, l.Mint
					case k < 4:
						req.From, op = from, l.Burn
					default:
						if from == to {
							to = accts[(rng.Intn(nAccounts-1)+1+indexOf(accts, from))%nAccounts]
						}
						req.From, req.To, op = from, to, l.Transfer
					}
					if w == 0 && i%10 == 0 {
						gate.reserve.Add(int64(rng.Intn(2000)) - 500)
					}
					first, err := op(ctx, req)
					if err != nil && !isExpectedRefusal(err) {
						t.Errorf("op %s: unexpected error %v", req.IdempotencyKey, err)
						return
					}
					// Retry the same request with the same key.
					again, err2 := op(ctx, req)
					if err == nil {
						committed.Add(1)
						if err2 != nil || again.Seq != first.Seq || !again.Replayed {
							t.Errorf("retry of %s: %+v, %v; want replay of seq %d", req.IdempotencyKey, again, err2, first.Seq)
							return
						}
					} else {
						refused.Add(1)
						if err2 == nil {
							// The retry may succeed where the first try was
							// refused (the gate moved, funds arrived).
							committed.Add(1)
						}
					}
				}
			}(w)
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		t.Logf("committed %d, refused %d", committed.Load(), refused.Load())
		if committed.Load() == 0 || refused.Load() == 0 {
			t.Fatalf("workload did not exercise both paths: committed %d refused %d", committed.Load(), refused.Load())
		}

		var entries []ledger.Entry
		var after int64
		for {
			page, err := l.Journal(ctx, ledger.JournalFilter{AfterSeq: after, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			entries = append(entries, page...)
			after = page[len(page)-1].Seq
		}
		if int64(len(entries)) != committed.Load() {
			t.Fatalf("journal has %d entries, %d operations committed", len(entries), committed.Load())
		}
		keys := map[string]bool{}
		perAccount := map[string]int64{}
		for _, e := range entries {
			if keys[e.IdempotencyKey] {
				t.Fatalf("key %s has two entries", e.IdempotencyKey)
			}
			keys[e.IdempotencyKey] = true
			if e.DebitAccountID != "" {
				perAccount[e.DebitAccountID+"/"+e.Asset] -= e.Amount
			}
			if e.CreditAccountID != "" {
				perAccount[e.CreditAccountID+"/"+e.Asset] += e.Amount
			}
		}
		for _, asset := range []string{"KSH", "ALT"} {
			rep, err := l.Supply(ctx, asset)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Consistent() {
				t.Fatalf("%s: supply=%d balances=%d journal=%d", asset, rep.Supply, rep.BalancesTotal, rep.JournalTotal)
			}
			for _, id := range accts {
				if got, want := balanceOf(t, l, id, asset), perAccount[id+"/"+asset]; got != want {
					t.Fatalf("%s balance of %s = %d, journal says %d", asset, id, got, want)
				}
			}
		}
		// Every entry chains onto the one committed before it.
		if _, err := l.Freeze(ctx); err != nil {
			t.Fatalf("the journal's chain: %v", err)
		}
	})
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func isExpectedRefusal(err error) bool {
	return errors.Is(err, ledger.ErrInsufficientFunds) || errors.Is(err, ledger.ErrMintRefused)
}
