package daemon_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/payments/paymentstest"
	"github.com/kosh-reserve/kosh/store"
)

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
	paymentstest.WriteLndMacaroon(t, readonly, "info:read", "invoices:read", "offchain:read", "onchain:read",
		"address:read", "macaroon:read", "message:read", "peers:read")
	paymentstest.WriteLndMacaroon(t, admin, "info:read", "info:write", "invoices:read", "invoices:write",
		"offchain:read", "offchain:write", "onchain:read", "onchain:write", "address:read", "address:write")
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
