package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments/paymentstest"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/kosh-reserve/kosh/store"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRedeemRejectedMessage: a redemption the ledger refuses says so once
// ("insufficient funds: … refused, nothing was taken: account … holds …"),
// on the first answer and on a retry with the same key.
func TestRedeemRejectedMessage(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	pr, _ := e.lnd.newPayReq(startBalance + 1)
	for _, try := range []string{"first", "retry"} {
		_, err := e.svc.Redeem(e.ctx, RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning,
			IdempotencyKey: "too-much", PaymentRequest: pr})
		if !errors.Is(err, ledger.ErrInsufficientFunds) {
			t.Fatalf("%s: %v, want insufficient funds", try, err)
		}
		msg := err.Error()
		if n := strings.Count(msg, "insufficient funds"); n != 1 || !strings.Contains(msg, "nothing was taken") ||
			!strings.Contains(msg, fmt.Sprintf("holds %d", startBalance)) {
			t.Fatalf("%s: %q: want \"insufficient funds\" once, that nothing was taken, and the balance", try, msg)
		}
	}
	e.books()
}

// TestRedeemInvoiceSpent: an invoice whose redemption ended (rejected,
// refunded, paid) is spent: another redemption of it is refused with a
// message that says what happened and asks for a new invoice, never that
// it "is being paid"; another account is not told the redemption's id.
func TestRedeemInvoiceSpent(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	redeem := func(key, pr string) error {
		_, err := e.svc.Redeem(e.ctx, RedeemRequest{AccountID: e.holder, Asset: asset, Method: payrecord.MethodLightning,
			IdempotencyKey: key, PaymentRequest: pr})
		return err
	}
	check := func(what string, err error, want ...string) {
		t.Helper()
		if !errors.Is(err, ledger.ErrAlreadyExists) {
			t.Fatalf("%s: %v, want already exists", what, err)
		}
		if strings.Contains(err.Error(), "being paid") {
			t.Fatalf("%s: %q says the invoice is being paid", what, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%s: %q does not say %q", what, err, w)
			}
		}
	}

	rejectedPR, _ := e.lnd.newPayReq(startBalance + 1)
	if err := redeem("r1", rejectedPR); !errors.Is(err, ledger.ErrInsufficientFunds) {
		t.Fatalf("rejected: %v", err)
	}
	r1, err := e.svc.redemptionByKey(e.ctx, e.holder, "r1")
	if err != nil {
		t.Fatal(err)
	}
	check("after rejected", redeem("r2", rejectedPR), "rejected", "without paying it", "new one", r1.ID)

	// ended redeems a new invoice of amount under key, lnd's payment of it
	// ending with outcome, and waits until the redemption is in state.
	ended := func(key string, amount int64, outcome lnrpc.Payment_PaymentStatus, state string) (string, payrecord.Redemption) {
		t.Helper()
		e.lnd.mu.Lock()
		e.lnd.outcome = outcome
		e.lnd.mu.Unlock()
		pr, _ := e.lnd.newPayReq(amount)
		if err := redeem(key, pr); err != nil {
			t.Fatal(err)
		}
		r, err := e.svc.redemptionByKey(e.ctx, e.holder, key)
		if err != nil {
			t.Fatal(err)
		}
		return pr, e.waitRedemption(r.ID, state)
	}
	failingPR, _ := ended("f1", 3_000, lnrpc.Payment_FAILED, RedemptionRefunded)
	check("after refunded", redeem("f2", failingPR), "refunded", "without paying it", "new one")
	paidPR, p1 := ended("p1", 2_000, lnrpc.Payment_SUCCEEDED, RedemptionPaid)
	check("after paid", redeem("p2", paidPR), "already paid", p1.ID)

	other, err := e.led.CreateAccount(e.ctx, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.led.Mint(e.ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "seed-other", Asset: asset,
		To: other.ID, Amount: 10_000}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Redeem(e.ctx, RedeemRequest{AccountID: other.ID, Asset: asset, Method: payrecord.MethodLightning,
		IdempotencyKey: "o1", PaymentRequest: paidPR})
	check("another account", err, "already paid", "another account's redemption")
	if strings.Contains(err.Error(), p1.ID) {
		t.Fatalf("another account is told the holder's redemption id: %q", err)
	}
	if n := e.lnd.sendCount(p1.PaymentHash); n != 1 {
		t.Fatalf("paid invoice sent %d times", n)
	}
	e.books()
}

var (
	adminOps = []string{"address:read", "address:write", "info:read", "info:write", "invoices:read", "invoices:write",
		"macaroon:generate", "macaroon:read", "macaroon:write", "message:read", "message:write", "offchain:read",
		"offchain:write", "onchain:read", "onchain:write", "peers:read", "peers:write", "signer:generate", "signer:read"}
	readonlyOps = []string{"address:read", "info:read", "invoices:read", "macaroon:read", "message:read",
		"offchain:read", "onchain:read", "peers:read", "signer:read"}
)

// TestCheckMacaroon: the permissions a payments macaroon needs are read
// from the macaroon itself, and every missing one is named with what it is
// for and how to bake a macaroon that has it.
func TestCheckMacaroon(t *testing.T) {
	if err := CheckMacaroon(paymentstest.LndMacaroon(t, adminOps...)); err != nil {
		t.Fatalf("admin macaroon: %v", err)
	}
	if err := CheckMacaroon(paymentstest.LndMacaroon(t, RequiredPermissions()...)); err != nil {
		t.Fatalf("macaroon baked with RequiredPermissions: %v", err)
	}
	var uris []string
	for _, c := range lndCalls {
		uris = append(uris, "uri:"+c.method)
	}
	if err := CheckMacaroon(paymentstest.LndMacaroon(t, uris...)); err != nil {
		t.Fatalf("macaroon with a uri: permission per method: %v", err)
	}
	err := CheckMacaroon(paymentstest.LndMacaroon(t, readonlyOps...))
	if !errors.Is(err, ErrMisconfigured) {
		t.Fatalf("read-only macaroon: %v, want refused", err)
	}
	for _, want := range []string{"invoices:write (AddInvoice", "offchain:write (SendPaymentV2", "onchain:write (SendCoins",
		"lncli bakemacaroon info:read invoices:read invoices:write offchain:read offchain:write onchain:read onchain:write"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("read-only macaroon: %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "info:read (") {
		t.Fatalf("read-only macaroon: %q names a permission it has", err)
	}
	err = CheckMacaroon(paymentstest.LndMacaroon(t, uris[:len(uris)-2]...))
	if !errors.Is(err, ErrMisconfigured) || !strings.Contains(err.Error(), "onchain:write (SendCoins") ||
		strings.Contains(err.Error(), "AddInvoice") {
		t.Fatalf("uri: permissions without SendCoins and GetTransactions: %v", err)
	}
	if err := CheckMacaroon([]byte("not a macaroon")); !errors.Is(err, ErrMisconfigured) || !strings.Contains(err.Error(), "not a macaroon") {
		t.Fatalf("garbage: %v", err)
	}
}

// captureLog records log lines.
type captureLog struct {
	mu    sync.Mutex
	lines []slog.Record
}

func (c *captureLog) Enabled(context.Context, slog.Level) bool { return true }
func (c *captureLog) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	c.lines = append(c.lines, r.Clone())
	c.mu.Unlock()
	return nil
}
func (c *captureLog) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *captureLog) WithGroup(string) slog.Handler      { return c }

// count returns how many lines start with msg at level, and the last one.
func (c *captureLog) count(level slog.Level, msg string) (int, slog.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, last := 0, slog.Record{}
	for _, r := range c.lines {
		if r.Level == level && strings.HasPrefix(r.Message, msg) {
			n++
			last = r
		}
	}
	return n, last
}

var errRefusedMac = status.Error(codes.Unknown, "verification failed: signature mismatch after caveat verification")

// TestLndRefusesMacaroon: koshd starts while the payments lnd is down
// (deposits answer "unavailable", which retrying fixes); once lnd answers
// and refuses the macaroon, deposits and redemptions answer "misconfigured"
// (a permanent error naming the fix), with one ERROR line, and the work
// loop stops calling lnd. A macaroon lacking a permission by lnd's own map
// (ListPermissions) is refused the same way.
func TestLndRefusesMacaroon(t *testing.T) {
	logs := &captureLog{}
	e := newEnv(t, store.SQLite, func(c *Config) { c.Log = slog.New(logs) })
	e.svc.Stop()
	e.lnd.setDown(true)
	e.start(nil)

	if err := e.svc.CheckLnd(e.ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("CheckLnd with lnd down: %v, want unavailable", err)
	}
	deposit := func() error {
		_, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset,
			Method: payrecord.MethodLightning, Amount: 5_000})
		return err
	}
	if err := deposit(); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrMisconfigured) {
		t.Fatalf("deposit with lnd down: %v, want unavailable", err)
	}

	e.lnd.mu.Lock()
	e.lnd.down, e.lnd.refuseMac = false, errRefusedMac
	e.lnd.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := deposit()
		if errors.Is(err, ErrMisconfigured) {
			if errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "refuses koshd's macaroon") ||
				!strings.Contains(err.Error(), "signature mismatch") {
				t.Fatalf("deposit with the macaroon refused: %q", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deposit after lnd came back refusing the macaroon: %v, want misconfigured", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pr, _ := e.lnd.newPayReq(1_000)
	if _, _, err := e.lnRedeem("after", 1_000, 0); !errors.Is(err, ErrMisconfigured) {
		t.Fatalf("redeem with the macaroon refused: %v (%s)", err, pr)
	}
	time.Sleep(100 * time.Millisecond) // several polls
	if n, _ := logs.count(slog.LevelError, "PAYMENTS DISABLED"); n != 1 {
		t.Fatalf("%d ERROR lines for the refused macaroon, want 1", n)
	}

	// lnd's own permission map wants more than the macaroon has.
	e2 := newEnv(t, store.SQLite, func(c *Config) { c.Macaroon = paymentstest.LndMacaroon(t, RequiredPermissions()...) })
	if err := e2.svc.CheckLnd(e2.ctx); err != nil {
		t.Fatalf("CheckLnd with every permission: %v", err)
	}
	e3 := newEnv(t, store.SQLite, func(c *Config) { c.Macaroon = paymentstest.LndMacaroon(t, RequiredPermissions()...) })
	e3.lnd.mu.Lock()
	e3.lnd.perms = map[string][]string{"/lnrpc.Lightning/AddInvoice": {"invoices:write", "address:write"}}
	e3.lnd.mu.Unlock()
	if err := e3.svc.CheckLnd(e3.ctx); !errors.Is(err, ErrMisconfigured) || !strings.Contains(err.Error(), "address:write (AddInvoice") {
		t.Fatalf("CheckLnd with lnd wanting address:write for AddInvoice: %v", err)
	}
}

// TestRepeatedLogLines: a redemption waiting for lnd and a deposit credit
// waiting for the coverage gate each log one line when the wait starts,
// not one per poll; again after LogRepeat, with the retries in between; and
// one line when the redemption proceeds.
func TestRepeatedLogLines(t *testing.T) {
	logs := &captureLog{}
	e := newEnv(t, store.SQLite, func(c *Config) { c.Log = slog.New(logs) })
	e.lnd.mu.Lock()
	e.lnd.outcome = lnrpc.Payment_IN_FLIGHT
	e.lnd.mu.Unlock()
	r, hash, err := e.lnRedeem("held", 2_000, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.waitRedemption(r.ID, RedemptionInFlight)
	e.gate.refuse.Store(true)
	d, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset,
		Method: payrecord.MethodLightning, Amount: 4_000})
	if err != nil {
		t.Fatal(err)
	}
	e.lnd.settle(d.PaymentHash, 4_000_000)
	e.waitDeposit(d.ID, DepositSettled)
	e.lnd.setDown(true)

	const waiting, gate = "redemption not finished", "deposit credit waits"
	time.Sleep(60 * e.cfg.Poll) // dozens of polls
	if n, _ := logs.count(slog.LevelWarn, waiting); n != 1 {
		t.Fatalf("%d %q lines while lnd was down for ~60 polls, want 1", n, waiting)
	}
	if n, _ := logs.count(slog.LevelInfo, gate); n != 1 {
		t.Fatalf("%d %q lines while the gate refused for ~60 polls, want 1", n, gate)
	}

	// LogRepeat (5 minutes) later, each is logged again, counting retries.
	e.skew.Add(int64(6 * time.Minute))
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, last := logs.count(slog.LevelWarn, waiting)
		if n == 2 {
			retries := int64(0)
			last.Attrs(func(a slog.Attr) bool {
				if a.Key == "retries_since_last_line" {
					retries = a.Value.Int64()
				}
				return true
			})
			if retries < 10 {
				t.Fatalf("the repeated line counts %d retries, want dozens", retries)
			}
			break
		}
		if n > 2 || time.Now().After(deadline) {
			t.Fatalf("%d %q lines after LogRepeat passed, want 2", n, waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}

	e.lnd.setDown(false)
	e.lnd.finish(hash, lnrpc.Payment_SUCCEEDED)
	e.waitRedemption(r.ID, RedemptionPaid)
	deadline = time.Now().Add(10 * time.Second)
	for n, _ := logs.count(slog.LevelInfo, "redemption proceeding again"); n != 1; n, _ = logs.count(slog.LevelInfo, "redemption proceeding again") {
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("%d lines saying the redemption proceeds again, want 1", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.gate.refuse.Store(false)
	e.waitDeposit(d.ID, DepositCredited)
	if n, _ := logs.count(slog.LevelWarn, waiting); n != 2 {
		t.Fatalf("%d %q lines in all, want 2", n, waiting)
	}
}

// TestDepositDefaultExpiry: a Lightning deposit asked with expiry 0 gets
// an invoice of Config.InvoiceExpiry (--payments.invoiceexpiry), as the API
// documents; a given expiry is used as is.
func TestDepositDefaultExpiry(t *testing.T) {
	e := newEnv(t, store.SQLite, func(c *Config) { c.InvoiceExpiry = 2 * time.Hour })
	for _, c := range []struct {
		ask  time.Duration
		want int64
	}{{0, 7200}, {10 * time.Minute, 600}} {
		d, err := e.svc.CreateDeposit(e.ctx, DepositRequest{AccountID: e.holder, Asset: asset,
			Method: payrecord.MethodLightning, Amount: 1_000, Expiry: c.ask})
		if err != nil {
			t.Fatal(err)
		}
		e.lnd.mu.Lock()
		got := e.lnd.invoices[d.PaymentHash].Expiry
		e.lnd.mu.Unlock()
		if got != c.want || d.ExpiresAt-d.CreatedAt != c.want*1_000_000 {
			t.Fatalf("expiry %s: invoice expiry %d s, deposit expires %d µs after creation; want %d s", c.ask, got,
				d.ExpiresAt-d.CreatedAt, c.want)
		}
	}
}
