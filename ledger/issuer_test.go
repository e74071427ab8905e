package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/store"
)

// TestIssuerAccounts: an account koshd holds itself is opened with a key
// in the reserved namespace and is marked issuer-held; a retry returns it;
// a holder's account can neither take a key of that namespace nor reach an
// issuer-held account by retrying its key; and the frozen ledger names the
// issuer-held accounts, in id order, beside every balance as before.
func TestIssuerAccounts(t *testing.T) {
	forEachBackend(t, newGate(1_000_000), func(t *testing.T, l *ledger.Ledger, _ *store.DB) {
		ctx := context.Background()
		mustAsset(t, l, "KSH")
		escrow, err := l.CreateIssuerAccount(ctx, "escrow", "kosh-test-escrow")
		if err != nil {
			t.Fatal(err)
		}
		if !escrow.IssuerHeld {
			t.Fatalf("issuer account %+v is not marked issuer-held", escrow)
		}
		again, err := l.CreateIssuerAccount(ctx, "escrow", "kosh-test-escrow")
		if err != nil || again.ID != escrow.ID {
			t.Fatalf("retry: %+v, %v; want %s", again, err, escrow.ID)
		}
		fees, err := l.CreateIssuerAccount(ctx, "fees", "kosh-test-fees")
		if err != nil {
			t.Fatal(err)
		}

		// The reserved namespace: a holder's account cannot take a key in
		// it, even the escrow's with the escrow's label (a retry that would
		// hand out the escrow), nor can an issuer account be opened outside
		// it or without a name.
		for _, tc := range []struct {
			what string
			err  error
			want error
		}{
			{"holder's account under the escrow's key", second(l.CreateAccount(ctx, "escrow", "kosh-test-escrow")), ledger.ErrInvalidArgument},
			{"holder's account under a fresh reserved key", second(l.CreateAccount(ctx, "h", "kosh-anything")), ledger.ErrInvalidArgument},
			{"issuer account outside the namespace", second(l.CreateIssuerAccount(ctx, "x", "plain-key")), ledger.ErrInvalidArgument},
			{"issuer account without a name", second(l.CreateIssuerAccount(ctx, "", "kosh-test-unnamed")), ledger.ErrInvalidArgument},
			{"issuer account under its key with another label", second(l.CreateIssuerAccount(ctx, "other", "kosh-test-escrow")), ledger.ErrIdempotencyConflict},
		} {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.what, tc.err, tc.want)
			}
		}

		holder := mustAccount(t, l)
		if acc, _, err := l.Account(ctx, holder); err != nil || acc.IssuerHeld {
			t.Fatalf("holder's account %+v, %v", acc, err)
		}
		if acc, _, err := l.Account(ctx, escrow.ID); err != nil || !acc.IssuerHeld || acc.Label != "escrow" {
			t.Fatalf("escrow read back as %+v, %v", acc, err)
		}
		mint := func(to string, n int64, key string) {
			if _, err := l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: key, Asset: "KSH", To: to, Amount: n}); err != nil {
				t.Fatal(err)
			}
		}
		mint(holder, 100, "m1")
		mint(escrow.ID, 40, "m2")
		f, err := l.Freeze(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []ledger.IssuerAccount{{ID: escrow.ID, Label: "escrow"}, {ID: fees.ID, Label: "fees"}}
		if want[0].ID > want[1].ID {
			want[0], want[1] = want[1], want[0]
		}
		if len(f.IssuerAccounts) != 2 || f.IssuerAccounts[0] != want[0] || f.IssuerAccounts[1] != want[1] {
			t.Fatalf("frozen issuer accounts %+v, want %+v", f.IssuerAccounts, want)
		}
		if e, ok := f.IssuerAccount(escrow.ID); !ok || e.Label != "escrow" {
			t.Errorf("IssuerAccount(escrow) = %+v, %v", e, ok)
		}
		if _, ok := f.IssuerAccount(holder); ok {
			t.Error("the holder's account is taken for an issuer account")
		}
		// The fee account holds nothing, so it has no balance to point at.
		fa := f.Assets[0]
		if len(f.Assets) != 1 || fa.Total != 140 || len(fa.Balances) != 2 || len(fa.Issuer) != 1 ||
			fa.Balances[fa.Issuer[0]].AccountID != escrow.ID || fa.Balances[fa.Issuer[0]].Balance != 40 {
			t.Fatalf("frozen assets %+v, want the holder's 100 and the escrow's 40, the escrow's marked", f.Assets)
		}
	})
}

func second[T any](_ T, err error) error { return err }
