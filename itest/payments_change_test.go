package itest

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/payments"
	"github.com/kosh-reserve/kosh/payments/paymentstest"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/metadata"
)

// statusWatch polls the public reserve status (no macaroon) until stopped
// and remembers every reading that was not "backed" for asset, and the most
// the payments node was ever counted for.
type statusWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	readings int
	bad      []string
	maxNode  int64
}

func watchStatus(t *testing.T, k *koshNode, asset, node string) *statusWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &statusWatch{cancel: cancel, done: make(chan struct{})}
	pub := koshv1.NewPublicServiceClient(k.conn)
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			r, err := pub.GetReserveStatus(cctx, &koshv1.GetReserveStatusRequest{})
			ccancel()
			if err == nil {
				w.mu.Lock()
				w.readings++
				for _, a := range r.Snapshot.Assets {
					if a.Asset == asset && a.Status != "backed" {
						w.bad = append(w.bad, fmt.Sprintf("%s at %d bps (counted %d, supply %d)", a.Status, a.CoverageBps,
							r.Snapshot.Counted, a.Supply))
					}
				}
				if src := source(r.Snapshot, node); src != nil {
					w.maxNode = max(w.maxNode, src.Counted)
				}
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		w.stop()
		w.mu.Lock()
		defer w.mu.Unlock()
		if t.Failed() && len(w.bad) > 0 {
			t.Logf("the public status was not backed in %d of %d readings; first: %s", len(w.bad), w.readings, w.bad[0])
		}
	})
	return w
}

func (w *statusWatch) stop() {
	w.cancel()
	<-w.done
}

// stopped reports what the watch saw.
func (w *statusWatch) stopped() (readings int, bad []string, maxNode int64) {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.readings, w.bad, w.maxNode
}

// TestOnchainRedemptionChange pays an on-chain redemption from the payments
// lnd's wallet, whose one output backs the whole supply with 11% to spare,
// at chain.minconf 6, against real btcd and lnd. The input keeps counting
// while the payout is in the mempool, the change counts from the payout's
// first confirmation (not after 6), a reorg that takes the payout back to
// the mempool moves the count back to the input, and at 6 confirmations
// the change is simply confirmed: the node's count never exceeds what it
// held, and the public status stays "backed" throughout. Then a payout
// that also spends a deposit younger than 6 confirmations: its change
// waits for 6.
func TestOnchainRedemptionChange(t *testing.T) {
	h := harness.Shared(t)
	alice := h.NewNode(t, "chgalice")
	const fund, supply = 1_000_000, 900_000
	h.FundNode(t, alice, fund)
	h.Mine(t, 5)
	h.WaitSynced(t, alice)

	cfg := koshConfig(t, h)
	cfg.Chain.MinConf = 6
	cfg.Chain.Birthday = tipHeight(t, h) + 1
	cfg.Lnd.Nodes = []string{lndSpec(alice)}
	cfg.Payments.Lnd = fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s", alice.Name, alice.RPCAddr,
		alice.TLSCertPath, alice.AdminMacaroonPath)
	cfg.Payments.Poll = 200 * time.Millisecond
	k := startKosh(t, cfg)
	k.waitReserves("alice's deposit counted", syncTimeout, lnClasses(alice.Name, map[string]int64{"wallet_confirmed": fund}))

	const asset = "CHG"
	k.createAsset(asset)
	holder := k.createAccount("holder")
	if err := k.mint(asset, holder, supply); err != nil {
		t.Fatal(err)
	}
	mac, err := k.issuer.BakeWalletMacaroon(k.ctx(), &koshv1.BakeWalletMacaroonRequest{AccountId: holder})
	if err != nil {
		t.Fatal(err)
	}
	wallet := koshv1.NewWalletServiceClient(k.conn)
	wctx := func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return metadata.AppendToOutgoingContext(c, "macaroon", mac.WalletMacaroon)
	}

	watch := watchStatus(t, k, asset, alice.Name)

	const amount, rate = 50_000, 2
	res, err := wallet.Redeem(wctx(), &koshv1.RedeemRequest{AccountId: holder, Asset: asset,
		Method: koshv1.PaymentMethod_PAYMENT_METHOD_ONCHAIN, IdempotencyKey: "chg-1",
		Address: h.MinerAddress().String(), Amount: amount, SatPerVbyte: rate})
	if err != nil {
		t.Fatal(err)
	}
	waitRedemption := func(state string) *koshv1.Redemption {
		t.Helper()
		var r *koshv1.Redemption
		harness.WaitFor(t, func() error {
			g, err := wallet.GetRedemption(wctx(), &koshv1.GetRedemptionRequest{AccountId: holder, RedemptionId: res.Redemption.Id})
			if err != nil {
				return err
			}
			if r = g.Redemption; r.State != state {
				return fmt.Errorf("redemption is %s (%s), want %s", r.State, r.FailureReason, state)
			}
			return nil
		}, 60*time.Second)
		return r
	}
	r := waitRedemption("in_flight")
	k.waitReserves("payout in the mempool: the input still counts", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_spending": fund, "wallet_change": 0, "wallet_confirmed": 0}))

	// The payout's change, from the transaction itself.
	var change int64
	tx, err := h.Client().GetRawTransaction(mustHash(t, r.Txid))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range tx.MsgTx().TxOut {
		if o.Value != amount {
			change += o.Value
		}
	}
	if change <= 0 || change >= fund-amount {
		t.Fatalf("payout %s: change %d", r.Txid, change)
	}

	h.Mine(t, 1)
	r = waitRedemption("paid")
	k.waitReserves("payout at 1 confirmation: the change counts", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_change": change, "wallet_spending": 0, "wallet_confirmed": 0}))

	// A reorg takes the payout's block away; the payout waits in the
	// mempool again. The input counts again, the change no longer.
	h.ReorgToMempool(t, 1)
	k.waitReserves("payout reorged out: the input counts again", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_spending": fund, "wallet_change": 0, "wallet_confirmed": 0}))

	h.Mine(t, 1)
	k.waitReserves("payout mined again: the change counts", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_change": change, "wallet_spending": 0, "wallet_confirmed": 0}))
	h.Mine(t, 5)
	k.waitReserves("change at 6 confirmations", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_confirmed": change, "wallet_change": 0, "wallet_spending": 0}))

	readings, bad, maxNode := watch.stopped()
	t.Logf("%d public status readings through the redemption; alice counted at most %d", readings, maxNode)
	if readings < 20 {
		t.Fatalf("only %d readings of the public status", readings)
	}
	if len(bad) > 0 {
		t.Fatalf("the public status was not backed in %d of %d readings, e.g. %s", len(bad), readings, strings.Join(bad[:min(len(bad), 5)], "; "))
	}
	if maxNode > fund {
		t.Fatalf("alice was counted for %d, more than the %d she ever held", maxNode, fund)
	}
	// The holder paid amount + fee limit, once.
	bal, err := wallet.GetBalance(wctx(), &koshv1.GetBalanceRequest{AccountId: holder})
	if err != nil {
		t.Fatal(err)
	}
	if got := bal.Balances[0].Amount; got != supply-amount-r.FeeLimit {
		t.Fatalf("holder holds %d, want %d", got, supply-amount-r.FeeLimit)
	}

	// A payout of alice's own that also spends a deposit with 1
	// confirmation: its change waits for 6 confirmations.
	h.FundNode(t, alice, 30_000)
	utxos, err := alice.LN.ListUnspent(t.Context(), &lnrpc.ListUnspentRequest{MinConfs: 1, MaxConfs: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	var ins []*lnrpc.OutPoint
	for _, u := range utxos.Utxos {
		ins = append(ins, u.Outpoint)
	}
	if len(ins) != 2 {
		t.Fatalf("alice has %d outputs, want the change and the new deposit", len(ins))
	}
	sent, err := alice.LN.SendCoins(t.Context(), &lnrpc.SendCoinsRequest{Addr: h.MinerAddress().String(), Amount: 100_000,
		SatPerVbyte: 2, Outpoints: ins, Label: "itest: spends a young deposit"})
	if err != nil {
		t.Fatal(err)
	}
	// In the mempool the old input counts; the young one does not.
	k.waitReserves("mixed payout in the mempool", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_spending": change, "wallet_change": 0, "wallet_confirmed": 0}))
	h.Mine(t, 1)
	var mixedChange int64
	mtx, err := h.Client().GetRawTransaction(mustHash(t, sent.Txid))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range mtx.MsgTx().TxOut {
		if o.Value != 100_000 {
			mixedChange += o.Value
		}
	}
	k.waitReserves("mixed payout confirmed: its change waits", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_spending": 0, "wallet_change": 0, "wallet_confirmed": 0, "wallet_unconfirmed": mixedChange}))
	h.Mine(t, 5)
	k.waitReserves("mixed payout's change at 6 confirmations", syncTimeout, lnClasses(alice.Name,
		map[string]int64{"wallet_confirmed": mixedChange, "wallet_change": 0}))
}

// TestPaymentsMacaroon checks the payments macaroon against real lnd
// macaroons: koshd refuses to start with lnd's read-only macaroon (naming
// what it lacks) and with a macaroon lnd refuses (another root key; lnd's
// own reason is quoted), and starts with a macaroon lnd baked with exactly
// the permissions payments needs, checked by lnd's ListPermissions.
func TestPaymentsMacaroon(t *testing.T) {
	h := harness.Shared(t)
	alice := h.NewNode(t, "macalice")
	dir := t.TempDir()
	spec := func(mac string) string {
		return fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s", alice.Name, alice.RPCAddr, alice.TLSCertPath, mac)
	}
	cfg := koshConfig(t, h)
	cfg.Chain.Birthday = tipHeight(t, h) + 1

	cfg.Payments.Lnd = spec(alice.ReadonlyMacaroonPath)
	if _, err := startKoshErr(cfg); err == nil || !containsAll(err.Error(), "invoices:write (AddInvoice",
		"offchain:write (SendPaymentV2", "onchain:write (SendCoins", "lncli bakemacaroon") {
		t.Fatalf("start with lnd's read-only macaroon: %v, want refused naming the missing permissions", err)
	}

	// Every permission, but not baked by this lnd.
	foreign := filepath.Join(dir, "foreign.macaroon")
	paymentstest.WriteLndMacaroon(t, foreign, payments.RequiredPermissions()...)
	cfg.Payments.Lnd = spec(foreign)
	_, err := startKoshErr(cfg)
	if err == nil || !containsAll(err.Error(), "refuses koshd's macaroon", "GetInfo") {
		t.Fatalf("start with a macaroon of another lnd: %v, want refused with lnd's reason", err)
	}
	t.Logf("lnd refuses a foreign macaroon: %v", err)

	// Baked by lnd with exactly the permissions payments needs.
	var perms []*lnrpc.MacaroonPermission
	for _, p := range payments.RequiredPermissions() {
		e, a, _ := strings.Cut(p, ":")
		perms = append(perms, &lnrpc.MacaroonPermission{Entity: e, Action: a})
	}
	baked, err := alice.LN.BakeMacaroon(t.Context(), &lnrpc.BakeMacaroonRequest{Permissions: perms})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(baked.Macaroon)
	if err != nil {
		t.Fatal(err)
	}
	exact := filepath.Join(dir, "payments.macaroon")
	if err := os.WriteFile(exact, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Payments.Lnd = spec(exact)
	cfg.Payments.Policies = []string{"MAC:max=10000"}
	k := startKosh(t, cfg)
	k.createAsset("MAC")
	holder := k.createAccount("holder")
	mac, err := k.issuer.BakeWalletMacaroon(k.ctx(), &koshv1.BakeWalletMacaroonRequest{AccountId: holder})
	if err != nil {
		t.Fatal(err)
	}
	// A deposit invoice works with it; a policy maximum answers 400.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "macaroon", mac.WalletMacaroon)
	d, err := koshv1.NewWalletServiceClient(k.conn).CreateDeposit(ctx, &koshv1.CreateDepositRequest{AccountId: holder,
		Asset: "MAC", Method: koshv1.PaymentMethod_PAYMENT_METHOD_LIGHTNING, Amount: 5_000})
	if err != nil || d.Deposit.PaymentRequest == "" {
		t.Fatalf("deposit with lnd's baked payments macaroon: %v", err)
	}
	req, err := http.NewRequest("POST", "https://"+k.d.RESTAddr()+"/v1/wallet/accounts/"+holder+"/deposits",
		strings.NewReader(`{"asset":"MAC","method":"PAYMENT_METHOD_LIGHTNING","amount":"10001"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Grpc-Metadata-macaroon", mac.WalletMacaroon)
	resp, err := k.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "above the maximum of 10000") {
		t.Fatalf("deposit above the policy maximum over REST: %s %s, want 400 naming the maximum", resp.Status, body)
	}
}
