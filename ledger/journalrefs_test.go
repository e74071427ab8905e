package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestJournalNamesAccountsWithBalances checks the invariant that stands in
// for the journal's foreign keys, which PostgreSQL no longer has (migration
// 0020): every account a journal entry names has a balances row in the
// entry's asset, written in the entry's transaction, so the balances'
// foreign keys vouch for it. Transfers, mints and burns naming an unknown
// account or asset, submitted concurrently with good ones (so that some
// share a batch, and on PostgreSQL a run of transfers), are refused and
// leave no entry.
func TestJournalNamesAccountsWithBalances(t *testing.T) {
	for _, b := range storetest.Backends {
		t.Run(string(b), func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Config(t, b)
			db, err := store.Open(ctx, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			l := ledger.New(storetest.Ledger(t, db), newGate(1_000_000), ledger.Config{})
			l.Start()
			t.Cleanup(l.Stop)
			raw := storetest.OpenRaw(t, cfg)
			if b == store.Postgres {
				var fks int
				if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM pg_constraint
					WHERE conrelid = 'journal'::regclass AND contype = 'f'`).Scan(&fks); err != nil {
					t.Fatal(err)
				}
				if fks != 0 {
					t.Fatalf("the journal has %d foreign keys on PostgreSQL, want none (migration 0020)", fks)
				}
			}

			mustAsset(t, l, "KSH")
			mustAsset(t, l, "USD")
			alice, bob := mustAccount(t, l), mustAccount(t, l)
			iss := ledger.IssuerScope
			if _, err := l.Mint(ctx, ledger.Transfer{Scope: iss, IdempotencyKey: "seed", Asset: "KSH", To: alice, Amount: 100_000}); err != nil {
				t.Fatal(err)
			}
			unknown := "6f1c3d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"
			type call struct {
				op   func(context.Context, ledger.Transfer) (ledger.Entry, error)
				req  ledger.Transfer
				want error // nil: it commits
			}
			var calls []call
			for i := range 40 {
				key := func(s string) string { return s + "-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) }
				fresh := mustAccount(t, l) // no balances row yet
				calls = append(calls,
					call{l.Transfer, ledger.Transfer{Scope: iss, IdempotencyKey: key("to-fresh"), Asset: "KSH", From: alice, To: fresh, Amount: 3}, nil},
					call{l.Transfer, ledger.Transfer{Scope: iss, IdempotencyKey: key("to-bob"), Asset: "KSH", From: alice, To: bob, Amount: 1}, nil},
					call{l.Transfer, ledger.Transfer{Scope: iss, IdempotencyKey: key("to-unknown"), Asset: "KSH", From: alice, To: unknown, Amount: 1}, ledger.ErrNotFound},
					call{l.Transfer, ledger.Transfer{Scope: iss, IdempotencyKey: key("from-unknown"), Asset: "KSH", From: unknown, To: bob, Amount: 1}, ledger.ErrNotFound},
					call{l.Mint, ledger.Transfer{Scope: iss, IdempotencyKey: key("mint-unknown"), Asset: "KSH", To: unknown, Amount: 1}, ledger.ErrNotFound},
					call{l.Burn, ledger.Transfer{Scope: iss, IdempotencyKey: key("burn-unknown"), Asset: "KSH", From: unknown, Amount: 1}, ledger.ErrNotFound},
					call{l.Transfer, ledger.Transfer{Scope: iss, IdempotencyKey: key("no-such-asset"), Asset: "NOPE", From: alice, To: bob, Amount: 1}, ledger.ErrNotFound},
					// alice holds no USD: a debit without a balances row.
					call{l.Transfer, ledger.Transfer{Scope: iss, IdempotencyKey: key("usd"), Asset: "USD", From: alice, To: bob, Amount: 1}, ledger.ErrInsufficientFunds},
				)
			}
			errs := make([]error, len(calls))
			var wg sync.WaitGroup
			for i, c := range calls {
				wg.Go(func() { _, errs[i] = c.op(ctx, c.req) })
			}
			wg.Wait()
			committed := 1 // the seed mint
			for i, c := range calls {
				if c.want == nil {
					if errs[i] != nil {
						t.Errorf("%s: %v", c.req.IdempotencyKey, errs[i])
					}
					committed++
				} else if !errors.Is(errs[i], c.want) {
					t.Errorf("%s: err = %v, want %v", c.req.IdempotencyKey, errs[i], c.want)
				}
			}

			var entries, orphans int
			if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM journal`).Scan(&entries); err != nil {
				t.Fatal(err)
			}
			if entries != committed {
				t.Errorf("the journal holds %d entries, want %d", entries, committed)
			}
			if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM journal j
				WHERE (j.debit_account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM balances b
					WHERE b.account_id = j.debit_account_id AND b.asset_id = j.asset_id))
				OR (j.credit_account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM balances b
					WHERE b.account_id = j.credit_account_id AND b.asset_id = j.asset_id))
				OR (j.debit_account_id IS NULL AND j.credit_account_id IS NULL)`).Scan(&orphans); err != nil {
				t.Fatal(err)
			}
			if orphans != 0 {
				t.Errorf("%d journal entries name an account without a balances row in their asset", orphans)
			}
			checkInvariant(t, l, "KSH", 100_000)
		})
	}
}
