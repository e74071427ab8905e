package auth

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/perms"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"gopkg.in/macaroon.v2"
)

const (
	accountA = "0b6f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	accountB = "7d2e9c10-5a4b-4c3d-9e8f-112233445566"
)

// clock is the fixed "now" of these tests.
var clock = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func testService(t *testing.T) *Service {
	t.Helper()
	s, err := NewService(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return clock }
	return s
}

// attenuate does what any holder can do without the root key: decode the
// macaroon, append first-party caveats, encode it again.
func attenuate(t *testing.T, macHex string, caveats ...string) string {
	t.Helper()
	raw, err := hex.DecodeString(macHex)
	if err != nil {
		t.Fatal(err)
	}
	var m macaroon.Macaroon
	if err := m.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	for _, c := range caveats {
		if err := m.AddFirstPartyCaveat([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// probe is one call a holder might try: a method and, for the wallet
// methods, the account the request names (the handler checks it with
// RequireAccount, as rpcserver's wallet handlers do).
type probe struct {
	name    string
	method  string
	account string
}

var probes = []probe{
	{"read own balance", "/kosh.v1.WalletService/GetBalance", accountA},
	{"move own tokens", "/kosh.v1.WalletService/Transfer", accountA},
	{"read another account", "/kosh.v1.WalletService/GetBalance", accountB},
	{"move another account's tokens", "/kosh.v1.WalletService/Transfer", accountB},
	{"mint", "/kosh.v1.IssuerService/Mint", ""},
	{"open an account", "/kosh.v1.IssuerService/CreateAccount", ""},
	{"bake a wallet macaroon", "/kosh.v1.IssuerService/BakeWalletMacaroon", ""},
	{"read supply", "/kosh.v1.IssuerService/GetSupply", ""},
}

// call runs a probe through the unary interceptor with a handler that, for
// account-scoped methods, checks the request's account as the wallet
// handlers do. It returns the status code (OK when the handler ran and
// accepted).
func call(s *Service, mac string, p probe) codes.Code {
	ctx := context.Background()
	if mac != "" {
		ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("macaroon", mac))
	}
	handler := func(ctx context.Context, _ any) (any, error) {
		if perms.Methods[p.method].AccountScoped {
			return nil, RequireAccount(ctx, p.account)
		}
		return nil, nil
	}
	_, err := s.UnaryInterceptor(ctx, nil, &grpc.UnaryServerInfo{FullMethod: p.method}, handler)
	return status.Code(err)
}

// TestHolderCaveatsOnlyNarrow gives a holder a wallet macaroon (operations
// wallet:read wallet:write, caveated to account A) and lets them append
// first-party caveats of their own. Whatever they append, the macaroon may
// only lose power: ops caveats intersect, every account caveat must hold
// (two different accounts grant nothing), every expiry must hold, and an
// unknown or malformed caveat makes the macaroon worthless.
func TestHolderCaveatsOnlyNarrow(t *testing.T) {
	s := testService(t)
	wallet, err := s.BakeHex(perms.Wallet, accountA, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expiring, err := s.BakeHex(perms.Wallet, accountA, clock.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) string { return clock.Add(d).Format(time.RFC3339) }

	const (
		ownRead  = "read own balance"
		ownWrite = "move own tokens"
	)
	cases := []struct {
		name    string
		base    string
		caveats []string
		// now shifts the clock for this case.
		now time.Duration
		// allowed lists the probes that must succeed; every other probe
		// must fail with PermissionDenied, or with Unauthenticated when
		// unauth is set (the macaroon itself is refused).
		allowed []string
		unauth  bool
	}{
		{name: "nothing added", base: wallet, allowed: []string{ownRead, ownWrite}},
		{name: "second ops caveat lists more operations", base: wallet,
			caveats: []string{"ops wallet:read wallet:write supply:mint supply:read accounts:write assets:write"},
			allowed: []string{ownRead, ownWrite}},
		{name: "second ops caveat lists only issuer operations", base: wallet,
			caveats: []string{"ops supply:mint accounts:write supply:read"}},
		{name: "second ops caveat narrows to reading", base: wallet,
			caveats: []string{"ops wallet:read"}, allowed: []string{ownRead}},
		{name: "third ops caveat lists again what the second dropped", base: wallet,
			caveats: []string{"ops wallet:read", "ops wallet:read wallet:write supply:mint"}, allowed: []string{ownRead}},
		{name: "empty ops caveat", base: wallet, caveats: []string{"ops"}},
		{name: "account caveat naming another account", base: wallet,
			caveats: []string{"account " + accountB}, unauth: true},
		{name: "account caveat naming another account, then the own one again", base: wallet,
			caveats: []string{"account " + accountB, "account " + accountA}, unauth: true},
		{name: "account caveat repeating the own account", base: wallet,
			caveats: []string{"account " + accountA}, allowed: []string{ownRead, ownWrite}},
		{name: "account caveat that is not an account id", base: wallet,
			caveats: []string{"account *"}, unauth: true},
		{name: "expiry in the future", base: wallet,
			caveats: []string{"time-before " + at(time.Minute)}, allowed: []string{ownRead, ownWrite}},
		{name: "expiry in the future, clock past it", base: wallet, now: 2 * time.Minute,
			caveats: []string{"time-before " + at(time.Minute)}, unauth: true},
		{name: "expiry in the past", base: wallet,
			caveats: []string{"time-before " + at(-time.Second)}, unauth: true},
		{name: "later expiry does not extend the baked one", base: expiring, now: 2 * time.Hour,
			caveats: []string{"time-before " + at(24*365*time.Hour)}, unauth: true},
		{name: "later expiry does not extend an earlier added one", base: wallet, now: 2 * time.Hour,
			caveats: []string{"time-before " + at(time.Hour), "time-before " + at(24*365*time.Hour)}, unauth: true},
		{name: "earlier expiry shortens the baked one", base: expiring, now: 30 * time.Minute,
			caveats: []string{"time-before " + at(10*time.Minute)}, unauth: true},
		{name: "malformed expiry", base: wallet, caveats: []string{"time-before tomorrow"}, unauth: true},
		{name: "unknown caveat", base: wallet, caveats: []string{"ipaddr 127.0.0.1"}, unauth: true},
		{name: "unknown caveat that looks like ops", base: wallet, caveats: []string{"ops\twallet:read"}, unauth: true},
		{name: "malformed operation", base: wallet, caveats: []string{"ops wallet"}, unauth: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.now = func() time.Time { return clock.Add(c.now) }
			defer func() { s.now = func() time.Time { return clock } }()
			mac := attenuate(t, c.base, c.caveats...)
			allowed := map[string]bool{}
			for _, a := range c.allowed {
				allowed[a] = true
			}
			for _, p := range probes {
				want := codes.PermissionDenied
				switch {
				case allowed[p.name]:
					want = codes.OK
				case c.unauth:
					want = codes.Unauthenticated
				}
				if got := call(s, mac, p); got != want {
					t.Errorf("%s: got %s, want %s", p.name, got, want)
				}
			}
		})
	}
}

// TestVerifyIntersectsOps checks the grant Verify computes from several ops
// caveats directly: exactly the operations every caveat lists.
func TestVerifyIntersectsOps(t *testing.T) {
	s := testService(t)
	admin, err := s.BakeHex(perms.Admin, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mac := attenuate(t, admin, "ops supply:read supply:mint journal:read wallet:write",
		"ops supply:read journal:read assets:write", "ops journal:read supply:read supply:mint")
	g, err := s.Verify(mac)
	if err != nil {
		t.Fatal(err)
	}
	want := map[perms.Op]bool{perms.SupplyRead: true, perms.JournalRead: true}
	for _, op := range append(append([]perms.Op{}, perms.Admin...), perms.Wallet...) {
		if g.Has(op) != want[op] {
			t.Errorf("grant has %s: %v, want %v", op, g.Has(op), want[op])
		}
	}
	if g.Account != "" {
		t.Errorf("grant account %q, want none", g.Account)
	}
}

// TestAccountCaveatOnIssuerMacaroon: an account caveat a holder adds to an
// issuer macaroon grants no wallet operation the macaroon lacked, for that
// account or any other. (What it does to issuer calls is not pinned here:
// they name accounts in their requests, and the interceptor does not read
// requests.)
func TestAccountCaveatOnIssuerMacaroon(t *testing.T) {
	s := testService(t)
	admin, err := s.BakeHex(perms.Admin, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mac := attenuate(t, admin, "account "+accountA)
	for _, p := range probes {
		if !strings.HasPrefix(p.method, "/kosh.v1.WalletService/") {
			continue
		}
		if got := call(s, mac, p); got != codes.PermissionDenied {
			t.Errorf("%s: got %s, want PermissionDenied", p.name, got)
		}
	}
}

// TestRemovingCaveatsBreaksSignature: a holder cannot drop the account
// caveat by rebuilding the macaroon from its id and signature.
func TestRemovingCaveatsBreaksSignature(t *testing.T) {
	s := testService(t)
	wallet, err := s.Bake(perms.Wallet, accountA, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// The same id and signature with the account caveat cut out of the
	// encoding: what a holder would need to get away with.
	j, err := wallet.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(j, &doc); err != nil {
		t.Fatal(err)
	}
	cavs, _ := doc["c"].([]any)
	if len(cavs) != 2 {
		t.Fatalf("wallet macaroon JSON has caveats %v, want ops and account", doc["c"])
	}
	doc["c"] = cavs[:1]
	j, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var forged macaroon.Macaroon
	if err := forged.UnmarshalJSON(j); err != nil {
		t.Fatal(err)
	}
	if len(forged.Caveats()) != 1 || !bytes.Equal(forged.Signature(), wallet.Signature()) {
		t.Fatalf("forgery not built: %d caveats", len(forged.Caveats()))
	}
	b, err := forged.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := probe{"read another account", "/kosh.v1.WalletService/GetBalance", accountB}
	if got := call(s, hex.EncodeToString(b), p); got != codes.Unauthenticated {
		t.Fatalf("macaroon without its account caveat: %s, want Unauthenticated", got)
	}
}
