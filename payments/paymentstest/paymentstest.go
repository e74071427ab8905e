// Package paymentstest bakes macaroons in lnd's format for tests of what
// koshd accepts as the payments lnd's macaroon. koshd reads a macaroon's
// permissions from its identifier, so these need no lnd; no lnd accepts
// them either, since no lnd has their root key.
package paymentstest

import (
	"os"
	"strings"
	"testing"

	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/protobuf/proto"
	"gopkg.in/macaroon.v2"
)

// bakeryV3 is the identifier version lnd bakes and accepts.
const bakeryV3 = 3

// LndMacaroon bakes a macaroon in lnd's format granting ops, each
// "entity:action" as payments.RequiredPermissions lists them, signed with a
// root key no lnd has.
func LndMacaroon(t testing.TB, ops ...string) []byte {
	t.Helper()
	byEntity := map[string][]string{}
	var order []string
	for _, op := range ops {
		e, a, _ := strings.Cut(op, ":")
		if _, ok := byEntity[e]; !ok {
			order = append(order, e)
		}
		byEntity[e] = append(byEntity[e], a)
	}
	id := &lnrpc.MacaroonId{Nonce: []byte("nonce"), StorageId: []byte("0")}
	for _, e := range order {
		id.Ops = append(id.Ops, &lnrpc.Op{Entity: e, Actions: byEntity[e]})
	}
	raw, err := proto.Marshal(id)
	if err != nil {
		t.Fatalf("marshal macaroon identifier: %v", err)
	}
	m, err := macaroon.New([]byte("a root key no lnd has"), append([]byte{bakeryV3}, raw...), "lnd", macaroon.V2)
	if err != nil {
		t.Fatalf("bake macaroon: %v", err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatalf("encode macaroon: %v", err)
	}
	return b
}

// WriteLndMacaroon writes LndMacaroon(t, ops...) to path, readable by its
// owner only, as lnd writes its macaroons.
func WriteLndMacaroon(t testing.TB, path string, ops ...string) {
	t.Helper()
	if err := os.WriteFile(path, LndMacaroon(t, ops...), 0o600); err != nil {
		t.Fatalf("write macaroon: %v", err)
	}
}
