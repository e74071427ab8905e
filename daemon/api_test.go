package daemon_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/perms"
	"github.com/kosh-reserve/kosh/store"
	"google.golang.org/grpc/codes"
)

// TestWalletIsolation proves a wallet macaroon acts on its own account only,
// over gRPC and REST: it reads and sends for its account, is refused (naming
// both accounts) for another, cannot call the issuer API, and the admin
// macaroon cannot call the wallet API.
func TestWalletIsolation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		n := startNode(t, backend)
		n.fundedReserves()
		n.createAsset("KSH")
		a, macA := n.createAccount("alice")
		b, _ := n.createAccount("bob")
		n.mint("KSH", a, 100)
		n.mint("KSH", b, 100)
		wa := ctx(t, macA)

		// gRPC: A acts on A.
		bal, err := n.wallet.GetBalance(wa, &koshv1.GetBalanceRequest{AccountId: a})
		if err != nil || len(bal.Balances) != 1 || bal.Balances[0].Amount != 100 {
			t.Fatalf("A GetBalance(A): %v %v", bal, err)
		}
		if _, err := n.wallet.ListHistory(wa, &koshv1.ListHistoryRequest{AccountId: a}); err != nil {
			t.Fatalf("A ListHistory(A): %v", err)
		}
		if _, err := n.wallet.Transfer(wa, &koshv1.WalletServiceTransferRequest{AccountId: a, ToAccountId: b,
			Asset: "KSH", Amount: 10, IdempotencyKey: newKey("w")}); err != nil {
			t.Fatalf("A Transfer(A->B): %v", err)
		}

		// gRPC: A cannot act on B.
		_, err = n.wallet.GetBalance(wa, &koshv1.GetBalanceRequest{AccountId: b})
		requireCode(t, "A GetBalance(B)", err, codes.PermissionDenied, a, b)
		_, err = n.wallet.ListHistory(wa, &koshv1.ListHistoryRequest{AccountId: b})
		requireCode(t, "A ListHistory(B)", err, codes.PermissionDenied, a, b)
		_, err = n.wallet.Transfer(wa, &koshv1.WalletServiceTransferRequest{AccountId: b, ToAccountId: a,
			Asset: "KSH", Amount: 10, IdempotencyKey: newKey("w")})
		requireCode(t, "A Transfer(B->A)", err, codes.PermissionDenied, a, b)

		// gRPC: the wallet macaroon reaches no issuer method; the admin
		// macaroon reaches no wallet method.
		served := servedMethods()
		for name := range perms.Methods {
			m := served[name]
			switch {
			case strings.HasPrefix(name, "/kosh.v1.IssuerService/"):
				requireCode(t, "wallet macaroon on "+name, invoke(wa, n.conn, m, name), codes.PermissionDenied)
			case strings.HasPrefix(name, "/kosh.v1.WalletService/"):
				requireCode(t, "admin macaroon on "+name, invoke(ctx(t, n.admin), n.conn, m, name), codes.PermissionDenied)
			}
		}
		_, err = n.wallet.GetBalance(ctx(t, n.admin), &koshv1.GetBalanceRequest{AccountId: a})
		requireCode(t, "admin GetBalance(A)", err, codes.PermissionDenied, "wallet:read")

		// REST: the same, with 403 and JSON naming both accounts.
		n.rest(http.MethodGet, "/v1/wallet/accounts/"+a+"/balance", macA, nil).requireOK(t, "REST A balance(A)")
		n.rest(http.MethodGet, "/v1/wallet/accounts/"+a+"/history", macA, nil).requireOK(t, "REST A history(A)")
		n.rest(http.MethodPost, "/v1/wallet/accounts/"+a+"/transfers", macA, map[string]any{
			"to_account_id": b, "asset": "KSH", "amount": "5", "idempotency_key": newKey("w"),
		}).requireOK(t, "REST A transfer(A->B)")
		n.rest(http.MethodGet, "/v1/wallet/accounts/"+b+"/balance", macA, nil).
			requireError(t, "REST A balance(B)", http.StatusForbidden, a, b)
		n.rest(http.MethodGet, "/v1/wallet/accounts/"+b+"/history", macA, nil).
			requireError(t, "REST A history(B)", http.StatusForbidden, a, b)
		n.rest(http.MethodPost, "/v1/wallet/accounts/"+b+"/transfers", macA, map[string]any{
			"to_account_id": a, "asset": "KSH", "amount": "5", "idempotency_key": newKey("w"),
		}).requireError(t, "REST A transfer(B->A)", http.StatusForbidden, a, b)
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/v1/assets"},
			{http.MethodGet, "/v1/accounts/" + a},
			{http.MethodGet, "/v1/journal"},
			{http.MethodPost, "/v1/mint"},
			{http.MethodPost, "/v1/transfer"},
			{http.MethodPost, "/v1/accounts/" + a + "/macaroon"},
		} {
			var body any
			if r.method == http.MethodPost {
				body = "{}"
			}
			n.rest(r.method, r.path, macA, body).requireError(t, "REST wallet macaroon "+r.method+" "+r.path, http.StatusForbidden)
		}
		n.rest(http.MethodGet, "/v1/wallet/accounts/"+a+"/balance", n.admin, nil).
			requireError(t, "REST admin wallet balance", http.StatusForbidden, "wallet:read")

		// Only A's own transfers moved money: A sent 10 + 5.
		acct, err := n.issuer.GetAccount(ctx(t, n.readonly), &koshv1.GetAccountRequest{AccountId: b})
		if err != nil || len(acct.Account.Balances) != 1 || acct.Account.Balances[0].Amount != 115 {
			t.Errorf("B's balance: %v %v, want 115", acct, err)
		}
		if s := n.supply("KSH"); s.Supply != 200 {
			t.Errorf("supply %d, want 200", s.Supply)
		}
	})
}

// TestMintNeedsReserves proves minting passes through the real reserve
// monitor: refused with no source, allowed up to the counted reserves,
// refused past them and refused when a source is stale, over gRPC and REST;
// and that a refused mint leaves supply unchanged.
func TestMintNeedsReserves(t *testing.T) {
	n := startNode(t, store.SQLite)
	n.createAsset("KSH")
	a, _ := n.createAccount("a")
	admin := ctx(t, n.admin)
	mint := func(amount int64) error {
		_, err := n.issuer.Mint(admin, &koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: amount, IdempotencyKey: newKey("m")})
		return err
	}
	restMint := func(amount string) restResponse {
		return n.rest(http.MethodPost, "/v1/mint", n.admin, map[string]any{"asset": "KSH", "account_id": a,
			"amount": amount, "idempotency_key": newKey("m")})
	}

	requireCode(t, "mint without a reserve source", mint(1), codes.FailedPrecondition, "no reserve source is configured")
	restMint("1").requireError(t, "REST mint without a reserve source", http.StatusBadRequest, "no reserve source is configured")

	n.d.Reserves().Register("test-source", time.Minute)
	requireCode(t, "mint before the source reported", mint(1), codes.FailedPrecondition, "stale", "has not reported")
	if err := n.d.Reserves().Report("test-source", 1000); err != nil {
		t.Fatal(err)
	}
	if err := mint(1000); err != nil {
		t.Fatalf("mint 1000 against 1000 sats: %v", err)
	}
	requireCode(t, "mint 1 past the reserves", mint(1), codes.FailedPrecondition, "needs 1001 sats", "1000 are counted")
	restMint("1").requireError(t, "REST mint 1 past the reserves", http.StatusBadRequest, "needs 1001 sats")
	if s := n.supply("KSH"); s.Supply != 1000 {
		t.Fatalf("supply after refused mints: %d, want 1000", s.Supply)
	}

	// A stale source blocks minting even when there is room.
	if err := n.d.Reserves().Report("test-source", 5000); err != nil {
		t.Fatal(err)
	}
	n.d.Reserves().Register("flaky-source", 20*time.Millisecond)
	if err := n.d.Reserves().Report("flaky-source", 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	requireCode(t, "mint with a stale source", mint(1), codes.FailedPrecondition, "stale", "flaky-source")
	restMint("1").requireError(t, "REST mint with a stale source", http.StatusBadRequest, "stale")
	if err := n.d.Reserves().Report("flaky-source", 1); err != nil {
		t.Fatal(err)
	}
	if err := mint(1); err != nil {
		t.Fatalf("mint after the stale source reported again: %v", err)
	}
	if s := n.supply("KSH"); s.Supply != 1001 {
		t.Fatalf("supply: %d, want 1001", s.Supply)
	}
}

// TestIdempotentRetry proves a retried Mint or Transfer (same key, same
// request) returns the original entry and changes nothing, over gRPC and
// REST.
func TestIdempotentRetry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		n := startNode(t, backend)
		n.fundedReserves()
		n.createAsset("KSH")
		a, _ := n.createAccount("a")
		b, _ := n.createAccount("b")
		admin := ctx(t, n.admin)

		req := &koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 500, IdempotencyKey: newKey("retry"), Memo: "once"}
		first, err := n.issuer.Mint(admin, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := n.issuer.Mint(admin, req)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if first.Entry.Seq != again.Entry.Seq || again.Entry.SupplyAfter != 500 {
			t.Fatalf("retry returned entry %v, first was %v", again.Entry, first.Entry)
		}
		// Over REST, the same key is the same operation.
		body := map[string]any{"asset": "KSH", "account_id": a, "amount": "500", "idempotency_key": req.IdempotencyKey, "memo": "once"}
		got := n.rest(http.MethodPost, "/v1/mint", n.admin, body).requireOK(t, "REST retry")
		if seq := got["entry"].(map[string]any)["seq"]; seq != jsonInt(first.Entry.Seq) {
			t.Fatalf("REST retry returned seq %v, want %d", seq, first.Entry.Seq)
		}
		if s := n.supply("KSH"); s.Supply != 500 || s.Holders != 1 {
			t.Fatalf("supply after retries: %v, want 500 held by 1", s)
		}

		treq := &koshv1.TransferRequest{Asset: "KSH", FromAccountId: a, ToAccountId: b, Amount: 200, IdempotencyKey: newKey("retry")}
		t1, err := n.issuer.Transfer(admin, treq)
		if err != nil {
			t.Fatal(err)
		}
		t2, err := n.issuer.Transfer(admin, treq)
		if err != nil || t2.Entry.Seq != t1.Entry.Seq {
			t.Fatalf("transfer retry: %v %v, first seq %d", t2, err, t1.Entry.Seq)
		}
		acct, err := n.issuer.GetAccount(ctx(t, n.readonly), &koshv1.GetAccountRequest{AccountId: b})
		if err != nil || acct.Account.Balances[0].Amount != 200 {
			t.Fatalf("B after a retried transfer of 200: %v %v", acct, err)
		}
		j, err := n.issuer.ListJournal(ctx(t, n.readonly), &koshv1.ListJournalRequest{Asset: "KSH"})
		if err != nil || len(j.Entries) != 2 {
			t.Fatalf("journal after retries has %d entries (%v), want 2", len(j.Entries), err)
		}
		if s := n.supply("KSH"); s.Supply != 500 || s.Holders != 2 {
			t.Fatalf("supply after transfer retries: %v", s)
		}
	})
}

// jsonInt is how protojson renders an int64: a JSON string of digits.
func jsonInt(v int64) string { return strconv.FormatInt(v, 10) }

// routeRE matches an HTTP rule in kosh.yaml: `post: "/v1/assets"`.
var routeRE = regexp.MustCompile(`(?m)^\s+(get|post|put|patch|delete):\s+"([^"]+)"`)

// TestOpenAPIAndMetrics proves the REST server serves the OpenAPI document
// with every route of kosh.yaml, and Prometheus metrics counting RPCs.
func TestOpenAPIAndMetrics(t *testing.T) {
	n := startNode(t, store.SQLite)
	yml, err := os.ReadFile(filepath.Join("..", "api", "kosh", "v1", "kosh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes := routeRE.FindAllStringSubmatch(string(yml), -1)
	if len(routes) < 15 {
		t.Fatalf("found %d routes in kosh.yaml; the pattern is broken", len(routes))
	}

	r := n.rest(http.MethodGet, "/openapi.json", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", r.Status, r.Raw)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	for _, rt := range routes {
		method, path := rt[1], rt[2]
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("/openapi.json lacks %s %s", strings.ToUpper(method), path)
		}
	}

	n.rest(http.MethodGet, "/v1/assets", n.readonly, nil).requireOK(t, "ListAssets")
	_, err = n.issuer.ListAssets(ctx(t, ""), &koshv1.ListAssetsRequest{})
	requireCode(t, "ListAssets without macaroon", err, codes.Unauthenticated)
	m := n.rest(http.MethodGet, "/metrics", "", nil)
	if m.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", m.Status)
	}
	for _, want := range []string{
		`kosh_rpc_calls_total{code="OK",method="/kosh.v1.IssuerService/ListAssets"} 1`,
		`kosh_rpc_calls_total{code="Unauthenticated",method="/kosh.v1.IssuerService/ListAssets"} 1`,
		`kosh_rpc_duration_seconds_count{method="/kosh.v1.IssuerService/ListAssets"} 2`,
	} {
		if !strings.Contains(string(m.Raw), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestAttestWithoutAReserveBlock: with no reserve source there is no block
// to attest at; Attest says so (FailedPrecondition), over gRPC and REST, and
// the public reads say no attestation exists yet (NotFound / 404).
func TestAttestWithoutAReserveBlock(t *testing.T) {
	n := startNode(t, store.SQLite)
	_, err := n.issuer.Attest(ctx(t, n.admin), &koshv1.AttestRequest{})
	requireCode(t, "attest with no reserve source", err, codes.FailedPrecondition, "no reserve source has reported a block yet")
	n.rest(http.MethodPost, "/v1/attestations", n.admin, map[string]any{}).requireError(t, "REST attest with no reserve source",
		http.StatusBadRequest, "no reserve source has reported a block yet")
	n.rest(http.MethodGet, "/v1/public/attestations/latest", "", nil).requireError(t, "latest before any",
		http.StatusNotFound, "no attestation has been published yet")
	_, err = n.issuer.Attest(ctx(t, n.readonly), &koshv1.AttestRequest{})
	requireCode(t, "attest with the readonly macaroon", err, codes.PermissionDenied)
}
