package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/ledger/journalchain"
	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// chainLedger is a ledger with some history, the store it runs on, and a
// raw connection to the same database for editing it behind koshd's back.
type chainLedger struct {
	l         *Ledger
	raw       *sql.DB
	a, b, c   string
	lastEntry Entry
}

func newChainLedger(t *testing.T, backend store.Backend) *chainLedger {
	t.Helper()
	ctx := context.Background()
	cfg := storetest.Config(t, backend)
	db, err := store.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var raw *sql.DB
	if backend == store.SQLite {
		raw, err = sql.Open("sqlite", store.SQLiteDSN(cfg.SQLitePath, true))
	} else {
		raw, err = sql.Open("pgx/v5", cfg.PostgresDSN)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	l := New(storetest.Ledger(t, db), allowAll{}, Config{})
	if err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(l.Stop)
	if _, err := l.CreateAsset(ctx, Asset{Code: "KSH", Name: "k", Peg: PegSat}); err != nil {
		t.Fatal(err)
	}
	c := &chainLedger{l: l, raw: raw}
	for _, p := range []*string{&c.a, &c.b, &c.c} {
		acct, err := l.CreateAccount(ctx, "x", "")
		if err != nil {
			t.Fatal(err)
		}
		*p = acct.ID
	}
	ops := []struct {
		kind     Kind
		from, to string
		amount   int64
	}{
		{KindMint, "", c.a, 1000}, {KindMint, "", c.b, 500}, {KindTransfer, c.a, c.b, 300},
		{KindTransfer, c.b, c.c, 100}, {KindBurn, c.c, "", 40}, {KindTransfer, c.c, c.a, 60},
	}
	for i, op := range ops {
		r := Transfer{Scope: IssuerScope, IdempotencyKey: fmt.Sprintf("op-%d", i), Asset: "KSH", From: op.from, To: op.to, Amount: op.amount}
		var err error
		switch op.kind {
		case KindMint:
			c.lastEntry, err = l.Mint(ctx, r)
		case KindBurn:
			c.lastEntry, err = l.Burn(ctx, r)
		default:
			c.lastEntry, err = l.Transfer(ctx, r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *chainLedger) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := c.raw.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestJournalTamperEvident proves an attestation's freeze refuses a
// history edited in the database outside koshd — an amount changed, an
// entry deleted, units moved between balances (the total unchanged), a
// supply changed, a memo changed — naming what does not verify, on both
// stores, and verifies the untouched history.
func TestJournalTamperEvident(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			cases := []struct {
				name string
				edit func(t *testing.T, c *chainLedger)
				want string
			}{
				{"an amount changed", func(t *testing.T, c *chainLedger) {
					c.exec(t, `UPDATE journal SET amount = 200 WHERE seq = 3`)
				}, "entry 3 (transfer 200 KSH) does not match its chain hash"},
				{"an entry deleted", func(t *testing.T, c *chainLedger) {
					c.exec(t, `DELETE FROM journal WHERE seq = 4`)
				}, "entry 5 (burn 40 KSH) does not match its chain hash"},
				{"units moved between balances", func(t *testing.T, c *chainLedger) {
					c.exec(t, `UPDATE balances SET balance = balance - 50 WHERE account_id = $1`, c.a)
					c.exec(t, `UPDATE balances SET balance = balance + 50 WHERE account_id = $1`, c.c)
				}, "holds"},
				{"a memo changed", func(t *testing.T, c *chainLedger) {
					c.exec(t, `UPDATE journal SET memo = 'edited' WHERE seq = 2`)
				}, "entry 2 (mint 500 KSH) does not match"},
				{"supply and a balance raised together", func(t *testing.T, c *chainLedger) {
					c.exec(t, `UPDATE balances SET balance = balance + 10 WHERE account_id = $1`, c.b)
					c.exec(t, `UPDATE assets SET supply = supply + 10`)
				}, "the journal replays to"},
				{"a chain hash recomputed for an edited entry", func(t *testing.T, c *chainLedger) {
					// Rewriting one hash is not enough: the next entry's
					// hash covers it.
					row := ledgerrec.Entry{}
					err := c.raw.QueryRow(`SELECT j.kind, a.code, COALESCE(j.debit_account_id, ''), COALESCE(j.credit_account_id, ''),
						j.amount, j.memo, j.idem_scope, j.idem_key, j.request_hash, j.debit_balance_after, j.credit_balance_after,
						j.supply_after, j.created_at FROM journal j JOIN assets a ON a.id = j.asset_id WHERE j.seq = 3`).Scan(
						&row.Kind, &row.AssetCode, &row.DebitAccountID, &row.CreditAccountID, &row.Amount, &row.Memo, &row.IdemScope,
						&row.IdemKey, &row.RequestHash, &row.DebitBalanceAfter, &row.CreditBalanceAfter, &row.SupplyAfter, &row.CreatedAt)
					if err != nil {
						t.Fatal(err)
					}
					var prev []byte
					if err := c.raw.QueryRow(`SELECT chain_hash FROM journal WHERE seq = 2`).Scan(&prev); err != nil {
						t.Fatal(err)
					}
					row.Memo = "rewritten"
					c.exec(t, `UPDATE journal SET memo = 'rewritten', chain_hash = $1 WHERE seq = 3`, journalchain.Hash(prev, &row))
				}, "entry 4 (transfer 100 KSH) does not match its chain hash"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := newChainLedger(t, backend)
					if _, err := c.l.Freeze(context.Background()); err != nil {
						t.Fatalf("untouched history: %v", err)
					}
					tc.edit(t, c)
					_, err := c.l.Freeze(context.Background())
					if !errors.Is(err, ErrJournalTampered) || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("freeze after %s: %v; want ErrJournalTampered with %q", tc.name, err, tc.want)
					}
				})
			}
		})
	}
}

// TestSealJournal proves a journal written before chain hashes (none
// stored) is sealed by Seal as it stands, verifies, and grows on it.
func TestSealJournal(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			c := newChainLedger(t, backend) // its ledger stays idle from here
			c.exec(t, `UPDATE journal SET chain_hash = NULL`)
			l := New(c.l.db, allowAll{}, Config{})
			if err := l.Seal(ctx); err != nil {
				t.Fatal(err)
			}
			l.Start()
			defer l.Stop()
			if _, err := l.Transfer(ctx, Transfer{Scope: IssuerScope, IdempotencyKey: "after-seal", Asset: "KSH",
				From: c.a, To: c.b, Amount: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Freeze(ctx); err != nil {
				t.Fatalf("freeze after sealing: %v", err)
			}
			var unsealed int
			if err := c.raw.QueryRow(`SELECT COUNT(*) FROM journal WHERE chain_hash IS NULL`).Scan(&unsealed); err != nil || unsealed != 0 {
				t.Fatalf("%d entries unsealed (%v)", unsealed, err)
			}
		})
	}
}
