package daemon_test

import (
	"fmt"
	"net/http"
	"testing"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/store"
)

// TestWalletSeesOwnSideOnly proves a holder cannot read another holder's
// balance through the entries the wallet API returns: a transfer's
// response and the recipient's history carry the caller's own balance
// only, no supply, and no idempotency key but the caller's own. The issuer
// API still sees every figure.
func TestWalletSeesOwnSideOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		n := startNode(t, backend)
		n.fundedReserves()
		n.createAsset("KSH")
		alice, macA := n.createAccount("alice")
		bob, macB := n.createAccount("bob")
		n.mint("KSH", alice, 100)
		n.mint("KSH", bob, 5000)

		// Alice sends bob one unit: she learns her own balance, not his.
		keyA := newKey("probe")
		resp, err := n.wallet.Transfer(ctx(t, macA), &koshv1.WalletServiceTransferRequest{AccountId: alice,
			ToAccountId: bob, Asset: "KSH", Amount: 1, IdempotencyKey: keyA})
		if err != nil {
			t.Fatal(err)
		}
		e := resp.Entry
		if e.DebitBalanceAfter != 99 || e.CreditBalanceAfter != 0 || e.SupplyAfter != 0 || e.IdempotencyKey != keyA {
			t.Errorf("sender's entry: debit after %d, credit after %d, supply after %d, key %q; want 99, 0, 0, %q",
				e.DebitBalanceAfter, e.CreditBalanceAfter, e.SupplyAfter, e.IdempotencyKey, keyA)
		}
		for _, r := range resp.Receipts {
			if r.AccountId != alice {
				t.Errorf("the sender got a receipt of %s's balance", r.AccountId)
			}
		}

		// Bob's history shows his own side of alice's transfer and of the
		// issuer's mint, and neither alice's balance nor anyone's key.
		hist, err := n.wallet.ListHistory(ctx(t, macB), &koshv1.ListHistoryRequest{AccountId: bob})
		if err != nil {
			t.Fatal(err)
		}
		if len(hist.Entries) != 2 {
			t.Fatalf("bob's history has %d entries, want 2", len(hist.Entries))
		}
		for _, e := range hist.Entries {
			if e.DebitBalanceAfter != 0 || e.SupplyAfter != 0 || e.IdempotencyKey != "" {
				t.Errorf("bob sees entry %d with debit after %d, supply after %d, key %q; want 0, 0, \"\"",
					e.Seq, e.DebitBalanceAfter, e.SupplyAfter, e.IdempotencyKey)
			}
		}
		if got := hist.Entries[1].CreditBalanceAfter; got != 5001 {
			t.Errorf("bob's own balance after alice's transfer: %d, want 5001", got)
		}

		// The same over REST, where an absent figure is "0".
		body := n.rest(http.MethodGet, fmt.Sprintf("/v1/wallet/accounts/%s/history", bob), macB, nil).requireOK(t, "bob's history")
		entries, _ := body["entries"].([]any)
		if len(entries) != 2 {
			t.Fatalf("REST history: %v", body)
		}
		last := entries[1].(map[string]any)
		if last["debit_balance_after"] != "0" || last["supply_after"] != "0" || last["idempotency_key"] != "" {
			t.Errorf("REST: bob sees %v", last)
		}

		// The issuer sees both sides.
		j, err := n.issuer.ListJournal(ctx(t, n.readonly), &koshv1.ListJournalRequest{AccountId: bob})
		if err != nil {
			t.Fatal(err)
		}
		ie := j.Entries[len(j.Entries)-1]
		if ie.DebitBalanceAfter != 99 || ie.CreditBalanceAfter != 5001 || ie.SupplyAfter != 5100 || ie.IdempotencyKey != keyA {
			t.Errorf("issuer's view of the transfer: %v", ie)
		}
	})
}

// TestListAccountsBalances proves ListAccounts shows each account's
// balances (it showed "balances": [] for every account), page by page.
func TestListAccountsBalances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		n := startNode(t, backend)
		n.fundedReserves()
		n.createAsset("KSH")
		n.createAsset("ABC")
		a, _ := n.createAccount("a")
		b, _ := n.createAccount("b")
		c, _ := n.createAccount("c")
		n.mint("KSH", a, 10)
		n.mint("ABC", a, 3)
		n.mint("KSH", c, 7)
		want := map[string]string{a: "KSH=10 ABC=3", b: "", c: "KSH=7"}
		got := map[string]string{}
		var token string
		for pages := 0; ; pages++ {
			resp, err := n.issuer.ListAccounts(ctx(t, n.readonly), &koshv1.ListAccountsRequest{PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, acct := range resp.Accounts {
				s := ""
				for _, bal := range acct.Balances {
					if s != "" {
						s += " "
					}
					s += fmt.Sprintf("%s=%d", bal.Asset, bal.Amount)
				}
				got[acct.Id] = s
			}
			if token = resp.NextPageToken; token == "" {
				if pages != 1 {
					t.Errorf("%d pages of 2 for 3 accounts", pages+1)
				}
				break
			}
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("account %s: balances %q, want %q", id, got[id], w)
			}
		}
	})
}
