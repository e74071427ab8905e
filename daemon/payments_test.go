package daemon_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/store"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/protobuf/proto"
	"gopkg.in/macaroon.v2"
)

// writeLndMacaroon writes a macaroon in lnd's format granting
// perms[entity] = actions, as lnd bakes them (koshd reads the permissions
// from the macaroon; lnd's root key is not needed for that).
func writeLndMacaroon(t *testing.T, path string, perms map[string][]string) {
	t.Helper()
	id := &lnrpc.MacaroonId{Nonce: []byte("n"), StorageId: []byte("0")}
	for e, actions := range perms {
		id.Ops = append(id.Ops, &lnrpc.Op{Entity: e, Actions: actions})
	}
	raw, err := proto.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := macaroon.New([]byte("some lnd's root key"), append([]byte{3}, raw...), "lnd", macaroon.V2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPaymentsMacaroonChecked: koshd refuses to start with a payments
// macaroon that lacks a permission payments needs (lnd's read-only one),
// naming each missing permission, even with lnd unreachable; with every
// permission it starts, and waits for lnd.
func TestPaymentsMacaroonChecked(t *testing.T) {
	cfg := newConfig(t, store.SQLite)
	n := startNodeWith(t, cfg)
	cert := n.cfg.TLSCertPath() // any PEM certificate will do: lnd is not reached
	n.stop()

	dir := t.TempDir()
	readonly, admin := filepath.Join(dir, "readonly.macaroon"), filepath.Join(dir, "admin.macaroon")
	writeLndMacaroon(t, readonly, map[string][]string{"info": {"read"}, "invoices": {"read"}, "offchain": {"read"},
		"onchain": {"read"}, "address": {"read"}, "macaroon": {"read"}, "message": {"read"}, "peers": {"read"}})
	writeLndMacaroon(t, admin, map[string][]string{"info": {"read", "write"}, "invoices": {"read", "write"},
		"offchain": {"read", "write"}, "onchain": {"read", "write"}, "address": {"read", "write"}})
	log := slog.New(slog.DiscardHandler)

	cfg.Payments.Lnd = "name=alice,host=127.0.0.1:1,tlscert=" + cert + ",macaroon=" + readonly
	d, err := daemon.Start(context.Background(), cfg, log)
	if err == nil {
		_ = d.Stop()
		t.Fatal("koshd started with a read-only payments macaroon")
	}
	for _, want := range []string{"--payments.lnd alice", readonly, "invoices:write (AddInvoice", "offchain:write (SendPaymentV2",
		"onchain:write (SendCoins", "lncli bakemacaroon"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("start with a read-only payments macaroon: %q does not name %q", err, want)
		}
	}

	cfg.Payments.Lnd = "name=alice,host=127.0.0.1:1,tlscert=" + cert + ",macaroon=" + admin
	d, err = daemon.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start with every permission and lnd unreachable: %v", err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}
