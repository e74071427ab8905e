package daemon_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/auth"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/perms"
	"github.com/kosh-reserve/kosh/store"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// servedFiles are the proto files whose services koshd serves.
var servedFiles = []protoreflect.FileDescriptor{
	koshv1.File_kosh_v1_kosh_proto,
	healthpb.File_grpc_health_v1_health_proto,
}

// servedMethods returns every method of every served service by full
// method name ("/kosh.v1.IssuerService/Mint").
func servedMethods() map[string]protoreflect.MethodDescriptor {
	out := map[string]protoreflect.MethodDescriptor{}
	for _, f := range servedFiles {
		svcs := f.Services()
		for i := 0; i < svcs.Len(); i++ {
			ms := svcs.Get(i).Methods()
			for j := 0; j < ms.Len(); j++ {
				m := ms.Get(j)
				out["/"+string(svcs.Get(i).FullName())+"/"+string(m.Name())] = m
			}
		}
	}
	return out
}

// TestPermissionMapComplete proves every RPC in the compiled descriptors has
// a rule in perms.Methods, that no rule names an RPC that does not exist,
// and that every non-public rule requires at least one operation.
func TestPermissionMapComplete(t *testing.T) {
	served := servedMethods()
	if len(served) < 15 {
		t.Fatalf("found only %d methods in the descriptors; the walk is broken", len(served))
	}
	for name := range served {
		rule, ok := perms.Methods[name]
		if !ok {
			t.Errorf("%s has no entry in perms.Methods", name)
			continue
		}
		if !rule.Public && len(rule.Ops) == 0 {
			t.Errorf("%s is not public but requires no operation", name)
		}
	}
	for name := range perms.Methods {
		if _, ok := served[name]; !ok {
			t.Errorf("perms.Methods has a stale entry %s: no such method in the descriptors", name)
		}
	}
}

// rogueDesc is a service nobody wrote a permission rule for.
var rogueDesc = grpc.ServiceDesc{
	ServiceName: "kosh.test.Rogue",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Steal",
		Handler: func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
			return nil, nil
		}}},
}

// TestCheckPermissions proves daemon.CheckPermissions accepts the real
// services and refuses a server carrying a method without a rule.
func TestCheckPermissions(t *testing.T) {
	s := grpc.NewServer()
	koshv1.RegisterIssuerServiceServer(s, koshv1.UnimplementedIssuerServiceServer{})
	koshv1.RegisterWalletServiceServer(s, koshv1.UnimplementedWalletServiceServer{})
	healthpb.RegisterHealthServer(s, healthpb.UnimplementedHealthServer{})
	if err := daemon.CheckPermissions(s); err != nil {
		t.Fatalf("real services refused: %v", err)
	}
	s.RegisterService(&rogueDesc, struct{}{})
	err := daemon.CheckPermissions(s)
	if err == nil {
		t.Fatal("CheckPermissions accepted a method without a permission rule")
	}
	if !strings.Contains(err.Error(), "/kosh.test.Rogue/Steal") {
		t.Errorf("error %q does not name the method", err)
	}
}

// allOps is every operation any rule requires.
func allOps() []perms.Op {
	seen := map[perms.Op]bool{}
	var out []perms.Op
	for _, r := range perms.Methods {
		for _, op := range r.Ops {
			if !seen[op] {
				seen[op] = true
				out = append(out, op)
			}
		}
	}
	return out
}

// without returns ops minus drop.
func without(ops, drop []perms.Op) []perms.Op {
	var out []perms.Op
next:
	for _, op := range ops {
		for _, d := range drop {
			if op == d {
				continue next
			}
		}
		out = append(out, op)
	}
	return out
}

// invoke calls method with an empty request through the dynamic descriptors.
func invoke(ctx context.Context, conn *grpc.ClientConn, m protoreflect.MethodDescriptor, full string) error {
	in := dynamicpb.NewMessage(m.Input())
	out := dynamicpb.NewMessage(m.Output())
	return conn.Invoke(ctx, full, in, out)
}

// TestAuthEveryMethod proves, for every non-public method in the permission
// map, that the interceptor refuses a call without a macaroon, with garbage,
// with a macaroon from another root key, with an expired macaroon, and with
// one granting every operation except those the method needs; and that the
// right macaroon gets past authentication.
func TestAuthEveryMethod(t *testing.T) {
	n := startNode(t, store.SQLite)
	served := servedMethods()

	otherKey := make([]byte, 32)
	rand.Read(otherKey)
	foreign, err := auth.NewService(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	const someAccount = "0b6f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	bake := func(s *auth.Service, ops []perms.Op, account string, expiry time.Time) string {
		t.Helper()
		mac, err := s.BakeHex(ops, account, expiry)
		if err != nil {
			t.Fatalf("bake: %v", err)
		}
		return mac
	}

	var names []string
	for name, rule := range perms.Methods {
		if !rule.Public {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		rule := perms.Methods[name]
		m, ok := served[name]
		if !ok {
			t.Errorf("%s is in perms.Methods but not served", name)
			continue
		}
		if m.IsStreamingClient() || m.IsStreamingServer() {
			t.Errorf("%s is streaming; this table only invokes unary methods", name)
			continue
		}
		account := ""
		if rule.AccountScoped {
			account = someAccount
		}
		cases := []struct {
			name string
			mac  string
			code codes.Code
		}{
			{"no macaroon", "", codes.Unauthenticated},
			{"not hex", "not-a-macaroon", codes.Unauthenticated},
			{"hex garbage", "deadbeef0123", codes.Unauthenticated},
			{"other root key", bake(foreign, allOps(), account, time.Time{}), codes.Unauthenticated},
			{"expired", bake(n.d.Macaroons(), allOps(), account, time.Now().Add(-time.Minute)), codes.Unauthenticated},
			{"every op but the required", bake(n.d.Macaroons(), without(allOps(), rule.Ops), account, time.Time{}), codes.PermissionDenied},
		}
		for _, c := range cases {
			err := invoke(ctx(t, c.mac), n.conn, m, name)
			requireCode(t, name+" with "+c.name, err, c.code)
		}
		// Control: exactly the required ops pass authentication (an empty
		// request is then refused by the handler, not by the interceptor).
		err := invoke(ctx(t, bake(n.d.Macaroons(), rule.Ops, account, time.Now().Add(time.Hour))), n.conn, m, name)
		if c := status.Code(err); c == codes.Unauthenticated || c == codes.PermissionDenied {
			t.Errorf("%s with exactly its ops: got %s %v, want past authentication", name, c, err)
		}
	}
}

// TestBakedMacaroons proves the readonly and minter macaroon files grant
// what their names say and no more, and that health needs no macaroon.
func TestBakedMacaroons(t *testing.T) {
	n := startNode(t, store.SQLite)
	n.fundedReserves()
	n.createAsset("KSH")
	a, _ := n.createAccount("a")
	b, _ := n.createAccount("b")
	n.mint("KSH", a, 100)

	// Health, without any macaroon.
	h, err := healthpb.NewHealthClient(n.conn).Check(ctx(t, ""), &healthpb.HealthCheckRequest{})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check without macaroon: %v %v", h, err)
	}

	// readonly reads everything.
	ro := ctx(t, n.readonly)
	if _, err := n.issuer.ListAssets(ro, &koshv1.ListAssetsRequest{}); err != nil {
		t.Errorf("readonly ListAssets: %v", err)
	}
	if _, err := n.issuer.GetAccount(ro, &koshv1.GetAccountRequest{AccountId: a}); err != nil {
		t.Errorf("readonly GetAccount: %v", err)
	}
	if _, err := n.issuer.ListJournal(ro, &koshv1.ListJournalRequest{}); err != nil {
		t.Errorf("readonly ListJournal: %v", err)
	}
	if s := n.supply("KSH"); s.Supply != 100 {
		t.Errorf("readonly GetSupply: %v", s)
	}
	// ... and changes nothing.
	_, err = n.issuer.CreateAsset(ro, &koshv1.CreateAssetRequest{Code: "RO", Name: "ro", Peg: koshv1.Peg_PEG_SAT})
	requireCode(t, "readonly CreateAsset", err, codes.PermissionDenied, "assets:write")
	_, err = n.issuer.Mint(ro, &koshv1.MintRequest{Asset: "KSH", AccountId: a, Amount: 1, IdempotencyKey: newKey("ro")})
	requireCode(t, "readonly Mint", err, codes.PermissionDenied, "supply:mint")
	_, err = n.issuer.Transfer(ro, &koshv1.TransferRequest{Asset: "KSH", FromAccountId: a, ToAccountId: b, Amount: 1, IdempotencyKey: newKey("ro")})
	requireCode(t, "readonly Transfer", err, codes.PermissionDenied, "transfers:write")

	// minter mints and burns, but moves no holder's tokens and opens no accounts.
	mi := ctx(t, n.minter)
	if _, err := n.issuer.Mint(mi, &koshv1.MintRequest{Asset: "KSH", AccountId: b, Amount: 7, IdempotencyKey: newKey("mi")}); err != nil {
		t.Errorf("minter Mint: %v", err)
	}
	if _, err := n.issuer.Burn(mi, &koshv1.BurnRequest{Asset: "KSH", AccountId: b, Amount: 2, IdempotencyKey: newKey("mi")}); err != nil {
		t.Errorf("minter Burn: %v", err)
	}
	_, err = n.issuer.Transfer(mi, &koshv1.TransferRequest{Asset: "KSH", FromAccountId: a, ToAccountId: b, Amount: 1, IdempotencyKey: newKey("mi")})
	requireCode(t, "minter Transfer", err, codes.PermissionDenied, "transfers:write")
	_, err = n.issuer.CreateAccount(mi, &koshv1.CreateAccountRequest{Label: "x"})
	requireCode(t, "minter CreateAccount", err, codes.PermissionDenied, "accounts:write")
	if s := n.supply("KSH"); s.Supply != 105 {
		t.Errorf("supply after minter mint 7 and burn 2: got %d, want 105", s.Supply)
	}

	// Over REST the same refusals are 401 and 403 with JSON.
	n.rest(http.MethodGet, "/v1/assets", "", nil).requireError(t, "REST without macaroon", http.StatusUnauthorized, "needs a macaroon")
	n.rest(http.MethodPost, "/v1/mint", n.readonly, map[string]any{"asset": "KSH", "account_id": a, "amount": "1",
		"idempotency_key": newKey("ro")}).requireError(t, "REST readonly mint", http.StatusForbidden, "supply:mint")
	n.rest(http.MethodGet, "/v1/assets", n.readonly, nil).requireOK(t, "REST readonly ListAssets")
}
