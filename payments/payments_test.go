package payments

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
	"github.com/kosh-reserve/kosh/store/paymentdb"
	"github.com/kosh-reserve/kosh/store/storetest"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const asset = "KSH"

// fakeGate is the coverage gate: it allows every mint unless refusing
// (the issuer is under-covered). refused counts the mints it refused.
type fakeGate struct {
	refuse  atomic.Bool
	refused atomic.Int64
}

func (g *fakeGate) AllowMint(context.Context, ledger.MintCheck) error {
	if g.refuse.Load() {
		g.refused.Add(1)
		return errors.New("coverage 0.90 is below the policy minimum 1.00")
	}
	return nil
}

// env is a payments service on a real store and ledger, against fakeLnd.
type env struct {
	t      *testing.T
	ctx    context.Context
	db     *store.DB
	led    *ledger.Ledger
	gate   *fakeGate
	lnd    *fakeLnd
	cfg    Config
	svc    *Service
	holder string
	skew   atomic.Int64 // added to the wall clock, nanoseconds
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

const startBalance = 100_000

func newEnv(t *testing.T, backend store.Backend, tune func(*Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), db: storetest.Open(t, backend), gate: &fakeGate{}, lnd: newFakeLnd()}
	e.led = ledger.New(storetest.Ledger(t, e.db), e.gate, ledger.Config{Log: testLog()})
	e.led.Start()
	t.Cleanup(e.led.Stop)
	if _, err := e.led.CreateAsset(e.ctx, ledger.Asset{Code: asset, Name: "Kosh", Peg: ledger.PegSat, MinCoverageBps: 10_000}); err != nil {
		t.Fatal(err)
	}
	a, err := e.led.CreateAccount(e.ctx, "holder", "")
	if err != nil {
		t.Fatal(err)
	}
	e.holder = a.ID
	if _, err := e.led.Mint(e.ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "seed", Asset: asset,
		To: e.holder, Amount: startBalance}); err != nil {
		t.Fatal(err)
	}
	e.lnd.now = e.now
	e.cfg = Config{Net: &chaincfg.RegressionNetParams, Poll: 10 * time.Millisecond, PayTimeout: 5 * time.Second,
		Now: e.now, Log: testLog()}
	if tune != nil {
		tune(&e.cfg)
	}
	e.start(e.cfg.Fault)
	t.Cleanup(func() { e.svc.Stop() })
	return e
}

func testLog() *slog.Logger {
	if testing.Verbose() && os.Getenv("KOSH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start (re)starts the service, as a koshd restart would.
func (e *env) start(fault func(string) error) {
	cfg := e.cfg
	cfg.Fault = fault
	e.svc = New(paymentdb.New(e.db), e.led, e.lnd, fakeRouter{f: e.lnd}, cfg)
	e.svc.Start(context.Background())
}

// restart stops the service (crashed or not) and starts a fresh one with no
// fault hook on the same store and lnd.
func (e *env) restart() {
	e.svc.Stop()
	e.start(nil)
}

func (e *env) balance(account string) int64 {
	e.t.Helper()
	_, bals, err := e.led.Account(e.ctx, account)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, b := range bals {
		if b.Asset == asset {
			return b.Amount
		}
	}
	return 0
}

func (e *env) supply() int64 {
	e.t.Helper()
	r, err := e.led.Supply(e.ctx, asset)
	if err != nil {
		e.t.Fatal(err)
	}
	if !r.Consistent() {
		e.t.Fatalf("ledger inconsistent: %+v", r)
	}
	return r.Supply
}

// books checks the invariants that hold after every step: the ledger is
// consistent, the escrow is an issuer-held account (so attestations
// publish it) and holds exactly amount + fee limit of every redemption
// that took units and neither paid nor refunded them.
func (e *env) books() {
	e.t.Helper()
	e.supply()
	escrow, err := e.svc.EscrowAccount(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if acc, _, err := e.led.Account(e.ctx, escrow); err != nil || !acc.IssuerHeld {
		e.t.Fatalf("escrow account %+v (%v) is not issuer-held", acc, err)
	}
	var pending int64
	err = paymentdb.New(e.db).Read(e.ctx, func(tx payrecord.Tx) error {
		rs, err := tx.RedemptionsInStates(e.ctx, RedemptionBurned, RedemptionInFlight, RedemptionFailed)
		for _, r := range rs {
			if r.Asset == asset {
				u, _ := unitsOf(r)
				pending += u
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if got := e.balance(escrow); got != pending {
		e.t.Fatalf("escrow holds %d, redemptions in progress total %d", got, pending)
	}
}

func (e *env) redemption(id string) payrecord.Redemption {
	e.t.Helper()
	r, err := e.svc.redemption(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// waitFor waits until cond holds: the evidence that the service did look
// (the poller ran, lnd was asked, the gate was asked) before a test asserts
// that nothing happened.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitScan waits until an on-chain deposit scan has evaluated the chain at
// height (or above).
func (e *env) waitScan(height int64) {
	e.t.Helper()
	e.waitFor(fmt.Sprintf("an on-chain scan at height %d", height), func() bool { return e.svc.Stats().ScanHeight >= height })
}

// waitRedemption waits until a redemption is in state.
func (e *env) waitRedemption(id, state string) payrecord.Redemption {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := e.redemption(id)
		if r.State == state {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("redemption %s is %s (%s), want %s", id, r.State, r.Failure, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) deposit(id string) Deposit {
	e.t.Helper()
	d, err := e.svc.Deposit(e.ctx, e.holder, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) waitDeposit(id, state string) Deposit {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d := e.deposit(id)
		if d.State == state {
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("deposit %s is %s, want %s", id, d.State, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lnRedeem asks for a Lightning redemption of an invoice of sats.
func (e *env) lnRedeem(key string, sats, maxFee int64) (payrecord.Redemption, string, error) {
	pr, hash := e.lnd.newPayReq(sats)
	r, err := e.svc.Redeem(e.ctx, RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning,
		IdempotencyKey: key, PaymentRequest: pr, MaxFeeSat: maxFee})
	return r.Redemption, hash, err
}

func eachBackend(t *testing.T, fn func(t *testing.T, b store.Backend)) {
	for _, b := range storetest.Backends {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}

// TestRedeemLightning walks the happy path and the failure path through
// every state, with exact balances and supply after each.
func TestRedeemLightning(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)

		// requested → burned → in_flight → paid: the holder pays amount +
		// fee limit; the supply falls by the same.
		r, hash, err := e.lnRedeem("pay-1", 10_000, 20)
		if err != nil {
			t.Fatal(err)
		}
		r = e.waitRedemption(r.ID, RedemptionPaid)
		if r.Preimage != "00ff" || r.FeePaid != 3 || r.Amount != 10_000 || r.FeeLimit != 20 || r.PaymentHash != hash {
			t.Fatalf("paid redemption: %+v", r)
		}
		if got := e.balance(e.holder); got != startBalance-10_020 {
			t.Fatalf("holder has %d, want %d", got, startBalance-10_020)
		}
		if got := e.supply(); got != startBalance-10_020 {
			t.Fatalf("supply %d, want %d", got, startBalance-10_020)
		}
		e.books()

		// A payment lnd fails (no route): failed → refunded, the holder has
		// everything back and the supply is unchanged.
		e.lnd.mu.Lock()
		e.lnd.outcome = lnrpc.Payment_FAILED
		e.lnd.mu.Unlock()
		r2, _, err := e.lnRedeem("pay-2", 5_000, 10)
		if err != nil {
			t.Fatal(err)
		}
		r2 = e.waitRedemption(r2.ID, RedemptionRefunded)
		if r2.Failure == "" {
			t.Fatalf("refunded redemption has no failure reason: %+v", r2)
		}
		if got := e.balance(e.holder); got != startBalance-10_020 {
			t.Fatalf("after refund holder has %d, want %d", got, startBalance-10_020)
		}
		e.books()

		// lnd refuses before initiating (expired invoice): failed → refunded.
		e.lnd.mu.Lock()
		e.lnd.outcome = lnrpc.Payment_SUCCEEDED
		e.lnd.refuse = status.Error(codes.Unknown, "invoice expired")
		e.lnd.mu.Unlock()
		r3, h3, err := e.lnRedeem("pay-3", 5_000, 10)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r3.ID, RedemptionRefunded)
		if n := e.lnd.sendCount(h3); n != 0 {
			t.Fatalf("refused payment initiated %d times", n)
		}
		e.lnd.mu.Lock()
		e.lnd.refuse = nil
		e.lnd.mu.Unlock()

		// More than the balance: rejected, nothing moved, the error says so.
		_, h4, err := e.lnRedeem("pay-4", startBalance, 0)
		if !errors.Is(err, ledger.ErrInsufficientFunds) {
			t.Fatalf("redeeming more than the balance: %v, want ErrInsufficientFunds", err)
		}
		if n := e.lnd.sendCount(h4); n != 0 {
			t.Fatalf("rejected redemption paid %d times", n)
		}
		if got := e.balance(e.holder); got != startBalance-10_020 {
			t.Fatalf("after rejection holder has %d", got)
		}
		e.books()
		if s := e.svc.Stats(); s.RedemptionsPaid != 1 || s.RedemptionsRefunded != 2 {
			t.Fatalf("stats %+v", s)
		}
	})
}

// TestRedeemInFlight: a payment held in flight stays in_flight with the
// units in escrow across a restart, then settles once.
func TestRedeemInFlight(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		e.lnd.mu.Lock()
		e.lnd.outcome = lnrpc.Payment_IN_FLIGHT
		e.lnd.mu.Unlock()
		r, hash, err := e.lnRedeem("held", 7_000, 7)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r.ID, RedemptionInFlight)
		e.books()
		e.svc.Stop()
		tracks, recvs := e.lnd.trackCount(hash), e.lnd.recvCount(hash)
		e.start(nil)
		// The restarted service asked lnd about the payment and waits on
		// its answer.
		e.waitFor("the restarted service to track the payment", func() bool {
			return e.lnd.trackCount(hash) > tracks && e.lnd.recvCount(hash) > recvs
		})
		if got := e.redemption(r.ID).State; got != RedemptionInFlight {
			t.Fatalf("after restart: %s", got)
		}
		e.lnd.finish(hash, lnrpc.Payment_SUCCEEDED)
		e.waitRedemption(r.ID, RedemptionPaid)
		if n := e.lnd.sendCount(hash); n != 1 {
			t.Fatalf("sent %d times", n)
		}
		if got := e.balance(e.holder); got != startBalance-7_007 {
			t.Fatalf("holder %d", got)
		}
		e.books()

		// A held payment that times out is refunded.
		r2, h2, err := e.lnRedeem("held-2", 1_000, 0)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r2.ID, RedemptionInFlight)
		e.lnd.finish(h2, lnrpc.Payment_FAILED)
		e.waitRedemption(r2.ID, RedemptionRefunded)
		if got := e.balance(e.holder); got != startBalance-7_007 {
			t.Fatalf("holder %d after refund", got)
		}
		e.books()
	})
}

// TestRedeemLndDown: lnd unreachable after the burn leaves the redemption
// burned (units in escrow, nothing paid, not failed); when lnd is back it is
// paid once.
func TestRedeemLndDown(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		var (
			down atomic.Bool
			lnd  atomic.Pointer[fakeLnd]
		)
		e := newEnv(t, b, func(c *Config) {
			c.Fault = func(p string) error {
				if p == "redeem:before-send" && down.CompareAndSwap(false, true) {
					lnd.Load().setDown(true)
				}
				return nil
			}
		})
		lnd.Store(e.lnd)
		r, hash, err := e.lnRedeem("down", 2_000, 0)
		if err != nil && !errors.Is(err, ErrUnavailable) {
			t.Fatal(err)
		}
		r, err = e.svc.redemptionByKey(e.ctx, e.holder, "down")
		if err != nil {
			t.Fatal(err)
		}
		// The first attempt and at least one retry by the work loop
		// found lnd down.
		e.waitFor("two payment attempts against lnd down", func() bool { return e.lnd.downCount("TrackPaymentV2") >= 2 })
		if got := e.redemption(r.ID).State; got != RedemptionBurned {
			t.Fatalf("with lnd down: %s, want burned", got)
		}
		e.books()
		e.lnd.setDown(false)
		e.waitRedemption(r.ID, RedemptionPaid)
		if n := e.lnd.sendCount(hash); n != 1 {
			t.Fatalf("sent %d times", n)
		}
		e.books()
	})
}

// TestRedeemIdempotency: a retry returns the first redemption and pays
// nothing more; the same key with a different request is refused; a second
// redemption of the same invoice is refused.
func TestRedeemIdempotency(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		pr, hash := e.lnd.newPayReq(3_000)
		req := RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning, IdempotencyKey: "k",
			PaymentRequest: pr, MaxFeeSat: 5}
		first, err := e.svc.Redeem(e.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(first.ID, RedemptionPaid)
		again, err := e.svc.Redeem(e.ctx, req)
		if err != nil || again.ID != first.ID || again.State != RedemptionPaid {
			t.Fatalf("retry: %+v, %v; want the paid redemption %s", again, err, first.ID)
		}
		if n := e.lnd.sendCount(hash); n != 1 {
			t.Fatalf("sent %d times", n)
		}
		if got := e.balance(e.holder); got != startBalance-3_005 {
			t.Fatalf("holder %d", got)
		}
		for name, mod := range map[string]func(*RedeemRequest){
			"fee":     func(r *RedeemRequest) { r.MaxFeeSat = 6 },
			"invoice": func(r *RedeemRequest) { r.PaymentRequest, _ = e.lnd.newPayReq(3_000) },
			"asset":   func(r *RedeemRequest) { r.Asset = "OTHER" },
			"method": func(r *RedeemRequest) {
				r.Method, r.PaymentRequest, r.MaxFeeSat, r.Address, r.Amount, r.SatPerVbyte =
					payrecord.MethodOnchain, "", 0, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", 1000, 2
			},
		} {
			r := req
			mod(&r)
			if _, err := e.svc.Redeem(e.ctx, r); !errors.Is(err, ledger.ErrIdempotencyConflict) {
				t.Errorf("same key, different %s: %v, want ErrIdempotencyConflict", name, err)
			}
		}
		other := req
		other.IdempotencyKey = "k2"
		if _, err := e.svc.Redeem(e.ctx, other); !errors.Is(err, ledger.ErrAlreadyExists) {
			t.Fatalf("same invoice, new key: %v, want ErrAlreadyExists", err)
		}
		if n := e.lnd.sendCount(hash); n != 1 {
			t.Fatalf("sent %d times", n)
		}
		if _, err := e.svc.Redeem(e.ctx, RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning,
			PaymentRequest: pr}); !errors.Is(err, ledger.ErrInvalidArgument) {
			t.Fatalf("no key: %v", err)
		}
		e.books()
	})
}

// TestPolicy: per-asset minimum and maximum, and the daily limit per
// account, for redemptions and deposits.
func TestPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, func(c *Config) {
			c.Policies = map[string]Policy{asset: {Min: 1_000, Max: 40_000, Daily: 50_000}}
		})
		if _, _, err := e.lnRedeem("small", 999, 0); !errors.Is(err, ledger.ErrInvalidArgument) {
			t.Fatalf("below min: %v", err)
		}
		if _, _, err := e.lnRedeem("big", 40_001, 0); !errors.Is(err, ErrLimit) {
			t.Fatalf("above max: %v", err)
		}
		r1, _, err := e.lnRedeem("d1", 40_000, 0)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r1.ID, RedemptionPaid)
		if _, _, err := e.lnRedeem("d2", 9_000, 1_001); !errors.Is(err, ErrLimit) {
			t.Fatalf("over the daily limit (fee limit counts): %v", err)
		}
		r2, _, err := e.lnRedeem("d3", 9_000, 1_000)
		if err != nil {
			t.Fatalf("up to the daily limit: %v", err)
		}
		e.waitRedemption(r2.ID, RedemptionPaid)
		if _, _, err := e.lnRedeem("d4", 1_000, 0); !errors.Is(err, ErrLimit) {
			t.Fatalf("daily limit reached: %v", err)
		}
		// 24 hours later the limit is free again.
		e.skew.Store(int64(25 * time.Hour))
		if _, _, err := e.lnRedeem("d5", 1_000, 0); err != nil {
			t.Fatalf("next day: %v", err)
		}
		e.skew.Store(0)

		dep := func(key string, amount int64) error {
			_, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset,
				Method: payrecord.MethodLightning, Amount: amount, IdempotencyKey: key})
			return err
		}
		if err := dep("s", 999); !errors.Is(err, ledger.ErrInvalidArgument) {
			t.Fatalf("deposit below min: %v", err)
		}
		if err := dep("b", 40_001); !errors.Is(err, ErrLimit) {
			t.Fatalf("deposit above max: %v", err)
		}
		if err := dep("1", 40_000); err != nil {
			t.Fatal(err)
		}
		if err := dep("2", 10_001); !errors.Is(err, ErrLimit) {
			t.Fatalf("deposit over the daily limit: %v", err)
		}
		if err := dep("3", 10_000); err != nil {
			t.Fatalf("deposit up to the daily limit: %v", err)
		}
		e.books()
	})
}

// TestUnderCovered: with the coverage gate refusing every mint, redemptions
// are still paid, failed ones are still refunded at once (the refund is a
// transfer from escrow, not a mint), and deposits wait to be credited until
// the reserves back them.
func TestUnderCovered(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		e.gate.refuse.Store(true)
		r, _, err := e.lnRedeem("u1", 4_000, 0)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r.ID, RedemptionPaid)
		e.lnd.mu.Lock()
		e.lnd.outcome = lnrpc.Payment_FAILED
		e.lnd.mu.Unlock()
		r2, _, err := e.lnRedeem("u2", 4_000, 0)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r2.ID, RedemptionRefunded)
		if got := e.balance(e.holder); got != startBalance-4_000 {
			t.Fatalf("holder %d", got)
		}
		e.books()

		d, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning,
			Amount: 2_500})
		if err != nil {
			t.Fatal(err)
		}
		refused := e.gate.refused.Load()
		e.lnd.settle(d.PaymentHash, 2_500_000)
		e.waitDeposit(d.ID, DepositSettled)
		// The credit was tried, and retried by the work loop, and refused.
		e.waitFor("the gate to refuse the credit twice", func() bool { return e.gate.refused.Load() >= refused+2 })
		if got := e.deposit(d.ID); got.State != DepositSettled || e.balance(e.holder) != startBalance-4_000 {
			t.Fatalf("deposit credited past the coverage gate: %+v", got)
		}
		e.gate.refuse.Store(false)
		e.waitDeposit(d.ID, DepositCredited)
		if got := e.balance(e.holder); got != startBalance-4_000+2_500 {
			t.Fatalf("holder %d after the deposit", got)
		}
		e.books()
	})
}

// crashPoints are the named points where the service can die in a
// redemption, with the outcome lnd gives the payment.
var crashPoints = []struct {
	point   string
	outcome lnrpc.Payment_PaymentStatus
	final   string
}{
	{"redeem:step", lnrpc.Payment_SUCCEEDED, RedemptionPaid},
	{"redeem:after-burn", lnrpc.Payment_SUCCEEDED, RedemptionPaid},
	{"redeem:before-send", lnrpc.Payment_SUCCEEDED, RedemptionPaid},
	{"redeem:after-send", lnrpc.Payment_SUCCEEDED, RedemptionPaid},
	{"redeem:after-send", lnrpc.Payment_IN_FLIGHT, RedemptionPaid},
	{"redeem:after-send", lnrpc.Payment_FAILED, RedemptionRefunded},
	{"redeem:after-settle", lnrpc.Payment_SUCCEEDED, RedemptionPaid},
	{"redeem:after-final-burn", lnrpc.Payment_SUCCEEDED, RedemptionPaid},
	{"redeem:after-refund", lnrpc.Payment_FAILED, RedemptionRefunded},
}

// TestRedeemCrash kills the service at each crash point (it stops at once,
// writing nothing more), restarts it on the same store and lnd, and checks
// that the redemption ends paid exactly once or refunded, with exact
// balances and the escrow empty.
func TestRedeemCrash(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		for _, c := range crashPoints {
			t.Run(fmt.Sprintf("%s/%s", c.point, c.outcome), func(t *testing.T) {
				var hits atomic.Int32
				e := newEnv(t, b, func(cfg *Config) {
					cfg.Fault = func(p string) error {
						if p == c.point && hits.Add(1) == 1 {
							return errors.New("power cut")
						}
						return nil
					}
				})
				e.lnd.mu.Lock()
				e.lnd.outcome = c.outcome
				e.lnd.mu.Unlock()
				_, hash, _ := e.lnRedeem("crash", 6_000, 6)
				deadline := time.Now().Add(10 * time.Second)
				for !e.svc.dead.Load() {
					if time.Now().After(deadline) {
						t.Fatalf("crash point %s never reached", c.point)
					}
					time.Sleep(time.Millisecond)
				}
				e.restart()
				r, err := e.svc.redemptionByKey(e.ctx, e.holder, "crash")
				if err != nil {
					t.Fatal(err)
				}
				if c.outcome == lnrpc.Payment_IN_FLIGHT {
					e.waitRedemption(r.ID, RedemptionInFlight)
					e.lnd.finish(hash, lnrpc.Payment_SUCCEEDED)
				}
				r = e.waitRedemption(r.ID, c.final)
				if n := e.lnd.sendCount(hash); n != 1 {
					t.Fatalf("payment initiated %d times, want 1", n)
				}
				want := int64(startBalance)
				if c.final == RedemptionPaid {
					want -= 6_006
				}
				if got := e.balance(e.holder); got != want {
					t.Fatalf("holder has %d, want %d", got, want)
				}
				if got := e.supply(); got != want {
					t.Fatalf("supply %d, want %d", got, want)
				}
				e.books()
			})
		}
	})
}

// TestRedeemOnchain: an on-chain payout is sent once with its label, paid
// at one confirmation, refunded when lnd refuses it, and a crash after
// sending does not send again.
func TestRedeemOnchain(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		var hits atomic.Int32
		e := newEnv(t, b, func(c *Config) {
			c.Fault = func(p string) error {
				if p == "redeem:after-send" && hits.Add(1) == 1 {
					return errors.New("power cut")
				}
				return nil
			}
		})
		const addr = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
		req := RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodOnchain, IdempotencyKey: "oc",
			Address: addr, Amount: 20_000, SatPerVbyte: 2}
		_, _ = e.svc.Redeem(e.ctx, req)
		for !e.svc.dead.Load() {
			time.Sleep(time.Millisecond)
		}
		e.restart()
		r, err := e.svc.redemptionByKey(e.ctx, e.holder, "oc")
		if err != nil {
			t.Fatal(err)
		}
		r = e.waitRedemption(r.ID, RedemptionInFlight)
		if r.TxID == "" || r.FeeLimit != 2*250 {
			t.Fatalf("in flight: %+v", r)
		}
		e.books()
		e.lnd.confirm()
		r = e.waitRedemption(r.ID, RedemptionPaid)
		e.lnd.mu.Lock()
		sends := e.lnd.coinSends
		e.lnd.mu.Unlock()
		if sends != 1 {
			t.Fatalf("SendCoins called %d times", sends)
		}
		if r.FeePaid != 2*141 {
			t.Fatalf("fee paid %d", r.FeePaid)
		}
		if got := e.balance(e.holder); got != startBalance-20_500 {
			t.Fatalf("holder %d", got)
		}
		again, err := e.svc.Redeem(e.ctx, req)
		if err != nil || again.ID != r.ID {
			t.Fatalf("retry: %+v %v", again, err)
		}

		e.lnd.mu.Lock()
		e.lnd.refuseSend = status.Error(codes.Unknown, "insufficient funds available to construct transaction")
		e.lnd.mu.Unlock()
		req.IdempotencyKey, req.Amount = "oc2", 10_000
		r2, err := e.svc.Redeem(e.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r2.ID, RedemptionRefunded)
		if got := e.balance(e.holder); got != startBalance-20_500 {
			t.Fatalf("holder %d after refund", got)
		}
		for _, bad := range []RedeemRequest{
			{Address: "not-an-address", Amount: 10_000, SatPerVbyte: 2},
			{Address: addr, Amount: 545, SatPerVbyte: 2},
			{Address: addr, Amount: 10_000, SatPerVbyte: 0},
			{Address: addr, Amount: 10_000, SatPerVbyte: 501},
			{Address: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Amount: 10_000, SatPerVbyte: 2}, // mainnet
		} {
			bad.AccountID, bad.Asset, bad.Method, bad.IdempotencyKey = e.holder, asset, payrecord.MethodOnchain, "bad-"+bad.Address+fmt.Sprint(bad.Amount, bad.SatPerVbyte)
			if _, err := e.svc.Redeem(e.ctx, bad); !errors.Is(err, ledger.ErrInvalidArgument) {
				t.Errorf("%+v: %v, want ErrInvalidArgument", bad, err)
			}
		}
		e.books()
	})
}

// TestDepositLightning: an invoice settles and is credited once, even when
// lnd repeats the update; one settled while the service was down is
// credited on start; a crash between the mint and the state update credits
// once; a canceled invoice expires; a retry returns the same invoice.
func TestDepositLightning(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		var hits atomic.Int32
		e := newEnv(t, b, nil)
		create := func(key string, amount int64) Deposit {
			t.Helper()
			d, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset,
				Method: payrecord.MethodLightning, Amount: amount, Memo: "top up", IdempotencyKey: key})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		d := create("dep-1", 1_500)
		if d.PaymentRequest == "" || d.State != DepositOpen || d.ExpiresAt == 0 {
			t.Fatalf("new deposit: %+v", d)
		}
		if again := create("dep-1", 1_500); again.ID != d.ID || again.PaymentRequest != d.PaymentRequest {
			t.Fatalf("retry made another invoice: %+v", again)
		}
		if _, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset,
			Method: payrecord.MethodLightning, Amount: 1_501, Memo: "top up", IdempotencyKey: "dep-1"}); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Fatalf("same key, other amount: %v", err)
		}
		// Overpaid by 1,234 msat: whole sats paid are credited.
		e.lnd.settle(d.PaymentHash, 1_501_234)
		got := e.waitDeposit(d.ID, DepositCredited)
		if got.Credited != 1_501 {
			t.Fatalf("credited %d, want 1501", got.Credited)
		}
		e.lnd.mu.Lock()
		e.lnd.publish(e.lnd.invoices[d.PaymentHash]) // lnd repeats itself
		e.lnd.mu.Unlock()
		e.waitFor("the subscription to handle the repeated invoice", e.lnd.handledAll)
		if bal := e.balance(e.holder); bal != startBalance+1_501 {
			t.Fatalf("holder %d", bal)
		}

		// Settled while koshd is down.
		d2 := create("dep-2", 2_000)
		e.svc.Stop()
		e.lnd.settle(d2.PaymentHash, 2_000_000)
		e.start(nil)
		e.waitDeposit(d2.ID, DepositCredited)

		// A crash between the mint and the deposit's state.
		e.svc.Stop()
		e.start(func(p string) error {
			if p == "deposit:after-mint" && hits.Add(1) == 1 {
				return errors.New("power cut")
			}
			return nil
		})
		d3 := create("dep-3", 3_000)
		e.lnd.settle(d3.PaymentHash, 3_000_000)
		for !e.svc.dead.Load() {
			time.Sleep(time.Millisecond)
		}
		if st := e.deposit(d3.ID).State; st != DepositSettled {
			t.Fatalf("after the crash: %s", st)
		}
		e.restart()
		e.waitDeposit(d3.ID, DepositCredited)
		if bal := e.balance(e.holder); bal != startBalance+1_501+2_000+3_000 {
			t.Fatalf("holder %d", bal)
		}

		if _, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning,
			Amount: 1_000, Memo: strings.Repeat("m", ledger.MaxMemoLen+1)}); !errors.Is(err, ledger.ErrInvalidArgument) {
			t.Fatalf("long memo: %v", err)
		}
		d4 := create("", 4_000)
		e.lnd.cancel(d4.PaymentHash)
		e.waitDeposit(d4.ID, DepositExpired)
		if s := e.svc.Stats(); s.DepositsCredited < 1 {
			t.Fatalf("stats %+v", s)
		}
		list, _, err := e.svc.Deposits(e.ctx, e.holder, 0, 10)
		if err != nil || len(list) != 4 {
			t.Fatalf("list: %d deposits, %v", len(list), err)
		}
		e.books()
	})
}

// TestDepositOnchain: an output to a deposit address is credited once it
// has MinConf confirmations in the chain watcher's stored chain and never
// before; one reorged out before that is never credited; one credited and
// then reorged out is flagged (and cleared if it comes back).
func TestDepositOnchain(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		desc := testDescriptor(t)
		e := newEnv(t, b, func(c *Config) { c.DepositDesc, c.MinConf = desc, 3 })
		mk := func(key string) Deposit {
			d, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodOnchain,
				IdempotencyKey: key})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		d1, d2 := mk("a1"), mk("a2")
		if d1.Address == "" || d1.Address == d2.Address || d1.Index != 0 || d2.Index != 1 {
			t.Fatalf("addresses: %+v %+v", d1, d2)
		}
		want0, _ := desc.Address(0)
		if d1.Address != want0.EncodeAddress() {
			t.Fatalf("address %s, want %s", d1.Address, want0)
		}
		write := func(fn func(tx chain.StoreTx) error) {
			t.Helper()
			if err := chaindb.New(e.db).Write(e.ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		block := func(h int64) {
			write(func(tx chain.StoreTx) error {
				return tx.InsertChainBlock(e.ctx, chain.StoredBlock{Height: h, Hash: fmt.Sprintf("%064x", h)})
			})
		}
		utxo := func(txid string, h, idx, value int64) {
			write(func(tx chain.StoreTx) error {
				return tx.InsertUTXO(e.ctx, chain.StoredOutput{TxID: txid, Vout: 0, Value: value, PkScript: []byte{0},
					Descriptor: desc.String(), Index: idx, Height: h, BlockHash: fmt.Sprintf("%064x", h)})
			})
		}
		rollback := func(h int64) {
			write(func(tx chain.StoreTx) error { _, err := tx.RollbackChainAbove(e.ctx, h); return err })
		}
		tx1 := hex.EncodeToString(make([]byte, 31)) + "01"
		tx2 := hex.EncodeToString(make([]byte, 31)) + "02"
		block(1)
		utxo(tx1, 1, 0, 50_000) // 1 confirmation
		block(2)
		e.waitScan(2)
		if got := e.deposit(d1.ID); got.Credited != 0 || len(got.Outputs) != 0 {
			t.Fatalf("credited at 2 confirmations: %+v", got)
		}
		block(3)
		got := e.waitDeposit(d1.ID, DepositCredited)
		if got.Credited != 50_000 || len(got.Outputs) != 1 || got.Outputs[0].State != OutputCredited {
			t.Fatalf("at 3 confirmations: %+v", got)
		}
		if bal := e.balance(e.holder); bal != startBalance+50_000 {
			t.Fatalf("holder %d", bal)
		}

		// d2's output gets 2 confirmations, then a reorg removes it; the
		// new chain grows far past MinConf without it: never credited.
		utxo(tx2, 4, 1, 70_000)
		block(4)
		block(5)
		rollback(3)
		for h := int64(4); h <= 10; h++ {
			block(h)
		}
		e.waitScan(10)
		if got := e.deposit(d2.ID); got.Credited != 0 || len(got.Outputs) != 0 {
			t.Fatalf("reorged-out output credited: %+v", got)
		}

		// A reorg that removes d1's credited output: flagged.
		rollback(0)
		block(1) // the new branch's first block, without the output
		deadline := time.Now().Add(10 * time.Second)
		for e.svc.Stats().FlaggedOutputs != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("stats %+v", e.svc.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
		outs, deps, err := e.svc.FlaggedOutputs(e.ctx)
		if err != nil || len(outs) != 1 || outs[0].TxID != tx1 || deps[0].ID != d1.ID || outs[0].FlaggedAt == 0 {
			t.Fatalf("flagged: %+v %+v %v", outs, deps, err)
		}
		if s := e.svc.Stats(); s.ReorgedDeposits != 1 {
			t.Fatalf("stats %+v", s)
		}
		if bal := e.balance(e.holder); bal != startBalance+50_000 {
			t.Fatalf("holder %d: a flagged credit is not silently undone", bal)
		}
		// It comes back with enough confirmations: the flag clears, no
		// second credit.
		rollback(0)
		for h := int64(1); h <= 3; h++ {
			block(h)
			if h == 1 {
				utxo(tx1, 1, 0, 50_000)
			}
		}
		for e.svc.Stats().FlaggedOutputs != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("flag not cleared: %+v", e.svc.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if bal := e.balance(e.holder); bal != startBalance+50_000 {
			t.Fatalf("holder %d", bal)
		}
		e.books()
	})
}

// TestDepositSubscriptionResume: with invoice lookups failing, an invoice
// settled while the service was down is credited from the subscription
// alone, which resumes from the stored settle index.
func TestDepositSubscriptionResume(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		e.lnd.mu.Lock()
		e.lnd.noLookup = true
		e.lnd.mu.Unlock()
		// With no stored index lnd replays nothing: an invoice settled
		// before the first subscription is found by lookup only.
		for n := 0; n == 0; {
			e.lnd.mu.Lock()
			n = len(e.lnd.subscribers)
			e.lnd.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		d1, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning, Amount: 1_000})
		if err != nil {
			t.Fatal(err)
		}
		e.lnd.settle(d1.PaymentHash, 1_000_000)
		e.waitDeposit(d1.ID, DepositCredited)
		d2, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning, Amount: 2_000})
		if err != nil {
			t.Fatal(err)
		}
		// d2's invoice (added, not settled) has gone through the
		// subscription before koshd stops.
		e.waitFor("the subscription to handle d2's invoice", e.lnd.handledAll)
		e.svc.Stop()
		var settleIdx int64
		if err := paymentdb.New(e.db).Read(e.ctx, func(tx payrecord.Tx) error {
			var err error
			settleIdx, err = tx.Cursor(e.ctx, cursorSettleIndex)
			return err
		}); err != nil || settleIdx != 1 {
			t.Fatalf("stored settle index %d, %v; want 1", settleIdx, err)
		}
		e.lnd.settle(d2.PaymentHash, 2_000_000)
		e.start(nil)
		e.waitDeposit(d2.ID, DepositCredited)
		if got := e.balance(e.holder); got != startBalance+3_000 {
			t.Fatalf("holder %d", got)
		}
	})
}

// TestRedeemConcurrentRetries: many concurrent requests with one key make
// one redemption and one payment.
func TestRedeemConcurrentRetries(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		pr, hash := e.lnd.newPayReq(9_000)
		req := RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning, IdempotencyKey: "same",
			PaymentRequest: pr, MaxFeeSat: 1}
		ids := make(chan string, 8)
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				r, err := e.svc.Redeem(e.ctx, req)
				ids <- r.ID
				errs <- err
			}()
		}
		first := ""
		for range 8 {
			id, err := <-ids, <-errs
			if err != nil {
				t.Fatal(err)
			}
			if first == "" {
				first = id
			}
			if id != first {
				t.Fatalf("two redemptions %s and %s for one key", first, id)
			}
		}
		e.waitRedemption(first, RedemptionPaid)
		if n := e.lnd.sendCount(hash); n != 1 {
			t.Fatalf("sent %d times", n)
		}
		if got := e.balance(e.holder); got != startBalance-9_001 {
			t.Fatalf("holder %d", got)
		}
		e.books()
	})
}

func testDescriptor(t *testing.T) *descriptor.Descriptor {
	t.Helper()
	seed := make([]byte, 32)
	seed[0] = 7
	master, err := hdkeychain.NewMaster(seed, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := master.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	desc, err := descriptor.Parse(descriptor.AddChecksum("wpkh("+pub.String()+"/0/*)"), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// TestDepositOnchainGateAndCrash: an on-chain credit the coverage gate
// refuses waits (with the tip unchanged) and is made once the gate allows
// it; a crash between the mint and recording the output credits once.
func TestDepositOnchainGateAndCrash(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		desc := testDescriptor(t)
		var hits atomic.Int32
		e := newEnv(t, b, func(c *Config) {
			c.DepositDesc, c.MinConf = desc, 1
			c.Fault = func(p string) error {
				if p == "deposit:after-mint" && hits.Add(1) == 2 {
					return errors.New("power cut")
				}
				return nil
			}
		})
		d, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodOnchain})
		if err != nil {
			t.Fatal(err)
		}
		e.gate.refuse.Store(true)
		write := func(fn func(tx chain.StoreTx) error) {
			t.Helper()
			if err := chaindb.New(e.db).Write(e.ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		utxo := func(txid string, h int64) {
			write(func(tx chain.StoreTx) error {
				if err := tx.InsertChainBlock(e.ctx, chain.StoredBlock{Height: h, Hash: fmt.Sprintf("%064x", h)}); err != nil {
					return err
				}
				return tx.InsertUTXO(e.ctx, chain.StoredOutput{TxID: txid, Vout: 0, Value: 10_000, PkScript: []byte{0},
					Descriptor: desc.String(), Index: d.Index, Height: h, BlockHash: fmt.Sprintf("%064x", h)})
			})
		}
		refused := e.gate.refused.Load()
		utxo(fmt.Sprintf("%064x", 0xa1), 1)
		e.waitFor("the gate to refuse the credit twice", func() bool { return e.gate.refused.Load() >= refused+2 })
		if got := e.deposit(d.ID); got.Credited != 0 {
			t.Fatalf("credited past the gate: %+v", got)
		}
		e.gate.refuse.Store(false) // no new block: the waiting credit is retried anyway
		e.waitDeposit(d.ID, DepositCredited)

		// A second output to the same address; the service dies between
		// its mint and recording it.
		utxo(fmt.Sprintf("%064x", 0xa2), 2)
		for !e.svc.dead.Load() {
			time.Sleep(time.Millisecond)
		}
		if got := e.deposit(d.ID); got.Credited != 10_000 || e.balance(e.holder) != startBalance+20_000 {
			t.Fatalf("after the crash: %+v, holder %d", got, e.balance(e.holder))
		}
		e.restart()
		deadline := time.Now().Add(10 * time.Second)
		for e.deposit(d.ID).Credited != 20_000 {
			if time.Now().After(deadline) {
				t.Fatalf("second output not recorded: %+v", e.deposit(d.ID))
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := e.balance(e.holder); got != startBalance+20_000 {
			t.Fatalf("holder %d, want one credit per output", got)
		}
		e.books()
	})
}

// TestRedeemRandomCrashes runs redemptions one after another, each with a
// random lnd outcome and a crash at a random point (or none), restarting
// the service after each; after every one the invariants hold: it ended
// paid or refunded, its invoice was paid at most once (exactly once if
// paid), the holder paid exactly for the paid ones, and the escrow holds
// nothing.
func TestRedeemRandomCrashes(t *testing.T) {
	points := []string{"", "redeem:step", "redeem:after-burn", "redeem:before-send", "redeem:after-send",
		"redeem:after-settle", "redeem:after-final-burn", "redeem:after-refund"}
	eachBackend(t, func(t *testing.T, b store.Backend) {
		seed := time.Now().UnixNano()
		t.Logf("seed %d", seed)
		rng := mrand.New(mrand.NewPCG(uint64(seed), 1))
		e := newEnv(t, b, nil)
		want := int64(startBalance)
		for i := range 12 {
			point := points[rng.IntN(len(points))]
			outcome := lnrpc.Payment_SUCCEEDED
			if rng.IntN(3) == 0 {
				outcome = lnrpc.Payment_FAILED
			}
			e.lnd.mu.Lock()
			e.lnd.outcome = outcome
			e.lnd.mu.Unlock()
			var hits atomic.Int32
			e.svc.Stop()
			e.start(func(p string) error {
				if p == point && hits.Add(1) == 1 {
					return errors.New("power cut")
				}
				return nil
			})
			amount, fee := int64(1_000+rng.IntN(5_000)), int64(rng.IntN(10))
			key := fmt.Sprintf("rnd-%d", i)
			_, hash, _ := e.lnRedeem(key, amount, fee)
			var r payrecord.Redemption
			deadline := time.Now().Add(10 * time.Second)
			for {
				var err error
				r, err = e.svc.redemptionByKey(e.ctx, e.holder, key)
				if e.svc.dead.Load() || (err == nil && (r.State == RedemptionPaid || r.State == RedemptionRefunded)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s/%s: stuck in %s", point, outcome, r.State)
				}
				time.Sleep(time.Millisecond)
			}
			e.restart()
			final := RedemptionPaid
			if outcome == lnrpc.Payment_FAILED {
				final = RedemptionRefunded
			} else {
				want -= amount + fee
			}
			e.waitRedemption(r.ID, final)
			if n := e.lnd.sendCount(hash); n != 1 {
				t.Fatalf("%s/%s: invoice paid %d times", point, outcome, n)
			}
			if got := e.balance(e.holder); got != want {
				t.Fatalf("%s/%s: holder %d, want %d", point, outcome, got, want)
			}
			e.books()
		}
		escrow, err := e.svc.EscrowAccount(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.balance(escrow); got != 0 {
			t.Fatalf("escrow holds %d with nothing in progress", got)
		}
		if got := e.supply(); got != want {
			t.Fatalf("supply %d, want %d", got, want)
		}
	})
}

// TestRedeemFiat: a fiat-pegged asset is redeemed at the latest attested
// price, rounded down, also when the issuer is under-covered; a failed
// payout gives the same units back; without an attested price the
// redemption is refused before anything moves.
func TestRedeemFiat(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		var noPrice atomic.Bool
		e := newEnv(t, b, func(c *Config) {
			c.AttestedPrice = func(_ context.Context, cur string) (AttestedPrice, error) {
				if noPrice.Load() || cur != "INR" {
					return AttestedPrice{}, errors.New("no attestation yet")
				}
				// 8,000,000.00 INR per BTC.
				return AttestedPrice{Coefficient: big.NewInt(800_000_000), Scale: 2, Ref: "7 abc"}, nil
			}
		})
		if _, err := e.led.CreateAsset(e.ctx, ledger.Asset{Code: "INR", Name: "rupee", Peg: ledger.PegFiat, Currency: "INR",
			Decimals: 2, MinCoverageBps: 15_000}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.led.Mint(e.ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "inr", Asset: "INR",
			To: e.holder, Amount: 1_000_000}); err != nil {
			t.Fatal(err)
		}
		inr := func(acct string) int64 {
			_, bals, err := e.led.Account(e.ctx, acct)
			if err != nil {
				t.Fatal(err)
			}
			for _, bl := range bals {
				if bl.Asset == "INR" {
					return bl.Amount
				}
			}
			return 0
		}
		redeem := func(key string, sats, fee int64) (payrecord.Redemption, error) {
			pr, _ := e.lnd.newPayReq(sats)
			r, err := e.svc.Redeem(e.ctx, RedeemRequest{AccountID: e.holder, Asset: "INR", Method: payrecord.MethodLightning,
				IdempotencyKey: key, PaymentRequest: pr, MaxFeeSat: fee})
			return r.Redemption, err
		}
		// Under-covered: redemptions stay open. 10,020 sats at 80,000 INR
		// per 0.01 BTC are 801.60 INR: 80,160 paise.
		e.gate.refuse.Store(true)
		r, err := redeem("inr-1", 10_000, 20)
		if err != nil {
			t.Fatal(err)
		}
		r = e.waitRedemption(r.ID, RedemptionPaid)
		if r.Units != 80_160 || !strings.Contains(r.Price, "attestation 7 abc") {
			t.Fatalf("fiat redemption: units %d price %q, want 80160 at attestation 7", r.Units, r.Price)
		}
		if got := inr(e.holder); got != 1_000_000-80_160 {
			t.Fatalf("holder has %d paise, want %d", got, 1_000_000-80_160)
		}
		if rep, err := e.led.Supply(e.ctx, "INR"); err != nil || rep.Supply != 1_000_000-80_160 || !rep.Consistent() {
			t.Fatalf("INR supply %+v %v", rep, err)
		}
		// 1 sat is worth 8 paise: 3 sats are 24 paise (exact); a failed
		// payout refunds exactly what was taken.
		e.lnd.mu.Lock()
		e.lnd.outcome = lnrpc.Payment_FAILED
		e.lnd.mu.Unlock()
		r2, err := redeem("inr-2", 5_000, 3)
		if err != nil {
			t.Fatal(err)
		}
		r2 = e.waitRedemption(r2.ID, RedemptionRefunded)
		if r2.Units != 40_024 || inr(e.holder) != 1_000_000-80_160 {
			t.Fatalf("refunded fiat redemption: units %d, holder %d", r2.Units, inr(e.holder))
		}
		escrow, err := e.svc.EscrowAccount(e.ctx)
		if err != nil || inr(escrow) != 0 {
			t.Fatalf("escrow holds %d paise (%v), want 0", inr(escrow), err)
		}
		// No attested price: refused, nothing taken.
		noPrice.Store(true)
		if _, err := redeem("inr-3", 5_000, 3); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no attested INR price") {
			t.Fatalf("redeem without an attested price: %v", err)
		}
		if got := inr(e.holder); got != 1_000_000-80_160 {
			t.Fatalf("holder has %d paise after a refused redemption", got)
		}
		e.books()
	})
}
