package auth

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/perms"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// withMacaroon is an incoming call context carrying mac as grpc-gateway and
// koshcli send it.
func withMacaroon(mac string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs("macaroon", mac))
}

// TestVerifyRefusesForeignAndGarbled: Verify's failure modes other than the
// caveats (TestHolderCaveatsOnlyNarrow): a value that is not hex, hex that is
// not a macaroon, and a well-formed macaroon baked under another root key
// (another koshd, or a rotated key) are refused, each with its own reason.
func TestVerifyRefusesForeignAndGarbled(t *testing.T) {
	s := testService(t)
	other, err := NewService(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.BakeHex(perms.Admin, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	own, err := s.BakeHex(perms.Admin, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(own)
	flipped := append([]byte{}, raw...)
	flipped[len(flipped)-1] ^= 1 // the signature's last byte

	for _, c := range []struct {
		name, mac, want string
	}{
		{"not hex", "admin.macaroon", "not hex-encoded"},
		{"base64, as another tool might send it", "AgEEbG5kAk", "not hex-encoded"},
		{"hex but not a macaroon", "deadbeef", "cannot be decoded"},
		{"baked by another koshd", foreign, "signature is invalid"},
		{"signature altered", hex.EncodeToString(flipped), "signature is invalid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Verify(c.mac); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Verify: %v, want an error saying %q", err, c.want)
			}
			_, err := s.Authorize(withMacaroon(c.mac), "/kosh.v1.IssuerService/GetSupply")
			if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Authorize: %v, want Unauthenticated saying %q", err, c.want)
			}
		})
	}
	if _, err := s.Verify(own); err != nil {
		t.Fatalf("the service's own macaroon: %v", err)
	}
}

// TestNewServiceRootKey: the root key must be 32 bytes; anything else is
// refused rather than silently weakening every macaroon.
func TestNewServiceRootKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := NewService(make([]byte, n)); err == nil {
			t.Errorf("NewService accepts a %d-byte root key", n)
		}
	}
}

// TestAuthorizeWithoutMacaroon: a call without a macaroon is
// Unauthenticated and told how to send one (the flag and the REST header);
// an empty header counts as none. Public methods need none.
func TestAuthorizeWithoutMacaroon(t *testing.T) {
	s := testService(t)
	for name, ctx := range map[string]context.Context{
		"no metadata":  context.Background(),
		"empty header": withMacaroon(""),
	} {
		_, err := s.Authorize(ctx, "/kosh.v1.IssuerService/Mint")
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
			continue
		}
		for _, hint := range []string{"--macaroonpath", "Grpc-Metadata-macaroon"} {
			if !strings.Contains(status.Convert(err).Message(), hint) {
				t.Errorf("%s: message %q does not mention %s", name, status.Convert(err).Message(), hint)
			}
		}
	}
	for full, rule := range perms.Methods {
		if !rule.Public {
			continue
		}
		if _, err := s.Authorize(context.Background(), full); err != nil {
			t.Errorf("public %s without a macaroon: %v", full, err)
		}
	}
}

// TestAuthorizeFailsClosed: a method with no rule in perms.Methods is
// refused even with the admin macaroon.
func TestAuthorizeFailsClosed(t *testing.T) {
	s := testService(t)
	admin, err := s.BakeHex(perms.Admin, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"/kosh.v1.IssuerService/DropTables", "/kosh.v1.issuerservice/Mint", ""} {
		_, err := s.Authorize(withMacaroon(admin), m)
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "no permission rule") {
			t.Errorf("%q: %v, want PermissionDenied (no permission rule)", m, err)
		}
	}
}

// TestReadOnlyDeniedWrites: the readonly macaroon calls every method whose
// operations it holds, and every other non-public method is PermissionDenied
// with a message naming the missing operation.
func TestReadOnlyDeniedWrites(t *testing.T) {
	s := testService(t)
	ro, err := s.BakeHex(perms.ReadOnly, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	held := map[perms.Op]bool{}
	for _, op := range perms.ReadOnly {
		held[op] = true
	}
	denied := 0
	for full, rule := range perms.Methods {
		if rule.Public {
			continue
		}
		var missing []perms.Op
		for _, op := range rule.Ops {
			if !held[op] {
				missing = append(missing, op)
			}
		}
		_, err := s.Authorize(withMacaroon(ro), full)
		switch {
		case len(missing) == 0 && !rule.AccountScoped:
			if err != nil {
				t.Errorf("readonly %s: %v, want allowed", full, err)
			}
		case len(missing) > 0:
			denied++
			if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), missing[0].String()) {
				t.Errorf("readonly %s: %v, want PermissionDenied naming %s", full, err, missing[0])
			}
		default:
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("readonly %s: %v, want PermissionDenied (needs a wallet macaroon)", full, err)
			}
		}
	}
	if denied < 10 {
		t.Fatalf("only %d methods denied to readonly; the write methods are not being checked", denied)
	}
	for _, w := range []string{"/kosh.v1.IssuerService/Mint", "/kosh.v1.IssuerService/CreateAsset",
		"/kosh.v1.IssuerService/Transfer", "/kosh.v1.IssuerService/SetManualPrice", "/kosh.v1.IssuerService/ImportControlProof"} {
		if _, err := s.Authorize(withMacaroon(ro), w); status.Code(err) != codes.PermissionDenied {
			t.Errorf("readonly %s: %v, want PermissionDenied", w, err)
		}
	}
}

// fakeStream is a server stream whose only use here is its context.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

// TestStreamInterceptor: streaming calls (the health Watch) go through the
// same rules, and the handler sees the grant in the stream's context.
func TestStreamInterceptor(t *testing.T) {
	s := testService(t)
	wallet, err := s.BakeHex(perms.Wallet, accountA, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got Grant
	handler := func(_ any, ss grpc.ServerStream) error {
		got, _ = GrantFromContext(ss.Context())
		return RequireAccount(ss.Context(), accountA)
	}
	info := &grpc.StreamServerInfo{FullMethod: "/kosh.v1.WalletService/GetBalance"}
	if err := s.StreamInterceptor(nil, fakeStream{ctx: withMacaroon(wallet)}, info, handler); err != nil {
		t.Fatalf("wallet macaroon on its account: %v", err)
	}
	if got.Account != accountA || !got.Has(perms.WalletRead) {
		t.Errorf("handler saw grant %+v, want account %s with wallet:read", got, accountA)
	}
	called := false
	refuse := func(any, grpc.ServerStream) error { called = true; return nil }
	if err := s.StreamInterceptor(nil, fakeStream{ctx: context.Background()}, info, refuse); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no macaroon: %v, want Unauthenticated", err)
	}
	if called {
		t.Error("the handler ran for a call without a macaroon")
	}
}

// TestRequireAccountWithoutGrant: a handler reached without a wallet grant
// (a public or issuer context) cannot pass RequireAccount.
func TestRequireAccountWithoutGrant(t *testing.T) {
	err := RequireAccount(context.Background(), accountA)
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "wallet macaroon") {
		t.Errorf("RequireAccount without a grant: %v, want PermissionDenied asking for a wallet macaroon", err)
	}
}
