package payments

import (
	"errors"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/kosh-reserve/kosh/store"
	"github.com/lightningnetwork/lnd/lnrpc"
)

// TestRedeemReturnsEscrowEntry: Redeem hands back, with the redemption, the
// entry that took its units from the holder into escrow (what the holder's
// receipt is made of), and a retry hands back the same entry.
func TestRedeemReturnsEscrowEntry(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		pr, _ := e.lnd.newPayReq(4_000)
		req := RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning, IdempotencyKey: "esc",
			PaymentRequest: pr, MaxFeeSat: 7}
		r, err := e.svc.Redeem(e.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		escrow, err := e.svc.EscrowAccount(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		x := r.Escrow
		if x == nil {
			t.Fatalf("redemption %s (%s) came back without its escrow entry", r.ID, r.State)
		}
		if x.Scope != Scope || x.IdempotencyKey != "redeem:"+r.ID || x.Kind != ledger.KindTransfer ||
			x.DebitAccountID != e.holder || x.CreditAccountID != escrow || x.Amount != 4_007 || x.Asset != asset ||
			x.DebitBalanceAfter != startBalance-4_007 {
			t.Fatalf("escrow entry %+v: want %d %s from %s to escrow %s under %s/redeem:%s, leaving %d",
				x, 4_007, asset, e.holder, escrow, Scope, r.ID, startBalance-4_007)
		}
		e.waitRedemption(r.ID, RedemptionPaid)
		again, err := e.svc.Redeem(e.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != r.ID || again.Escrow == nil || again.Escrow.Seq != x.Seq || again.Escrow.DebitBalanceAfter != x.DebitBalanceAfter {
			t.Fatalf("retry: %+v with entry %+v; want redemption %s with entry %d", again.Redemption, again.Escrow, r.ID, x.Seq)
		}
		if n := e.svc.changes.Watched(); n != 0 {
			t.Fatalf("%d redemptions still watched after their Redeem calls returned", n)
		}
		e.books()
	})
}

// TestRedeemWakesOnChange: a payment lnd holds in flight answers Redeem as
// soon as the redemption is in_flight, long before the wait's bound, and the
// state it answers with is the one written.
func TestRedeemWakesOnChange(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		e.lnd.mu.Lock()
		e.lnd.outcome = lnrpc.Payment_IN_FLIGHT
		e.lnd.mu.Unlock()
		start := time.Now()
		r, hash, err := e.lnRedeem("held", 2_000, 3)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != RedemptionInFlight {
			t.Fatalf("Redeem answered %s, want in_flight", r.State)
		}
		if d := time.Since(start); d > redeemWait/2 {
			t.Fatalf("Redeem took %s to see the payment in flight", d)
		}
		e.lnd.finish(hash, lnrpc.Payment_SUCCEEDED)
		e.waitRedemption(r.ID, RedemptionPaid)
		e.books()
	})
}

// TestRedeemWakesOnCrash: a simulated crash before sending stops the
// service; the waiting Redeem answers that at once, not after the bound.
func TestRedeemWakesOnCrash(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, func(c *Config) {
			c.Fault = func(p string) error {
				if p == "redeem:before-send" {
					return errors.New("power cut")
				}
				return nil
			}
		})
		start := time.Now()
		_, _, err := e.lnRedeem("crash", 2_000, 3)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable (the service stopped)", err)
		}
		if d := time.Since(start); d > redeemWait/2 {
			t.Fatalf("Redeem took %s to see the service stop", d)
		}
	})
}

// TestRedeemPaymentLost: a payment in flight by the records that lnd no
// longer knows (lnd lost it, or its database was replaced) goes back to
// burned and is sent again, then paid once; the holder pays once.
func TestRedeemPaymentLost(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		e.lnd.mu.Lock()
		e.lnd.outcome = lnrpc.Payment_IN_FLIGHT
		e.lnd.mu.Unlock()
		r, hash, err := e.lnRedeem("lost", 3_000, 4)
		if err != nil {
			t.Fatal(err)
		}
		e.waitRedemption(r.ID, RedemptionInFlight)
		e.svc.Stop()
		e.lnd.mu.Lock()
		delete(e.lnd.payments, hash)
		e.lnd.outcome = lnrpc.Payment_SUCCEEDED
		e.lnd.mu.Unlock()
		e.start(nil)
		r = e.waitRedemption(r.ID, RedemptionPaid)
		if n := e.lnd.sendCount(hash); n != 2 {
			t.Fatalf("sent %d times, want 2 (once, then again after lnd lost it)", n)
		}
		if r.Preimage != "00ff" || r.FeePaid != 3 || r.Failure != "" {
			t.Fatalf("paid redemption %+v: want preimage 00ff, fee 3, no failure", r)
		}
		if got := e.balance(e.holder); got != startBalance-3_004 {
			t.Fatalf("holder %d, want %d", got, startBalance-3_004)
		}
		e.books()
	})
}

// TestRedeemOnchainPayoutMissing: an on-chain payout whose transaction
// drops out of lnd's wallet stays in flight (not failed, not sent again)
// until it is back with a confirmation, then it is paid.
func TestRedeemOnchainPayoutMissing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b store.Backend) {
		e := newEnv(t, b, nil)
		r, err := e.svc.Redeem(e.ctx, RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodOnchain,
			IdempotencyKey: "gone", Address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", Amount: 10_000, SatPerVbyte: 3})
		if err != nil {
			t.Fatal(err)
		}
		in := e.waitRedemption(r.ID, RedemptionInFlight)
		e.lnd.mu.Lock()
		txs := e.lnd.txs
		e.lnd.txs = nil
		lookups := e.lnd.txLookups
		e.lnd.mu.Unlock()
		e.waitFor("the work loop to look for the payout twice", func() bool {
			e.lnd.mu.Lock()
			defer e.lnd.mu.Unlock()
			return e.lnd.txLookups >= lookups+2
		})
		if got := e.redemption(r.ID); got.State != RedemptionInFlight || got.TxID != in.TxID {
			t.Fatalf("with the payout missing: %s %q, want in_flight %q", got.State, got.TxID, in.TxID)
		}
		e.lnd.mu.Lock()
		e.lnd.txs = txs
		sends := e.lnd.coinSends
		e.lnd.mu.Unlock()
		if sends != 1 {
			t.Fatalf("SendCoins called %d times", sends)
		}
		e.lnd.confirm()
		paid := e.waitRedemption(r.ID, RedemptionPaid)
		if paid.TxID != in.TxID || paid.FeePaid != 3*141 {
			t.Fatalf("paid %+v: want txid %s, fee %d", paid, in.TxID, 3*141)
		}
		if got := e.balance(e.holder); got != startBalance-10_000-3*250 {
			t.Fatalf("holder %d", got)
		}
		e.books()
	})
}
