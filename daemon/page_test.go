package daemon_test

import (
	"net/http"
	"regexp"
	"testing"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

var accountsRE = regexp.MustCompile(`<dt>Accounts</dt>\s*<dd>([0-9,]+)</dd>`)

// pageAccounts fetches the public page and returns the holder counts it
// shows, one per asset.
func (n *node) pageAccounts() []string {
	n.t.Helper()
	r := n.rest(http.MethodGet, "/", "", nil)
	if r.Status != http.StatusOK {
		n.t.Fatalf("GET /: HTTP %d %s", r.Status, r.Raw)
	}
	var out []string
	for _, m := range accountsRE.FindAllStringSubmatch(string(r.Raw), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestPageReadsNoJournalOrBalances: the public page costs the same however
// long the journal and however many the accounts, because it reads no row
// of either: with the journal and balances tables renamed away it still
// shows every figure, the holders count included (kept on the asset by
// every balance change), while GetSupply, which recounts them, fails. The
// count is right after mints, a transfer that empties an account, and a
// burn that empties another.
func TestPageReadsNoJournalOrBalances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		n := startNode(t, backend)
		n.fundedReserves()
		n.createAsset("KSH")
		a, _ := n.createAccount("a")
		b, _ := n.createAccount("b")
		c, _ := n.createAccount("c")
		d, _ := n.createAccount("d")
		n.mint("KSH", a, 100)
		n.mint("KSH", b, 50)
		n.mint("KSH", d, 5)
		if _, err := n.issuer.Transfer(ctx(t, n.admin), &koshv1.TransferRequest{Asset: "KSH", FromAccountId: b,
			ToAccountId: c, Amount: 50, IdempotencyKey: newKey("t")}); err != nil {
			t.Fatalf("transfer b's whole balance to c: %v", err)
		}
		if _, err := n.issuer.Burn(ctx(t, n.admin), &koshv1.BurnRequest{Asset: "KSH", AccountId: d, Amount: 5,
			IdempotencyKey: newKey("b")}); err != nil {
			t.Fatalf("burn d's whole balance: %v", err)
		}
		if s := n.supply("KSH"); s.Holders != 2 {
			t.Fatalf("GetSupply counts %d holders, want 2 (a and c)", s.Holders)
		}

		raw := storetest.OpenRaw(t, n.cfg.StoreConfig())
		rename := func(from, to string) {
			t.Helper()
			for _, tbl := range []string{"journal", "balances"} {
				if _, err := raw.Exec(`ALTER TABLE ` + tbl + from + ` RENAME TO ` + tbl + to); err != nil {
					t.Fatalf("rename %s%s: %v", tbl, from, err)
				}
			}
		}
		rename("", "_away")
		got := n.pageAccounts()
		_, supplyErr := n.issuer.GetSupply(ctx(t, n.readonly), &koshv1.GetSupplyRequest{Asset: "KSH"})
		rename("_away", "")
		if len(got) != 1 || got[0] != "2" {
			t.Errorf("with the journal and balances out of reach the page shows accounts %q, want [2]", got)
		}
		if supplyErr == nil {
			t.Errorf("GetSupply succeeded without the journal and balances tables: the rename did not hide them")
		}
		if s := n.supply("KSH"); s.Holders != 2 {
			t.Errorf("after the tables came back GetSupply counts %d holders, want 2", s.Holders)
		}
	})
}
