// Package deposits credits bitcoin paid to Kosh: a Lightning invoice from
// the payments lnd, followed by subscription and lookups, or an address of
// the deposit descriptor, whose outputs the chain watcher stores and which
// is credited once confirmed (and flagged if a reorganisation removes it).
// Each credit is a mint keyed by the payment hash or the outpoint, so a
// crash between the mint and the state update is repaired by replaying it.
//
// The payments service owns the lnd connection, the fault hooks and the
// work loop; it passes what deposits need of it in Deps.
package deposits

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments/internal/crash"
	"github.com/kosh-reserve/kosh/payments/internal/repeatlog"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/kosh-reserve/kosh/payments/policy"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// ErrNotConfigured is returned when the feature asked for is not configured.
var ErrNotConfigured = errors.New("not configured")

// Ledger is what deposits need of the ledger.
type Ledger interface {
	Mint(ctx context.Context, r ledger.Transfer) (ledger.Entry, error)
	Asset(ctx context.Context, code string) (ledger.Asset, error)
	Account(ctx context.Context, id string) (ledger.Account, []ledger.Balance, error)
}

// Lightning is the lnrpc calls deposits make (lnrpc.LightningClient
// satisfies it).
type Lightning interface {
	AddInvoice(ctx context.Context, in *lnrpc.Invoice, opts ...grpc.CallOption) (*lnrpc.AddInvoiceResponse, error)
	LookupInvoice(ctx context.Context, in *lnrpc.PaymentHash, opts ...grpc.CallOption) (*lnrpc.Invoice, error)
	SubscribeInvoices(ctx context.Context, in *lnrpc.InvoiceSubscription, opts ...grpc.CallOption) (lnrpc.Lightning_SubscribeInvoicesClient, error)
}

// Config configures deposits; the payments service fills it from its own
// Config, defaults applied.
type Config struct {
	// MinConf is how many confirmations an on-chain deposit needs.
	MinConf int64
	// Desc derives on-chain deposit addresses (nil: none).
	Desc *descriptor.Descriptor
	// Gap is how far beyond the chain watcher's last used index addresses
	// may be handed out.
	Gap int64
	// Policies per asset code; Default for the others.
	Policies map[string]policy.Policy
	Default  policy.Policy
	// InvoiceExpiry is the default deposit invoice lifetime.
	InvoiceExpiry time.Duration
	Now           func() time.Time
}

// Deps is what deposits share with the payments service that runs them.
type Deps struct {
	DB     payrecord.Store
	Ledger Ledger
	LN     Lightning
	Log    *slog.Logger
	// Repeats is the service's repeat-suppressing log.
	Repeats *repeatlog.Log
	// Scope is the ledger idempotency scope of every mint.
	Scope ledger.Scope
	// Alive refuses new work when the service stopped or is misconfigured.
	Alive func() error
	// Fault runs the fault hook at a crash point (an error wrapping
	// crash.Err after a simulated crash).
	Fault func(point string) error
	// Dead reports whether a simulated crash stopped the service.
	Dead func() bool
	// Wake asks the service's work loop to run now.
	Wake func()
	// LndFailed turns an lnd call's failure into the service's error.
	LndFailed func(call string, err error) error
}

// Stats are the deposit counters.
type Stats struct {
	Credited, Reorged, Flagged int64
	// ScanHeight is the chain height the last completed on-chain scan
	// evaluated (0: none yet).
	ScanHeight int64
}

// Service creates, follows and credits deposits.
type Service struct {
	deps    Deps
	cfg     Config
	db      payrecord.Store
	ledger  Ledger
	ln      Lightning
	log     *slog.Logger
	repeats *repeatlog.Log

	credited, reorged, flagged atomic.Int64
	scanHeight                 atomic.Int64

	// lookupAll asks the work loop to look up every open deposit invoice
	// (set on start and on every resubscription); otherwise it does so once
	// a minute, since the subscription is what reports settlements.
	lookupAll atomic.Bool
	// Owned by the work loop: when open invoices were last looked up, the
	// chain tip the last on-chain scan saw, when it ran, and whether it
	// left a credit waiting for the gate.
	lastLookup  time.Time
	scanTip     string
	scanAt      time.Time
	scanWaiting bool
}

// lookupEvery is how often open deposit invoices are looked up one by one
// besides the subscription; rescanEvery is how often the on-chain deposits
// are rescanned when the chain tip has not moved.
const (
	lookupEvery = time.Minute
	rescanEvery = 30 * time.Second
)

// New returns the deposits of a payments service.
func New(deps Deps, cfg Config) *Service {
	s := &Service{deps: deps, cfg: cfg, db: deps.DB, ledger: deps.Ledger, ln: deps.LN, log: deps.Log, repeats: deps.Repeats}
	s.lookupAll.Store(true)
	return s
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	return Stats{Credited: s.credited.Load(), Reorged: s.reorged.Load(), Flagged: s.flagged.Load(),
		ScanHeight: s.scanHeight.Load()}
}

func (s *Service) now() int64 { return s.cfg.Now().UnixMicro() }

// policy returns an asset's policy.
func (s *Service) policy(asset string) policy.Policy {
	return policy.For(s.cfg.Policies, s.cfg.Default, asset)
}

// satAsset checks that an asset exists and is sat-pegged: deposits and
// redemptions convert 1 unit = 1 sat.
func (s *Service) satAsset(ctx context.Context, code string) error {
	a, err := s.ledger.Asset(ctx, code)
	if err != nil {
		return err
	}
	if a.Peg != ledger.PegSat {
		return fmt.Errorf("%w: asset %s is not sat-pegged; deposits of bitcoin are for sat-pegged assets only (fiat-pegged units are minted by the issuer)",
			ledger.ErrInvalidArgument, code)
	}
	return nil
}

// Work is the deposits' share of one pass of the service's work loop: it
// credits settled invoices whose credit was refused or interrupted, looks
// up open invoices (on start, after a resubscription and once a minute, if
// lndUsable), and scans the chain for on-chain deposits.
func (s *Service) Work(ctx context.Context, lndUsable bool) {
	lookups := s.lookupAll.Swap(false) || time.Since(s.lastLookup) >= lookupEvery
	if lookups {
		s.lastLookup = time.Now()
	}
	s.reconcile(ctx, lookups && lndUsable)
	if s.cfg.Desc != nil {
		if err := s.scanOnchain(ctx); err != nil && ctx.Err() == nil {
			s.repeats.Log(slog.LevelWarn, "scan", err.Error(), "on-chain deposit scan failed; retrying", "err", err)
		} else if err == nil {
			s.repeats.Clear("scan", "on-chain deposit scan works again")
		}
	}
}

// Deposit states.
const (
	Open     = "open"
	Settled  = "settled"
	Credited = "credited"
	Expired  = "expired"
)

// Deposit output states.
const (
	OutputCredited = "credited"
	OutputReorged  = "reorged"
)

// Store cursor names: the lnd invoice add and settle indexes the invoice
// subscription resumes from.
const (
	CursorAddIndex    = "invoice_add_index"
	CursorSettleIndex = "invoice_settle_index"
)

// Deposit is a deposit with its credited outputs.
type Deposit struct {
	payrecord.Deposit
	Outputs []payrecord.Output
}

// Request asks for an invoice or an address.
type Request struct {
	AccountID      string
	Asset          string
	Method         int32
	Amount         int64
	Memo           string
	Expiry         time.Duration
	IdempotencyKey string
}

// CreateDeposit returns a Lightning invoice or an on-chain address for the
// account.
func (s *Service) CreateDeposit(ctx context.Context, r Request) (Deposit, error) {
	if err := s.deps.Alive(); err != nil {
		return Deposit{}, err
	}
	if err := ledger.ValidateAccountID("account_id", r.AccountID); err != nil {
		return Deposit{}, err
	}
	if _, _, err := s.ledger.Account(ctx, r.AccountID); err != nil {
		return Deposit{}, err
	}
	if err := s.satAsset(ctx, r.Asset); err != nil {
		return Deposit{}, err
	}
	if err := ledger.ValidateText("memo", r.Memo, ledger.MaxMemoLen); err != nil {
		return Deposit{}, err
	}
	if r.IdempotencyKey != "" {
		if len(r.IdempotencyKey) > ledger.MaxKeyLen {
			return Deposit{}, fmt.Errorf("%w: idempotency_key is %d characters, at most %d allowed",
				ledger.ErrInvalidArgument, len(r.IdempotencyKey), ledger.MaxKeyLen)
		}
		d, err := s.depositByKey(ctx, r.AccountID, r.IdempotencyKey)
		if err == nil {
			if err := sameDeposit(d, r); err != nil {
				return Deposit{}, err
			}
			return d, nil
		}
		if !errors.Is(err, ledger.ErrNotFound) {
			return Deposit{}, err
		}
	}
	switch r.Method {
	case payrecord.MethodLightning:
		return s.createInvoice(ctx, r)
	case payrecord.MethodOnchain:
		return s.createAddress(ctx, r)
	}
	return Deposit{}, fmt.Errorf("%w: method must be PAYMENT_METHOD_LIGHTNING or PAYMENT_METHOD_ONCHAIN", ledger.ErrInvalidArgument)
}

// sameDeposit refuses a retry whose request differs from the one that
// created d.
func sameDeposit(d Deposit, r Request) error {
	if d.Asset != r.Asset || d.Method != r.Method || d.Memo != r.Memo ||
		(r.Method == payrecord.MethodLightning && d.Amount != r.Amount) || (r.Method == payrecord.MethodOnchain && r.Amount != 0) {
		return fmt.Errorf("%w: idempotency_key %q already created deposit %s with different parameters",
			ledger.ErrIdempotencyConflict, r.IdempotencyKey, d.ID)
	}
	return nil
}

func (s *Service) createInvoice(ctx context.Context, r Request) (Deposit, error) {
	if r.Amount <= 0 {
		return Deposit{}, fmt.Errorf("%w: amount must be a positive number of sats for a Lightning deposit", ledger.ErrInvalidArgument)
	}
	pol := s.policy(r.Asset)
	if err := pol.CheckAmount("a deposit", r.Amount); err != nil {
		return Deposit{}, err
	}
	if r.Expiry < 0 || r.Expiry > 30*24*time.Hour {
		return Deposit{}, fmt.Errorf("%w: expiry_seconds must be 0 (default) to %d", ledger.ErrInvalidArgument, 30*24*3600)
	}
	if r.Expiry == 0 {
		r.Expiry = s.cfg.InvoiceExpiry
	}
	if err := s.checkDaily(ctx, r.AccountID, r.Asset, pol, r.Amount); err != nil {
		return Deposit{}, err
	}
	inv, err := s.ln.AddInvoice(ctx, &lnrpc.Invoice{Memo: r.Memo, Value: r.Amount, Expiry: int64(r.Expiry / time.Second)})
	if err != nil {
		return Deposit{}, s.deps.LndFailed("AddInvoice", err)
	}
	now := s.now()
	row := payrecord.Deposit{ID: uuid.NewString(), AccountID: r.AccountID, Asset: r.Asset, Method: payrecord.MethodLightning,
		State: Open, Amount: r.Amount, Memo: r.Memo, PaymentHash: hex.EncodeToString(inv.RHash),
		PaymentRequest: inv.PaymentRequest, Index: -1, IdemKey: r.IdempotencyKey,
		ExpiresAt: now + r.Expiry.Microseconds(), CreatedAt: now, UpdatedAt: now}
	// If a concurrent retry wins, the invoice made here is never handed out.
	d, inserted, err := s.insertDeposit(ctx, r, row, func(tx payrecord.Tx, _ *payrecord.Deposit) error {
		return s.checkDailyTx(ctx, tx, r.AccountID, r.Asset, pol, r.Amount)
	})
	if err != nil || !inserted {
		return d, err
	}
	s.log.Info("deposit invoice created", "deposit", d.ID, "account", d.AccountID, "asset", d.Asset,
		"amount", d.Amount, "hash", d.PaymentHash)
	return d, nil
}

// insertDeposit stores row in one transaction, after prepare (which may
// refuse, or complete row) in the same transaction. If a concurrent request
// with the same idempotency key stored its deposit first, it returns that
// deposit (or the conflict, if the parameters differ) and inserted false.
func (s *Service) insertDeposit(ctx context.Context, r Request, row payrecord.Deposit,
	prepare func(tx payrecord.Tx, row *payrecord.Deposit) error) (d Deposit, inserted bool, err error) {
	err = s.db.Write(ctx, func(tx payrecord.Tx) error {
		if err := prepare(tx, &row); err != nil {
			return err
		}
		var err error
		row, err = tx.InsertDeposit(ctx, row)
		return err
	})
	if errors.Is(err, payrecord.ErrConflict) && r.IdempotencyKey != "" {
		d, err := s.retryWinner(ctx, r)
		return d, false, err
	}
	if err != nil {
		return Deposit{}, false, err
	}
	return Deposit{Deposit: row}, true, nil
}

// retryWinner returns the deposit a concurrent request with the same
// idempotency key stored first, if it asked for the same thing.
func (s *Service) retryWinner(ctx context.Context, r Request) (Deposit, error) {
	d, err := s.depositByKey(ctx, r.AccountID, r.IdempotencyKey)
	if err != nil {
		return Deposit{}, err
	}
	return d, sameDeposit(d, r)
}

func (s *Service) createAddress(ctx context.Context, r Request) (Deposit, error) {
	desc := s.cfg.Desc
	if desc == nil {
		return Deposit{}, fmt.Errorf("%w: on-chain deposits need --payments.depositdescriptor", ErrNotConfigured)
	}
	if r.Amount != 0 {
		return Deposit{}, fmt.Errorf("%w: an on-chain deposit takes no amount: whatever is paid to the address is credited", ledger.ErrInvalidArgument)
	}
	now := s.now()
	row := payrecord.Deposit{ID: uuid.NewString(), AccountID: r.AccountID, Asset: r.Asset, Method: payrecord.MethodOnchain,
		State: Open, Memo: r.Memo, Descriptor: desc.String(), IdemKey: r.IdempotencyKey, CreatedAt: now, UpdatedAt: now}
	cursor := "deposit_index:" + desc.String()
	d, inserted, err := s.insertDeposit(ctx, r, row, func(tx payrecord.Tx, row *payrecord.Deposit) error {
		next, err := tx.Cursor(ctx, cursor)
		if err != nil {
			return err
		}
		used, err := tx.DescriptorNextIndex(ctx, desc.String())
		if err != nil {
			return err
		}
		// The watcher matches indexes below used+gap; handing out more
		// would create addresses nobody watches.
		if next >= used+s.cfg.Gap {
			return fmt.Errorf("%w: %d deposit addresses are unused, the chain watcher's gap limit; reuse an open deposit (ListDeposits) or wait until one is paid",
				policy.ErrLimit, next-used)
		}
		if next < used {
			next = used
		}
		if next > 1<<31-1 {
			return fmt.Errorf("%w: the deposit descriptor's non-hardened indexes are exhausted", policy.ErrLimit)
		}
		addr, err := desc.Address(uint32(next))
		if err != nil {
			return fmt.Errorf("derive deposit address %d: %w", next, err)
		}
		row.Index, row.Address = next, addr.EncodeAddress()
		return tx.SetCursor(ctx, cursor, next+1)
	})
	if err != nil || !inserted {
		return d, err
	}
	s.log.Info("deposit address created", "deposit", d.ID, "account", d.AccountID, "asset", d.Asset,
		"address", d.Address, "index", d.Index)
	return d, nil
}

// checkDaily refuses amount if the account's last 24 hours of deposits
// plus amount exceed the policy's daily limit.
func (s *Service) checkDaily(ctx context.Context, account, asset string, p policy.Policy, amount int64) error {
	if p.Daily <= 0 {
		return nil
	}
	return s.db.Read(ctx, func(tx payrecord.Tx) error {
		return s.checkDailyTx(ctx, tx, account, asset, p, amount)
	})
}

// checkDailyTx is checkDaily inside a transaction. Deposits count while open
// (requested), settled or credited.
func (s *Service) checkDailyTx(ctx context.Context, tx payrecord.Tx, account, asset string, p policy.Policy, amount int64) error {
	if p.Daily <= 0 {
		return nil
	}
	since := s.cfg.Now().Add(-24 * time.Hour).UnixMicro()
	sum, err := tx.DepositSumSince(ctx, account, asset, since, Open, Settled, Credited)
	if err != nil {
		return err
	}
	return p.CheckDaily("deposits", asset, sum, amount)
}

func (s *Service) depositByKey(ctx context.Context, account, key string) (Deposit, error) {
	var d Deposit
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		if d.Deposit, err = tx.DepositByIdemKey(ctx, account, key); err != nil {
			return err
		}
		d.Outputs, err = tx.DepositOutputs(ctx, d.ID)
		return err
	})
	if errors.Is(err, payrecord.ErrNotFound) {
		return d, fmt.Errorf("%w: no deposit with that idempotency key", ledger.ErrNotFound)
	}
	return d, err
}

// Deposit returns one of an account's deposits.
func (s *Service) Deposit(ctx context.Context, account, id string) (Deposit, error) {
	var d Deposit
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		if d.Deposit, err = tx.Deposit(ctx, id); err != nil {
			return err
		}
		d.Outputs, err = tx.DepositOutputs(ctx, d.ID)
		return err
	})
	if errors.Is(err, payrecord.ErrNotFound) || (err == nil && d.AccountID != account) {
		return Deposit{}, fmt.Errorf("%w: account %s has no deposit %s", ledger.ErrNotFound, account, id)
	}
	return d, err
}

// Deposits lists an account's deposits newest first (before: a seq from a
// previous page, 0 for the first). next is 0 on the last page.
func (s *Service) Deposits(ctx context.Context, account string, before int64, limit int) (out []Deposit, next int64, err error) {
	err = s.db.Read(ctx, func(tx payrecord.Tx) error {
		rows, err := tx.AccountDeposits(ctx, account, before, limit+1)
		if err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			next = rows[limit-1].Seq
		}
		for _, r := range rows {
			d := Deposit{Deposit: r}
			if d.Outputs, err = tx.DepositOutputs(ctx, r.ID); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, next, err
}

// FlaggedOutputs lists credited on-chain outputs that were reorganised
// out, with their deposits.
func (s *Service) FlaggedOutputs(ctx context.Context) ([]payrecord.Output, []payrecord.Deposit, error) {
	var (
		outs []payrecord.Output
		deps []payrecord.Deposit
	)
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		if outs, err = tx.DepositOutputsInState(ctx, OutputReorged); err != nil {
			return err
		}
		for _, o := range outs {
			d, err := tx.Deposit(ctx, o.DepositID)
			if err != nil {
				return err
			}
			deps = append(deps, d)
		}
		return nil
	})
	return outs, deps, err
}

// FollowInvoices follows the payments lnd's invoices from the stored add and
// settle indexes, so that an invoice settled while koshd was down is seen on
// the next start; it reconnects with backoff.
// It returns when ctx ends or a simulated crash stopped the service.
func (s *Service) FollowInvoices(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil && !s.deps.Dead() {
		err := s.followInvoices(ctx)
		if ctx.Err() != nil || s.deps.Dead() {
			return
		}
		s.repeats.Log(slog.LevelWarn, "subscribe", status.Code(err).String(), "invoice subscription ended; resubscribing",
			"err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

func (s *Service) followInvoices(ctx context.Context) error {
	var addIdx, settleIdx int64
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		if addIdx, err = tx.Cursor(ctx, CursorAddIndex); err != nil {
			return err
		}
		settleIdx, err = tx.Cursor(ctx, CursorSettleIndex)
		return err
	})
	if err != nil {
		return err
	}
	stream, err := s.ln.SubscribeInvoices(ctx, &lnrpc.InvoiceSubscription{AddIndex: uint64(addIdx), SettleIndex: uint64(settleIdx)})
	if err != nil {
		return fmt.Errorf("subscribe to invoices: %w", err)
	}
	// Open deposits are looked up one by one as well, in case an index was
	// lost or the subscription missed something.
	s.lookupAll.Store(true)
	s.deps.Wake()
	for {
		inv, err := stream.Recv()
		if err == io.EOF {
			return errors.New("invoice stream closed by lnd")
		}
		if err != nil {
			return fmt.Errorf("receive invoice: %w", err)
		}
		if err := s.handleInvoice(ctx, inv); err != nil {
			if errors.Is(err, crash.Err) {
				return err
			}
			s.log.Warn("invoice update not handled; the work loop retries", "hash", hex.EncodeToString(inv.RHash), "err", err)
			continue
		}
		// Advance the cursors only past invoices fully handled.
		err = s.db.Write(ctx, func(tx payrecord.Tx) error {
			if inv.State == lnrpc.Invoice_SETTLED && int64(inv.SettleIndex) > settleIdx {
				settleIdx = int64(inv.SettleIndex)
				if err := tx.SetCursor(ctx, CursorSettleIndex, settleIdx); err != nil {
					return err
				}
			}
			if int64(inv.AddIndex) > addIdx {
				addIdx = int64(inv.AddIndex)
				return tx.SetCursor(ctx, CursorAddIndex, addIdx)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// handleInvoice applies an invoice's state to its deposit, if it is one.
func (s *Service) handleInvoice(ctx context.Context, inv *lnrpc.Invoice) error {
	hash := hex.EncodeToString(inv.RHash)
	var d payrecord.Deposit
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		d, err = tx.DepositByPaymentHash(ctx, hash)
		return err
	})
	if errors.Is(err, payrecord.ErrNotFound) {
		return nil // not a deposit invoice
	}
	if err != nil {
		return err
	}
	switch inv.State {
	case lnrpc.Invoice_SETTLED:
		if d.State == Open {
			paid := inv.AmtPaidMsat / 1000 // whole sats received; a sub-sat remainder is not credited
			if paid <= 0 {
				return fmt.Errorf("invoice %s settled for %d msat", hash, inv.AmtPaidMsat)
			}
			err := s.db.Write(ctx, func(tx payrecord.Tx) error {
				return tx.SetDepositState(ctx, d.ID, Open, Settled, paid, s.now())
			})
			if err != nil && !errors.Is(err, payrecord.ErrNoChange) {
				return err
			}
			s.log.Info("deposit invoice settled", "deposit", d.ID, "amount", paid)
			d.State, d.Credited = Settled, paid
		}
		if d.State == Settled {
			return s.creditLightning(ctx, d)
		}
	case lnrpc.Invoice_CANCELED:
		if d.State == Open {
			err := s.db.Write(ctx, func(tx payrecord.Tx) error {
				return tx.SetDepositState(ctx, d.ID, Open, Expired, 0, s.now())
			})
			if err != nil && !errors.Is(err, payrecord.ErrNoChange) {
				return err
			}
			s.log.Info("deposit invoice expired unpaid", "deposit", d.ID)
		}
	}
	return nil
}

// creditLightning mints a settled deposit's amount, keyed by the payment
// hash, and marks it credited. A mint refused by the coverage gate (the
// reserve snapshot does not show the payment yet) is retried by the work
// loop.
func (s *Service) creditLightning(ctx context.Context, d payrecord.Deposit) error {
	e, err := s.ledger.Mint(ctx, ledger.Transfer{Scope: s.deps.Scope, IdempotencyKey: "ln:" + d.PaymentHash, Asset: d.Asset,
		To: d.AccountID, Amount: d.Credited, Memo: "lightning deposit " + d.ID})
	if err != nil {
		if errors.Is(err, ledger.ErrMintRefused) {
			s.repeats.Log(slog.LevelInfo, "credit:"+d.ID, "gate", "deposit credit waits for the reserves to show it",
				"deposit", d.ID, "reason", err)
			return nil
		}
		return fmt.Errorf("credit deposit %s: %w", d.ID, err)
	}
	s.repeats.Clear("credit:"+d.ID, "")
	if err := s.deps.Fault("deposit:after-mint"); err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx payrecord.Tx) error {
		return tx.SetDepositState(ctx, d.ID, Settled, Credited, d.Credited, s.now())
	})
	if err != nil && !errors.Is(err, payrecord.ErrNoChange) {
		return err
	}
	if err == nil {
		s.credited.Add(1)
		s.log.Info("deposit credited", "deposit", d.ID, "account", d.AccountID, "asset", d.Asset,
			"amount", d.Credited, "entry", e.Seq, "replayed", e.Replayed)
	}
	return nil
}

// reconcile credits settled deposits whose credit was refused or
// interrupted, and, if lookups, looks up open invoices (those settled or
// canceled while the subscription was down).
func (s *Service) reconcile(ctx context.Context, lookups bool) {
	var open, settled []payrecord.Deposit
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		if settled, err = tx.DepositsInState(ctx, payrecord.MethodLightning, Settled); err != nil {
			return err
		}
		open, err = tx.DepositsInState(ctx, payrecord.MethodLightning, Open)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.repeats.Log(slog.LevelWarn, "list-deposits", err.Error(), "list pending deposits", "err", err)
		}
		return
	}
	for _, d := range settled {
		if err := s.creditLightning(ctx, d); err != nil {
			if errors.Is(err, crash.Err) || ctx.Err() != nil {
				return
			}
			s.repeats.Log(slog.LevelWarn, "credit:"+d.ID, err.Error(), "credit deposit", "deposit", d.ID, "err", err)
		}
	}
	for _, d := range open {
		if !lookups {
			break
		}
		hash, err := hex.DecodeString(d.PaymentHash)
		if err != nil {
			continue
		}
		inv, err := s.ln.LookupInvoice(ctx, &lnrpc.PaymentHash{RHash: hash})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Debug("look up deposit invoice", "deposit", d.ID, "err", err)
			}
			return
		}
		if err := s.handleInvoice(ctx, inv); err != nil {
			if !errors.Is(err, crash.Err) && ctx.Err() == nil {
				s.repeats.Log(slog.LevelWarn, "lookup:"+d.ID, err.Error(), "reconcile deposit invoice", "deposit", d.ID, "err", err)
			}
			return
		}
	}
}
