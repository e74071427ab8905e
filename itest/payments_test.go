package itest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnwire"
	"github.com/lightningnetwork/lnd/zpay32"
)

// payEnv is one koshd (a child process built with -tags kosh_faults) whose
// payments lnd is alice, with bob as the holder's counterparty over a
// direct channel, and a holder account driven through the REST gateway
// with its wallet macaroon.
type payEnv struct {
	t          *testing.T
	h          *harness.Harness
	alice, bob *lndnode.Node
	k          *koshProc
	holder     string
	wallet     string // hex wallet macaroon, caveated to holder
	w          *descWallet
}

const payAsset = "KSAT"

// TestPayments drives deposits and redemptions end to end against real
// btcd and two lnd nodes, all through koshd's REST gateway with a wallet
// macaroon: Lightning deposit and redemption with exact balances, SIGKILL at
// three crash points between burn and payout with exactly one payment after
// restart, an unroutable invoice refunded, on-chain deposits credited at 3
// confirmations, never when reorged out first, and flagged when reorged out
// after being credited; and an on-chain redemption.
func TestPayments(t *testing.T) {
	h := harness.Shared(t)
	nodes := h.NewNodes(t, "payalice", "paybob")
	e := &payEnv{t: t, h: h, alice: nodes[0], bob: nodes[1], w: newDescWallet(t, h)}

	h.FundNode(t, e.alice, 3_000_000)
	// A channel alice -> bob with 400,000 sats on bob's side: bob pays
	// deposit invoices with it, alice pays redemptions with hers.
	h.OpenChannel(t, e.alice, e.bob, 1_000_000, 400_000)
	h.Mine(t, 3)
	h.WaitSynced(t, e.alice, e.bob)

	depositDesc := e.w.descriptor("wpkh", 0)
	paymentsLnd := fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s", e.alice.Name, e.alice.RPCAddr,
		e.alice.TLSCertPath, e.alice.AdminMacaroonPath)
	b := h.Btcd()
	e.k = newKoshProc(t, []string{
		"--chain.backend=btcd", "--chain.rpchost=" + b.RPCAddr, "--chain.rpcuser=" + b.RPCUser,
		"--chain.rpcpass=" + b.RPCPass, "--chain.rpccert=" + b.CertPath, "--chain.minconf=3",
		"--chain.pollinterval=100ms", "--chain.birthday=" + strconv.FormatInt(tipHeight(t, h)+1, 10),
		"--chain.gaplimit=20", "--chain.descriptor=" + depositDesc,
		"--lnd.node=" + lndSpec(e.alice), "--lnd.pollinterval=200ms",
		"--payments.lnd=" + paymentsLnd, "--payments.depositdescriptor=" + depositDesc,
		"--payments.poll=200ms", "--payments.paytimeout=30s",
		"--payments.policy=" + payAsset + ":min=1000,max=2000000",
	})
	e.k.start()

	if _, err := e.k.issuer.CreateAsset(e.k.ctx(), &koshv1.CreateAssetRequest{Code: payAsset, Name: "sat token",
		Peg: koshv1.Peg_PEG_SAT}); err != nil {
		t.Fatal(err)
	}
	acct, err := e.k.issuer.CreateAccount(e.k.ctx(), &koshv1.CreateAccountRequest{Label: "holder", IdempotencyKey: "holder"})
	if err != nil {
		t.Fatal(err)
	}
	e.holder = acct.Account.Id
	mac, err := e.k.issuer.BakeWalletMacaroon(e.k.ctx(), &koshv1.BakeWalletMacaroonRequest{AccountId: e.holder})
	if err != nil {
		t.Fatal(err)
	}
	e.wallet = mac.WalletMacaroon

	// The wallet macaroon reaches this account only, and the admin
	// macaroon is not needed for any of what follows.
	other, err := e.k.issuer.CreateAccount(e.k.ctx(), &koshv1.CreateAccountRequest{Label: "other", IdempotencyKey: "other"})
	if err != nil {
		t.Fatal(err)
	}
	var rerr *restError
	if err := e.k.rest("POST", "/v1/wallet/accounts/"+other.Account.Id+"/deposits", e.wallet,
		&koshv1.CreateDepositRequest{Asset: payAsset, Method: koshv1.PaymentMethod_PAYMENT_METHOD_LIGHTNING, Amount: 5000},
		&koshv1.CreateDepositResponse{}); !errors.As(err, &rerr) || rerr.Status != 403 && rerr.Status != 401 {
		t.Fatalf("deposit to another account with the holder's macaroon: %v, want 401/403", err)
	}

	var balance int64
	t.Run("lightning deposit", func(t *testing.T) {
		const amount = 150_000
		d := e.createDeposit(t, koshv1.PaymentMethod_PAYMENT_METHOD_LIGHTNING, amount, "dep-ln-1")
		if d.PaymentRequest == "" || d.State != "open" {
			t.Fatalf("deposit: %v", d)
		}
		h.Pay(t, e.bob, d.PaymentRequest)
		got := e.waitDeposit(t, d.Id, "credited")
		if got.Credited != amount {
			t.Fatalf("credited %d, want %d", got.Credited, amount)
		}
		balance += amount
		e.checkBalance(t, balance)
	})

	t.Run("lightning redemption", func(t *testing.T) {
		const amount, maxFee = 20_000, 10
		inv := e.bob.AddInvoice(t, amount, "redeem")
		r := e.redeemLN(t, "red-ln-1", inv, maxFee)
		r = e.waitRedemption(t, r.Id, "paid")
		balance -= amount + maxFee
		e.checkBalance(t, balance)
		e.checkPaidOnce(t, r.PaymentHash, amount)
		if r.Preimage == "" || r.Burned != amount+maxFee {
			t.Fatalf("paid redemption: %v", r)
		}
		// A retry with the same key answers the same redemption and pays
		// nothing more; the same key for another invoice is refused.
		again := e.redeemLN(t, "red-ln-1", inv, maxFee)
		if again.Id != r.Id || again.State != "paid" {
			t.Fatalf("retry: %v", again)
		}
		var rerr *restError
		if err := e.k.rest("POST", "/v1/wallet/accounts/"+e.holder+"/redemptions", e.wallet, &koshv1.RedeemRequest{
			Asset: payAsset, Method: koshv1.PaymentMethod_PAYMENT_METHOD_LIGHTNING, IdempotencyKey: "red-ln-1",
			PaymentRequest: e.bob.AddInvoice(t, amount, "other"), MaxFeeSat: maxFee}, &koshv1.RedeemResponse{}); !errors.As(err, &rerr) || rerr.Status != 409 {
			t.Fatalf("same key, other invoice: %v, want 409", err)
		}
		e.checkPaidOnce(t, r.PaymentHash, amount)
		e.checkBalance(t, balance)
	})

	// koshd is killed with SIGKILL at each crash point between the burn
	// and the payout being recorded; after a restart exactly one payment of
	// the invoice exists and the holder paid for it exactly once.
	for i, point := range []string{"redeem:after-burn", "redeem:before-send", "redeem:after-send", "redeem:after-settle"} {
		t.Run("sigkill at "+point, func(t *testing.T) {
			amount := int64(5_000 + i)
			const maxFee = 5
			inv := e.bob.AddInvoice(t, amount, "crash "+point)
			key := "red-crash-" + strconv.Itoa(i)
			e.k.stop()
			e.k.start(faultEnv + "=" + point)
			req := &koshv1.RedeemRequest{Asset: payAsset, Method: koshv1.PaymentMethod_PAYMENT_METHOD_LIGHTNING,
				IdempotencyKey: key, PaymentRequest: inv, MaxFeeSat: maxFee}
			err := e.k.rest("POST", "/v1/wallet/accounts/"+e.holder+"/redemptions", e.wallet, req, &koshv1.RedeemResponse{})
			if err == nil {
				t.Logf("Redeem answered before the crash point")
			}
			e.k.waitKilled(30 * time.Second)
			e.k.start()
			// The retry after the restart returns the one redemption.
			r := e.redeemLN(t, key, inv, maxFee)
			r = e.waitRedemption(t, r.Id, "paid")
			balance -= amount + maxFee
			e.checkBalance(t, balance)
			e.checkPaidOnce(t, r.PaymentHash, amount)
			if point == "redeem:after-send" && !strings.Contains(tail(e.k.logPath, 1<<20), "payment already known to lnd") {
				t.Fatalf("after the restart koshd did not find the payment sent before the crash in lnd")
			}
		})
	}

	t.Run("unroutable invoice refunded", func(t *testing.T) {
		inv := unroutableInvoice(t, h, 7_000)
		r := e.redeemLN(t, "red-unroutable", inv, 10)
		r = e.waitRedemption(t, r.Id, "refunded")
		if r.FailureReason == "" {
			t.Fatalf("refunded without a reason: %v", r)
		}
		e.checkBalance(t, balance)
		t.Logf("unroutable: %s", r.FailureReason)
	})

	t.Run("onchain deposit at 3 confirmations", func(t *testing.T) {
		d := e.createDeposit(t, koshv1.PaymentMethod_PAYMENT_METHOD_ONCHAIN, 0, "dep-oc-1")
		if d.Address != e.w.p2wpkh(0, 0) {
			t.Fatalf("deposit address %s, want index 0 of the descriptor, %s", d.Address, e.w.p2wpkh(0, 0))
		}
		const amount = 120_000
		h.SendToAddress(t, d.Address, amount)
		for conf := 1; conf <= 2; conf++ {
			h.Mine(t, 1)
			e.waitChainHeight(t)
			e.waitScanned(t)
			if got := e.getDeposit(t, d.Id); got.Credited != 0 {
				t.Fatalf("credited at %d confirmations: %v", conf, got)
			}
		}
		h.Mine(t, 1)
		got := e.waitDeposit(t, d.Id, "credited")
		if got.Credited != amount || len(got.Outputs) != 1 {
			t.Fatalf("deposit at 3 confirmations: %v", got)
		}
		balance += amount
		e.checkBalance(t, balance)
	})

	t.Run("onchain deposit reorged out before 3 confirmations", func(t *testing.T) {
		d := e.createDeposit(t, koshv1.PaymentMethod_PAYMENT_METHOD_ONCHAIN, 0, "dep-oc-2")
		txid := h.SendToAddress(t, d.Address, 130_000)
		h.Mine(t, 2)
		e.waitChainHeight(t)
		h.ReorgDroppingTx(t, txid, 2)
		h.Mine(t, 4)
		e.waitChainHeight(t)
		e.waitScanned(t)
		if got := e.getDeposit(t, d.Id); got.Credited != 0 || len(got.Outputs) != 0 || got.State != "open" {
			t.Fatalf("reorged-out deposit credited: %v", got)
		}
		e.checkBalance(t, balance)
	})

	t.Run("credited onchain deposit reorged out is flagged", func(t *testing.T) {
		d := e.createDeposit(t, koshv1.PaymentMethod_PAYMENT_METHOD_ONCHAIN, 0, "dep-oc-3")
		const amount = 140_000
		txid := h.SendToAddress(t, d.Address, amount)
		h.Mine(t, 3)
		e.waitDeposit(t, d.Id, "credited")
		balance += amount
		e.checkBalance(t, balance)
		h.ReorgDroppingTx(t, txid, 3)
		// The issuer's view, over REST with the admin macaroon; the wallet
		// macaroon may not see it.
		var rerr *restError
		if err := e.k.rest("GET", "/v1/payments/flagged-deposits", e.wallet, nil,
			&koshv1.ListFlaggedDepositsResponse{}); !errors.As(err, &rerr) || rerr.Status != 403 {
			t.Fatalf("flagged deposits with a wallet macaroon: %v, want 403", err)
		}
		flagged := &koshv1.ListFlaggedDepositsResponse{}
		harness.WaitFor(t, func() error {
			if err := e.k.rest("GET", "/v1/payments/flagged-deposits", e.k.admin, nil, flagged); err != nil {
				return err
			}
			if len(flagged.Outputs) != 1 {
				return fmt.Errorf("%d flagged outputs, want 1", len(flagged.Outputs))
			}
			return nil
		}, 30*time.Second)
		o := flagged.Outputs[0]
		if o.DepositId != d.Id || o.Amount != amount || o.AccountId != e.holder || o.Outpoint[:64] != txid.String() {
			t.Fatalf("flagged output: %v", o)
		}
		harness.WaitFor(t, func() error {
			v, err := e.k.metric("kosh_payments_flagged_deposit_outputs")
			if err != nil || v != "1" {
				return fmt.Errorf("flagged metric %q, %v", v, err)
			}
			return nil
		}, 10*time.Second)
		// The credit stands (the issuer decides); it is not silently undone.
		e.checkBalance(t, balance)
	})

	t.Run("onchain redemption", func(t *testing.T) {
		const amount, rate = 30_000, 2
		addr := e.bob.NewAddress(t)
		var resp koshv1.RedeemResponse
		if err := e.k.rest("POST", "/v1/wallet/accounts/"+e.holder+"/redemptions", e.wallet, &koshv1.RedeemRequest{
			Asset: payAsset, Method: koshv1.PaymentMethod_PAYMENT_METHOD_ONCHAIN, IdempotencyKey: "red-oc-1",
			Address: addr, Amount: amount, SatPerVbyte: rate}, &resp); err != nil {
			t.Fatal(err)
		}
		r := e.waitRedemption(t, resp.Redemption.Id, "in_flight")
		if r.Txid == "" {
			t.Fatalf("in flight without a txid: %v", r)
		}
		h.Mine(t, 1)
		r = e.waitRedemption(t, r.Id, "paid")
		balance -= amount + r.FeeLimit
		e.checkBalance(t, balance)
		tx, err := h.Client().GetRawTransaction(mustHash(t, r.Txid))
		if err != nil {
			t.Fatal(err)
		}
		paid := int64(0)
		for _, out := range tx.MsgTx().TxOut {
			if out.Value == amount {
				paid++
			}
		}
		if paid != 1 {
			t.Fatalf("payout tx %s has %d outputs of %d", r.Txid, paid, amount)
		}
	})

	t.Run("sigkill at redeem:after-send onchain", func(t *testing.T) { e.onchainCrash(t, &balance) })
}

// onchainCrash is run inside TestPayments: koshd is SIGKILLed after lnd's
// SendCoins returned and before the redemption recorded the transaction;
// after the restart koshd finds the transaction by its label instead of
// sending again.
func (e *payEnv) onchainCrash(t *testing.T, balance *int64) {
	const amount, rate = 25_000, 2
	addr := e.bob.NewAddress(t)
	e.k.stop()
	e.k.start(faultEnv + "=redeem:after-send")
	req := &koshv1.RedeemRequest{Asset: payAsset, Method: koshv1.PaymentMethod_PAYMENT_METHOD_ONCHAIN,
		IdempotencyKey: "red-oc-crash", Address: addr, Amount: amount, SatPerVbyte: rate}
	_ = e.k.rest("POST", "/v1/wallet/accounts/"+e.holder+"/redemptions", e.wallet, req, &koshv1.RedeemResponse{})
	e.k.waitKilled(30 * time.Second)
	e.k.start()
	var resp koshv1.RedeemResponse
	if err := e.k.rest("POST", "/v1/wallet/accounts/"+e.holder+"/redemptions", e.wallet, req, &resp); err != nil {
		t.Fatal(err)
	}
	r := e.waitRedemption(t, resp.Redemption.Id, "in_flight")
	e.h.Mine(t, 1)
	r = e.waitRedemption(t, r.Id, "paid")
	*balance -= amount + r.FeeLimit
	e.checkBalance(t, *balance)
	// Exactly one transaction of alice's wallet pays bob's address.
	res, err := e.alice.LN.GetTransactions(t.Context(), &lnrpc.GetTransactionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tx := range res.Transactions {
		for _, o := range tx.OutputDetails {
			if o.Address == addr {
				n++
				if o.Amount != amount || tx.TxHash != r.Txid {
					t.Fatalf("payout %s pays %d, redemption says %s", tx.TxHash, o.Amount, r.Txid)
				}
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d outputs to bob's address in alice's wallet, want 1", n)
	}
	if !strings.Contains(tail(e.k.logPath, 1<<20), "payout transaction already in lnd's wallet") {
		t.Fatalf("after the restart koshd did not find the payout sent before the crash")
	}
}

func mustHash(t *testing.T, s string) *chainhash.Hash {
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *payEnv) createDeposit(t *testing.T, method koshv1.PaymentMethod, amount int64, key string) *koshv1.Deposit {
	t.Helper()
	var resp koshv1.CreateDepositResponse
	if err := e.k.rest("POST", "/v1/wallet/accounts/"+e.holder+"/deposits", e.wallet, &koshv1.CreateDepositRequest{
		Asset: payAsset, Method: method, Amount: amount, IdempotencyKey: key, Memo: "itest"}, &resp); err != nil {
		t.Fatalf("CreateDeposit: %v", err)
	}
	return resp.Deposit
}

func (e *payEnv) getDeposit(t *testing.T, id string) *koshv1.Deposit {
	t.Helper()
	var resp koshv1.GetDepositResponse
	if err := e.k.rest("GET", "/v1/wallet/accounts/"+e.holder+"/deposits/"+id, e.wallet, nil, &resp); err != nil {
		t.Fatalf("GetDeposit: %v", err)
	}
	return resp.Deposit
}

func (e *payEnv) waitDeposit(t *testing.T, id, state string) *koshv1.Deposit {
	t.Helper()
	var d *koshv1.Deposit
	harness.WaitFor(t, func() error {
		d = e.getDeposit(t, id)
		if d.State != state {
			return fmt.Errorf("deposit %s is %s, want %s", id, d.State, state)
		}
		return nil
	}, 60*time.Second)
	return d
}

func (e *payEnv) redeemLN(t *testing.T, key, invoice string, maxFee int64) *koshv1.Redemption {
	t.Helper()
	var resp koshv1.RedeemResponse
	if err := e.k.rest("POST", "/v1/wallet/accounts/"+e.holder+"/redemptions", e.wallet, &koshv1.RedeemRequest{
		Asset: payAsset, Method: koshv1.PaymentMethod_PAYMENT_METHOD_LIGHTNING, IdempotencyKey: key,
		PaymentRequest: invoice, MaxFeeSat: maxFee}, &resp); err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	// The holder gets a signed receipt of the balance the redemption left.
	if r := resp.Receipts; len(r) != 1 || r[0].AccountId != e.holder || r[0].Document == "" {
		t.Fatalf("Redeem receipts %v, want one for the holder", r)
	}
	return resp.Redemption
}

func (e *payEnv) waitRedemption(t *testing.T, id, state string) *koshv1.Redemption {
	t.Helper()
	var r *koshv1.Redemption
	harness.WaitFor(t, func() error {
		var resp koshv1.GetRedemptionResponse
		if err := e.k.rest("GET", "/v1/wallet/accounts/"+e.holder+"/redemptions/"+id, e.wallet, nil, &resp); err != nil {
			return err
		}
		r = resp.Redemption
		if r.State != state {
			return fmt.Errorf("redemption %s is %s (%s), want %s", id, r.State, r.FailureReason, state)
		}
		return nil
	}, 60*time.Second)
	return r
}

func (e *payEnv) checkBalance(t *testing.T, want int64) {
	t.Helper()
	var resp koshv1.GetBalanceResponse
	if err := e.k.rest("GET", "/v1/wallet/accounts/"+e.holder+"/balance", e.wallet, nil, &resp); err != nil {
		t.Fatalf("GetBalance: %v", err)
	}
	var got int64
	for _, b := range resp.Balances {
		if b.Asset == payAsset {
			got = b.Amount
		}
	}
	if got != want {
		t.Fatalf("holder balance %d, want %d", got, want)
	}
}

// checkPaidOnce checks that alice made exactly one payment of hash, that
// it succeeded, and that bob's invoice is settled for exactly amount.
func (e *payEnv) checkPaidOnce(t *testing.T, hash string, amount int64) {
	t.Helper()
	res, err := e.alice.LN.ListPayments(t.Context(), &lnrpc.ListPaymentsRequest{IncludeIncomplete: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range res.Payments {
		if p.PaymentHash == hash {
			n++
			if p.Status != lnrpc.Payment_SUCCEEDED || p.ValueSat != amount {
				t.Fatalf("alice's payment of %s: %v %d sat", hash, p.Status, p.ValueSat)
			}
			succeeded := 0
			for _, a := range p.Htlcs {
				if a.Status == lnrpc.HTLCAttempt_SUCCEEDED {
					succeeded++
				}
			}
			if succeeded != 1 {
				t.Fatalf("payment %s has %d settled HTLCs", hash, succeeded)
			}
		}
	}
	if n != 1 {
		t.Fatalf("alice has %d payments of %s, want 1", n, hash)
	}
	rh, _ := hex.DecodeString(hash)
	inv, err := e.bob.LN.LookupInvoice(t.Context(), &lnrpc.PaymentHash{RHash: rh})
	if err != nil {
		t.Fatal(err)
	}
	if inv.State != lnrpc.Invoice_SETTLED || inv.AmtPaidSat != amount {
		t.Fatalf("bob's invoice %s: %v, paid %d sat, want settled for %d", hash, inv.State, inv.AmtPaidSat, amount)
	}
}

// waitChainHeight waits until koshd's chain source is at btcd's tip.
func (e *payEnv) waitChainHeight(t *testing.T) {
	t.Helper()
	want := tipHeight(t, e.h)
	harness.WaitFor(t, func() error {
		r, err := e.k.issuer.GetReserves(e.k.ctx(), &koshv1.GetReservesRequest{})
		if err != nil {
			return err
		}
		for _, s := range r.Snapshot.Sources {
			if s.Height == want {
				return nil
			}
		}
		return fmt.Errorf("koshd's chain source not at %d yet", want)
	}, syncTimeout)
}

// waitScanned waits until koshd's on-chain deposit scan has evaluated the
// chain at btcd's tip (the gauge kosh_payments_onchain_scan_height): only
// then does "not credited" mean the deposit was judged and refused.
func (e *payEnv) waitScanned(t *testing.T) {
	t.Helper()
	want := tipHeight(t, e.h)
	harness.WaitFor(t, func() error {
		v, err := e.k.metric("kosh_payments_onchain_scan_height")
		if err != nil {
			return err
		}
		got, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("kosh_payments_onchain_scan_height %q: %w", v, err)
		}
		if int64(got) < want {
			return fmt.Errorf("koshd's deposit scan at height %v, not yet %d", got, want)
		}
		return nil
	}, syncTimeout)
}

// unroutableInvoice is a valid regtest BOLT11 invoice signed by a random
// node that no channel reaches: lnd fails the payment with no route.
func unroutableInvoice(t *testing.T, h *harness.Harness, sats int64) string {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	var pre, addr [32]byte
	_, _ = rand.Read(pre[:])
	_, _ = rand.Read(addr[:])
	hash := sha256.Sum256(pre[:])
	features := lnwire.NewFeatureVector(lnwire.NewRawFeatureVector(lnwire.TLVOnionPayloadRequired,
		lnwire.PaymentAddrRequired), lnwire.Features)
	inv, err := zpay32.NewInvoice(h.Params(), hash, time.Now(), zpay32.Amount(lnwire.MilliSatoshi(sats*1000)),
		zpay32.Description("nowhere"), zpay32.PaymentAddr(addr), zpay32.Features(features), zpay32.CLTVExpiry(40))
	if err != nil {
		t.Fatal(err)
	}
	s, err := inv.Encode(zpay32.MessageSigner{SignCompact: func(msg []byte) ([]byte, error) {
		return ecdsa.SignCompact(key, chainhash.HashB(msg), true), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
