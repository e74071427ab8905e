package daemon_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/store"
	"google.golang.org/grpc/codes"
)

// unknownAccount is a well-formed account id that no daemon has opened.
const unknownAccount = "0b6f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

// TestBadInputGRPC proves malformed and impossible requests over gRPC get
// the right status code and a message that says what to fix, and change
// nothing.
func TestBadInputGRPC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		n := startNode(t, backend)
		n.fundedReserves()
		n.createAsset("KSH")
		n.createAsset("BIG")
		a, _ := n.createAccount("a")
		b, _ := n.createAccount("b")
		n.mint("KSH", a, 100)
		admin := ctx(t, n.admin)
		reused := newKey("reused")
		if _, err := n.issuer.Mint(admin, &koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 1, IdempotencyKey: reused}); err != nil {
			t.Fatal(err)
		}
		max := int(n.cfg.MaxRequestBytes)

		mint := func(r *koshv1.MintRequest) func(context.Context) error {
			return func(c context.Context) error { _, err := n.issuer.Mint(c, r); return err }
		}
		cases := []struct {
			name string
			call func(context.Context) error
			code codes.Code
			want []string
		}{
			{"zero amount", mint(&koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 0, IdempotencyKey: newKey("b")}),
				codes.InvalidArgument, []string{"amount must be a positive", "got 0"}},
			{"negative amount", mint(&koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: -5, IdempotencyKey: newKey("b")}),
				codes.InvalidArgument, []string{"amount must be a positive", "got -5"}},
			{"negative transfer", func(c context.Context) error {
				_, err := n.issuer.Transfer(c, &koshv1.TransferRequest{Asset: "KSH", FromAccountId: a, ToAccountId: b, Amount: -1, IdempotencyKey: newKey("b")})
				return err
			}, codes.InvalidArgument, []string{"amount must be a positive"}},
			{"overdraft", func(c context.Context) error {
				_, err := n.issuer.Transfer(c, &koshv1.TransferRequest{Asset: "KSH", FromAccountId: a, ToAccountId: b, Amount: 1000, IdempotencyKey: newKey("b")})
				return err
			}, codes.FailedPrecondition, []string{"holds 101", "cannot debit 1000"}},
			{"unknown asset", mint(&koshv1.MintRequest{Asset: "NOPE", AccountId: a, Amount: 1, IdempotencyKey: newKey("b")}),
				codes.NotFound, []string{"no asset with code NOPE"}},
			{"GetAsset unknown", func(c context.Context) error {
				_, err := n.issuer.GetAsset(c, &koshv1.GetAssetRequest{Code: "NOPE"})
				return err
			}, codes.NotFound, []string{"NOPE"}},
			{"unknown account", mint(&koshv1.MintRequest{Asset: "KSH", AccountId: unknownAccount, Amount: 1, IdempotencyKey: newKey("b")}),
				codes.NotFound, []string{"no account " + unknownAccount}},
			{"GetAccount unknown", func(c context.Context) error {
				_, err := n.issuer.GetAccount(c, &koshv1.GetAccountRequest{AccountId: unknownAccount})
				return err
			}, codes.NotFound, []string{unknownAccount}},
			{"malformed account id", func(c context.Context) error {
				_, err := n.issuer.GetAccount(c, &koshv1.GetAccountRequest{AccountId: "alice"})
				return err
			}, codes.InvalidArgument, []string{`"alice" is not an account id`}},
			{"malformed asset code", func(c context.Context) error {
				_, err := n.issuer.CreateAsset(c, &koshv1.CreateAssetRequest{Code: "ksh!", Name: "x", Peg: koshv1.Peg_PEG_SAT})
				return err
			}, codes.InvalidArgument, []string{`"ksh!"`, "A-Z and 0-9"}},
			{"missing idempotency key", mint(&koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 1}),
				codes.InvalidArgument, []string{"idempotency_key is required"}},
			{"idempotency key reused for another request", mint(&koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 2, IdempotencyKey: reused}),
				codes.AlreadyExists, []string{reused, "different request"}},
			{"page_size above 1000", func(c context.Context) error {
				_, err := n.issuer.ListAccounts(c, &koshv1.ListAccountsRequest{PageSize: 1001})
				return err
			}, codes.InvalidArgument, []string{"1001", "maximum of 1000"}},
			{"limit above 1000", func(c context.Context) error {
				_, err := n.issuer.ListJournal(c, &koshv1.ListJournalRequest{Limit: 5000})
				return err
			}, codes.InvalidArgument, []string{"5000", "maximum of 1000"}},
			{"memo too long", mint(&koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 1, IdempotencyKey: newKey("b"), Memo: strings.Repeat("m", 300)}),
				codes.InvalidArgument, []string{"memo is 300 bytes", "at most 256"}},
			{"memo over the request limit", mint(&koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 1, IdempotencyKey: newKey("b"), Memo: strings.Repeat("m", max+1)}),
				codes.ResourceExhausted, []string{"larger than max"}},
			{"label over the request limit", func(c context.Context) error {
				_, err := n.issuer.CreateAccount(c, &koshv1.CreateAccountRequest{Label: strings.Repeat("l", max+1)})
				return err
			}, codes.ResourceExhausted, []string{"larger than max"}},
		}
		for _, c := range cases {
			requireCode(t, c.name, c.call(admin), c.code, c.want...)
		}

		// Overflow: a second mint past MaxInt64 is out of range and leaves
		// the supply where it was.
		// (The reserves, MaxInt64 sats, back the total supply of all assets,
		// so leave room for KSH's 101.)
		n.mint("BIG", b, math.MaxInt64-200)
		_, err := n.issuer.Mint(admin, &koshv1.MintRequest{Asset: "BIG", AccountId: b, Amount: 201, IdempotencyKey: newKey("b")})
		requireCode(t, "mint past MaxInt64", err, codes.OutOfRange, "int64 range")
		if s := n.supply("BIG"); s.Supply != math.MaxInt64-200 {
			t.Errorf("BIG supply after the refused mint: %d", s.Supply)
		}
		// A bare integer is an integer.
		bare := `{"asset":"KSH","account_id":"` + a + `","amount":3,"idempotency_key":"` + newKey("r") + `"}`
		n.rest(http.MethodPost, "/v1/mint", n.admin, bare).requireOK(t, "mint with a bare integer amount")
		if s := n.supply("KSH"); s.Supply != 104 {
			t.Errorf("KSH supply after refused requests: %d, want 101", s.Supply)
		}
	})
}

// TestBadInputREST proves the REST gateway answers bad requests with the
// right HTTP status and a JSON body carrying "code" and an actionable
// "message", for every class of mistake a client can make.
func TestBadInputREST(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend store.Backend) {
		n := startNode(t, backend)
		n.fundedReserves()
		n.createAsset("KSH")
		a, _ := n.createAccount("a")
		n.mint("KSH", a, 100)
		reused := newKey("reused")
		mintBody := func(amount, key string) map[string]any {
			return map[string]any{"asset": "KSH", "account_id": a, "amount": amount, "idempotency_key": key}
		}
		n.rest(http.MethodPost, "/v1/mint", n.admin, mintBody("1", reused)).requireOK(t, "first mint")
		max := n.cfg.MaxRequestBytes

		cases := []struct {
			name         string
			method, path string
			body         any
			status       int
			want         []string
		}{
			{"zero amount", "POST", "/v1/mint", mintBody("0", newKey("r")), 400, []string{"amount must be a positive"}},
			{"negative amount", "POST", "/v1/mint", mintBody("-5", newKey("r")), 400, []string{"amount must be a positive", "-5"}},
			{"amount past int64", "POST", "/v1/mint", mintBody("99999999999999999999", newKey("r")), 400, []string{"invalid value for int64", "99999999999999999999"}},
			{"amount not a number", "POST", "/v1/mint", mintBody("ten", newKey("r")), 400, []string{"invalid value for int64", "ten"}},
			{"unknown asset", "GET", "/v1/assets/NOPE", nil, 404, []string{"no asset with code NOPE"}},
			{"mint of an unknown asset", "POST", "/v1/mint",
				map[string]any{"asset": "NOPE", "account_id": a, "amount": "1", "idempotency_key": newKey("r")}, 404, []string{"NOPE"}},
			{"unknown account", "GET", "/v1/accounts/" + unknownAccount, nil, 404, []string{"no account " + unknownAccount}},
			{"malformed account id", "GET", "/v1/accounts/alice", nil, 400, []string{`"alice" is not an account id`}},
			{"malformed asset code", "POST", "/v1/assets", map[string]any{"code": "k$h", "name": "x", "peg": "PEG_SAT"}, 400, []string{`"k$h"`, "A-Z and 0-9"}},
			{"missing idempotency key", "POST", "/v1/mint", mintBody("1", ""), 400, []string{"idempotency_key is required"}},
			{"idempotency key reused", "POST", "/v1/mint", mintBody("2", reused), 409, []string{reused, "different request"}},
			{"page_size above 1000", "GET", "/v1/accounts?page_size=1001", nil, 400, []string{"maximum of 1000"}},
			{"limit above 1000", "GET", "/v1/journal?limit=1001", nil, 400, []string{"maximum of 1000"}},
			{"unknown JSON field", "POST", "/v1/mint", `{"asset":"KSH","amount":"1","bogus":true}`, 400, []string{"bogus"}},
			{"malformed JSON", "POST", "/v1/mint", `{"asset":`, 400, nil},
			{"body over the limit", "POST", "/v1/accounts", `{"label":"` + strings.Repeat("x", max) + `"}`, 413, []string{"limit is"}},
			{"chunked body over the limit", "POST", "/v1/accounts",
				io.MultiReader(strings.NewReader(`{"label":"` + strings.Repeat("x", max) + `"}`)), 413, nil},
			{"wrong method on a route", "DELETE", "/v1/assets", nil, 405, []string{"Method Not Allowed"}},
			{"wrong method on a POST route", "GET", "/v1/mint", nil, 405, []string{"Method Not Allowed"}},
			{"unknown route", "GET", "/v1/nothing", nil, 404, []string{"Not Found"}},
			{"unknown route outside /v1", "GET", "/nothing", nil, 404, []string{"Not Found"}},
			{"wrong method on /openapi.json", "POST", "/openapi.json", "{}", 404, []string{"Not Found"}},
			// Amounts are integers: no exponent, no fraction, as a string or
			// a bare JSON number (docs/ and the OpenAPI document say so).
			{"amount in exponent form", "POST", "/v1/mint", mintBody("1e2", newKey("r")), 400, []string{"amount", `"1e2"`, "integer"}},
			{"amount with a fraction", "POST", "/v1/mint", mintBody("1.0", newKey("r")), 400, []string{"amount", `"1.0"`, "integer"}},
			{"bare amount in exponent form", "POST", "/v1/mint",
				`{"asset":"KSH","account_id":"` + a + `","amount":2.5e1,"idempotency_key":"` + newKey("r") + `"}`, 400, []string{"amount", "2.5e1", "integer"}},
			{"amount with a plus sign", "POST", "/v1/mint", mintBody("+3", newKey("r")), 400, []string{"amount", `"+3"`, "integer"}},
			// NUL cannot be stored by PostgreSQL: refused the same on both
			// stores, naming the field.
			{"NUL in a memo", "POST", "/v1/mint",
				map[string]any{"asset": "KSH", "account_id": a, "amount": "1", "idempotency_key": newKey("r"), "memo": "a\x00b"},
				400, []string{"memo", "NUL"}},
			{"NUL in a label", "POST", "/v1/accounts", map[string]any{"label": "x\x00"}, 400, []string{"label", "NUL"}},
			{"NUL in an asset name", "POST", "/v1/assets", map[string]any{"code": "NUL", "name": "\x00", "peg": "PEG_SAT"}, 400, []string{"asset name", "NUL"}},
		}
		for _, c := range cases {
			n.rest(c.method, c.path, n.admin, c.body).requireError(t, c.name, c.status, c.want...)
		}
		// A bare integer is an integer.
		bare := `{"asset":"KSH","account_id":"` + a + `","amount":3,"idempotency_key":"` + newKey("r") + `"}`
		n.rest(http.MethodPost, "/v1/mint", n.admin, bare).requireOK(t, "mint with a bare integer amount")
		if s := n.supply("KSH"); s.Supply != 104 {
			t.Errorf("supply after refused requests: %d, want 104", s.Supply)
		}
	})
}
