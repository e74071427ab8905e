package daemon_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/perms"
	"github.com/kosh-reserve/kosh/store"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// expectedRule is what one RPC should require, written down by hand from
// the product's intent (README "API", DESIGN "Security"): which operations
// a macaroon must grant, whether it is public, whether the macaroon must be
// caveated to the account the request names, and which of the macaroons
// koshd bakes may call it. It is deliberately NOT derived from
// perms.Methods or perms.Admin & co., so that a change to perms.go that
// widens or narrows anyone's power fails TestPermissionTable until this
// table is changed too, by a person, on purpose.
type expectedRule struct {
	ops    string // operations as in a caveat, space-separated
	public bool
	scoped bool
	who    string // macaroons that may call it: admin readonly minter pricer wallet
}

// The five macaroons koshd bakes (four files on first start; wallet
// macaroons per account).
const (
	everyIssuer = "admin readonly minter pricer"
	readers     = "admin readonly minter"
)

var expectedRules = map[string]expectedRule{
	"/kosh.v1.IssuerService/CreateAsset":         {ops: "assets:write", who: "admin"},
	"/kosh.v1.IssuerService/ListAssets":          {ops: "assets:read", who: everyIssuer},
	"/kosh.v1.IssuerService/GetAsset":            {ops: "assets:read", who: everyIssuer},
	"/kosh.v1.IssuerService/CreateAccount":       {ops: "accounts:write", who: "admin"},
	"/kosh.v1.IssuerService/ListAccounts":        {ops: "accounts:read", who: readers},
	"/kosh.v1.IssuerService/GetAccount":          {ops: "accounts:read", who: readers},
	"/kosh.v1.IssuerService/BakeWalletMacaroon":  {ops: "accounts:write", who: "admin"},
	"/kosh.v1.IssuerService/Mint":                {ops: "supply:mint", who: "admin minter"},
	"/kosh.v1.IssuerService/Burn":                {ops: "supply:burn", who: "admin minter"},
	"/kosh.v1.IssuerService/Transfer":            {ops: "transfers:write", who: "admin"},
	"/kosh.v1.IssuerService/GetSupply":           {ops: "supply:read", who: everyIssuer},
	"/kosh.v1.IssuerService/ListJournal":         {ops: "journal:read", who: readers},
	"/kosh.v1.IssuerService/GetReserves":         {ops: "reserves:read", who: everyIssuer},
	"/kosh.v1.IssuerService/ExportControlProof":  {ops: "reserves:read", who: everyIssuer},
	"/kosh.v1.IssuerService/ImportControlProof":  {ops: "reserves:write", who: "admin"},
	"/kosh.v1.IssuerService/Attest":              {ops: "attestations:write", who: "admin"},
	"/kosh.v1.IssuerService/Anchor":              {ops: "attestations:write", who: "admin"},
	"/kosh.v1.IssuerService/ListFlaggedDeposits": {ops: "reserves:read", who: everyIssuer},
	"/kosh.v1.IssuerService/GetPrices":           {ops: "prices:read", who: everyIssuer},
	"/kosh.v1.IssuerService/SetManualPrice":      {ops: "prices:write", who: "admin pricer"},

	"/kosh.v1.PublicService/GetReserveStatus":     {public: true},
	"/kosh.v1.PublicService/GetStatus":            {public: true},
	"/kosh.v1.PublicService/GetLatestAttestation": {public: true},
	"/kosh.v1.PublicService/GetAttestation":       {public: true},
	"/kosh.v1.PublicService/ListAttestations":     {public: true},
	"/kosh.v1.PublicService/ListAnchors":          {public: true},

	"/kosh.v1.WalletService/GetBalance":        {ops: "wallet:read", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/ListHistory":       {ops: "wallet:read", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/Transfer":          {ops: "wallet:write", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/GetInclusionProof": {ops: "wallet:read", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/CreateDeposit":     {ops: "wallet:write", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/GetDeposit":        {ops: "wallet:read", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/ListDeposits":      {ops: "wallet:read", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/Redeem":            {ops: "wallet:write", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/GetRedemption":     {ops: "wallet:read", scoped: true, who: "wallet"},
	"/kosh.v1.WalletService/ListRedemptions":   {ops: "wallet:read", scoped: true, who: "wallet"},

	"/grpc.health.v1.Health/Check": {public: true},
	"/grpc.health.v1.Health/Watch": {public: true},
	"/grpc.health.v1.Health/List":  {public: true},
}

// parseOps turns "supply:read supply:mint" into ops.
func parseOps(t *testing.T, s string) []perms.Op {
	t.Helper()
	var out []perms.Op
	for _, f := range strings.Fields(s) {
		e, a, ok := strings.Cut(f, ":")
		if !ok {
			t.Fatalf("table op %q is not entity:action", f)
		}
		out = append(out, perms.Op{Entity: e, Action: a})
	}
	return out
}

func opStrings(ops []perms.Op) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.String()
	}
	sort.Strings(out)
	return out
}

// TestPermissionTable checks that the hand-written table names every
// method koshd serves, and nothing else, and that each rule in
// perms.Methods has exactly the table's operations and flags.
func TestPermissionTable(t *testing.T) {
	served := servedMethods()
	for name := range served {
		if _, ok := expectedRules[name]; !ok {
			t.Errorf("%s is served but not in the hand-written table: add it, deciding who may call it", name)
		}
	}
	for name := range expectedRules {
		if _, ok := served[name]; !ok {
			t.Errorf("the table names %s, which koshd does not serve", name)
		}
	}
	for name, want := range expectedRules {
		rule, ok := perms.Methods[name]
		if !ok {
			t.Errorf("%s has no rule in perms.Methods", name)
			continue
		}
		if rule.Public != want.public || rule.AccountScoped != want.scoped {
			t.Errorf("%s: perms says public %v, account-scoped %v; the table says %v, %v",
				name, rule.Public, rule.AccountScoped, want.public, want.scoped)
		}
		if got, exp := opStrings(rule.Ops), opStrings(parseOps(t, want.ops)); !slices.Equal(got, exp) {
			t.Errorf("%s: perms requires %v; the table says %v", name, got, exp)
		}
	}
}

// TestPermissionTableLive checks, through the real daemon (its
// interceptors, its macaroon files, a wallet macaroon from CreateAccount),
// that each of the five macaroons koshd bakes, and no macaroon at all, is
// let through exactly where the hand-written table says; and that a
// macaroon with exactly the table's operations is let through while one
// lacking any one of them, or (for wallet calls) lacking the account
// caveat, is refused. It does not read perms.Methods.
func TestPermissionTableLive(t *testing.T) {
	served := servedMethods()
	n := startNode(t, store.SQLite)
	account, wallet := n.createAccount("permtable")
	macs := []struct{ name, mac string }{
		{"admin", n.admin}, {"readonly", n.readonly}, {"minter", n.minter},
		{"pricer", n.macaroonFile("pricer")}, {"wallet", wallet}, {"none", ""},
	}
	names := make([]string, 0, len(expectedRules))
	for name := range expectedRules {
		names = append(names, name)
	}
	sort.Strings(names)

	for _, name := range names {
		want := expectedRules[name]
		m := served[name]
		for _, mc := range macs {
			allowed := want.public || slices.Contains(strings.Fields(want.who), mc.name)
			code := callAs(t, n, m, name, mc.mac, account)
			checkAllowed(t, fmt.Sprintf("%s as %s", name, mc.name), code, allowed, mc.mac == "")
		}
	}

	// Exactly the table's operations, and one fewer.
	var universe []perms.Op
	for _, r := range expectedRules {
		for _, op := range parseOps(t, r.ops) {
			if !slices.Contains(universe, op) {
				universe = append(universe, op)
			}
		}
	}
	bake := func(ops []perms.Op, acct string) string {
		t.Helper()
		mac, err := n.d.Macaroons().BakeHex(ops, acct, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return mac
	}
	for _, name := range names {
		want := expectedRules[name]
		if want.public {
			continue
		}
		acct := ""
		if want.scoped {
			acct = account
		}
		ops := parseOps(t, want.ops)
		code := callAs(t, n, served[name], name, bake(ops, acct), account)
		checkAllowed(t, fmt.Sprintf("%s with exactly %v", name, opStrings(ops)), code, true, false)
		for _, drop := range ops {
			rest := slices.DeleteFunc(slices.Clone(universe), func(op perms.Op) bool { return op == drop })
			code := callAs(t, n, served[name], name, bake(rest, acct), account)
			checkAllowed(t, fmt.Sprintf("%s with every op but %s", name, drop), code, false, false)
		}
		if want.scoped {
			// The same operations without an account caveat.
			code := callAs(t, n, served[name], name, bake(ops, ""), account)
			checkAllowed(t, name+" without an account caveat", code, false, false)
		}
	}
}

// checkAllowed fails unless code says the call got past authorization
// (allowed) or was refused by it (PermissionDenied; Unauthenticated when
// no macaroon was sent).
func checkAllowed(t *testing.T, what string, code codes.Code, allowed, anonymous bool) {
	t.Helper()
	refused := code == codes.PermissionDenied || code == codes.Unauthenticated
	switch {
	case allowed && refused:
		t.Errorf("%s: refused with %s; the table allows it", what, code)
	case !allowed && anonymous && code != codes.Unauthenticated:
		t.Errorf("%s: got %s; the table refuses it (want Unauthenticated)", what, code)
	case !allowed && !anonymous && code != codes.PermissionDenied:
		t.Errorf("%s: got %s; the table refuses it (want PermissionDenied)", what, code)
	}
}

// callAs invokes a served method with a request that is empty except for
// account_id, if the request has one, set to account. Streaming methods
// (health Watch) are opened and read once.
func callAs(t *testing.T, n *node, m protoreflect.MethodDescriptor, full, mac, account string) codes.Code {
	t.Helper()
	in := dynamicpb.NewMessage(m.Input())
	if f := m.Input().Fields().ByName("account_id"); f != nil && f.Kind() == protoreflect.StringKind {
		in.Set(f, protoreflect.ValueOfString(account))
	}
	out := dynamicpb.NewMessage(m.Output())
	c := ctx(t, mac)
	if !m.IsStreamingServer() && !m.IsStreamingClient() {
		return status.Code(n.conn.Invoke(c, full, in, out))
	}
	c, cancel := context.WithTimeout(c, 10*time.Second)
	defer cancel()
	s, err := n.conn.NewStream(c, &grpc.StreamDesc{ServerStreams: m.IsStreamingServer(),
		ClientStreams: m.IsStreamingClient()}, full)
	if err != nil {
		return status.Code(err)
	}
	if err := s.SendMsg(in); err != nil {
		return status.Code(err)
	}
	if err := s.CloseSend(); err != nil {
		return status.Code(err)
	}
	return status.Code(s.RecvMsg(out))
}
