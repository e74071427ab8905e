package perms_test

import (
	"strings"
	"testing"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/perms"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// descriptorMethods returns every RPC of every service in the proto files
// koshd serves, by full method name, and the service each belongs to.
func descriptorMethods() map[string]string {
	out := map[string]string{}
	for _, f := range []protoreflect.FileDescriptor{koshv1.File_kosh_v1_kosh_proto, healthpb.File_grpc_health_v1_health_proto} {
		for i := 0; i < f.Services().Len(); i++ {
			svc := f.Services().Get(i)
			for j := 0; j < svc.Methods().Len(); j++ {
				out["/"+string(svc.FullName())+"/"+string(svc.Methods().Get(j).Name())] = string(svc.FullName())
			}
		}
	}
	return out
}

// TestEveryRPCHasARule: each RPC in the service descriptors has an entry in
// Methods, and Methods names no RPC that does not exist.
func TestEveryRPCHasARule(t *testing.T) {
	methods := descriptorMethods()
	if len(methods) < 30 {
		t.Fatalf("found %d RPCs in the descriptors; the walk is broken", len(methods))
	}
	for full := range methods {
		if _, ok := perms.Methods[full]; !ok {
			t.Errorf("%s has no rule in perms.Methods", full)
		}
	}
	for full := range perms.Methods {
		if _, ok := methods[full]; !ok {
			t.Errorf("perms.Methods has a rule for %s, which no service has", full)
		}
	}
}

// TestRuleShapes: the rules are consistent with the services they guard.
// Public rules are exactly PublicService and health, and require nothing;
// every other rule requires an operation; account-scoped rules are exactly
// WalletService's, which require only wallet operations; issuer methods
// require no wallet operation.
func TestRuleShapes(t *testing.T) {
	methods := descriptorMethods()
	for full, rule := range perms.Methods {
		svc := methods[full]
		wantPublic := svc == "kosh.v1.PublicService" || svc == "grpc.health.v1.Health"
		if rule.Public != wantPublic {
			t.Errorf("%s: Public=%v, want %v", full, rule.Public, wantPublic)
		}
		if rule.Public {
			if len(rule.Ops) != 0 || rule.AccountScoped {
				t.Errorf("%s is public but requires %v (scoped %v)", full, rule.Ops, rule.AccountScoped)
			}
			continue
		}
		if len(rule.Ops) == 0 {
			t.Errorf("%s needs a macaroon that grants nothing in particular", full)
		}
		wallet := svc == "kosh.v1.WalletService"
		if rule.AccountScoped != wallet {
			t.Errorf("%s: AccountScoped=%v, want %v", full, rule.AccountScoped, wallet)
		}
		for _, op := range rule.Ops {
			if (op.Entity == "wallet") != wallet {
				t.Errorf("%s (%s) requires %s", full, svc, op)
			}
		}
	}
}

// TestReadOnlyGrantsNoWrite: the readonly macaroon's operations are all
// reads, and so every method requiring anything else is denied to it.
func TestReadOnlyGrantsNoWrite(t *testing.T) {
	held := map[perms.Op]bool{}
	for _, op := range perms.ReadOnly {
		if op.Action != "read" {
			t.Errorf("ReadOnly grants %s", op)
		}
		held[op] = true
	}
	writes := 0
	for full, rule := range perms.Methods {
		for _, op := range rule.Ops {
			if op.Action != "read" {
				writes++
				if held[op] {
					t.Errorf("readonly may call %s (%s)", full, op)
				}
			}
		}
	}
	if writes < 10 {
		t.Fatalf("only %d write requirements found; the walk is broken", writes)
	}
}

// TestBakedSetsMatchRules: every operation a rule requires is granted by at
// least one macaroon koshd bakes (else the method is unreachable), every
// operation a baked macaroon carries is required by some rule (else it is a
// permission without meaning), issuer macaroons carry no wallet operation,
// the wallet set only wallet ones, and Admin holds every issuer operation.
func TestBakedSetsMatchRules(t *testing.T) {
	sets := map[string][]perms.Op{
		"admin": perms.Admin, "readonly": perms.ReadOnly, "minter": perms.Minter,
		"pricer": perms.Pricer, "wallet": perms.Wallet,
	}
	granted := map[perms.Op]bool{}
	for name, ops := range sets {
		seen := map[perms.Op]bool{}
		for _, op := range ops {
			if seen[op] {
				t.Errorf("%s lists %s twice", name, op)
			}
			seen[op] = true
			granted[op] = true
			if (op.Entity == "wallet") != (name == "wallet") {
				t.Errorf("the %s macaroon carries %s", name, op)
			}
		}
	}
	required := map[perms.Op]bool{}
	for full, rule := range perms.Methods {
		for _, op := range rule.Ops {
			required[op] = true
			if !granted[op] {
				t.Errorf("%s requires %s, which no baked macaroon grants", full, op)
			}
		}
	}
	for op := range granted {
		if !required[op] {
			t.Errorf("%s is granted but no method requires it", op)
		}
	}
	admin := map[perms.Op]bool{}
	for _, op := range perms.Admin {
		admin[op] = true
	}
	for op := range required {
		if op.Entity != "wallet" && !admin[op] {
			t.Errorf("Admin lacks %s", op)
		}
	}
}

// TestOpString: ops render as "entity:action", the caveat syntax auth
// parses (it splits on the first ':', and on spaces between ops).
func TestOpString(t *testing.T) {
	if got := perms.SupplyMint.String(); got != "supply:mint" {
		t.Errorf("SupplyMint = %q", got)
	}
	for full, rule := range perms.Methods {
		for _, op := range rule.Ops {
			s := op.String()
			if strings.Count(s, ":") != 1 || strings.ContainsAny(s, " \t") || op.Entity == "" || op.Action == "" {
				t.Errorf("%s requires %q, which cannot round-trip through a caveat", full, s)
			}
		}
	}
}
