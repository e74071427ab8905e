package payments

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/store"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/status"
)

// Deposit states.
const (
	DepositOpen     = "open"
	DepositSettled  = "settled"
	DepositCredited = "credited"
	DepositExpired  = "expired"
)

// Deposit output states.
const (
	OutputCredited = "credited"
	OutputReorged  = "reorged"
)

// Cursor names.
const (
	cursorAddIndex    = "invoice_add_index"
	cursorSettleIndex = "invoice_settle_index"
)

// Deposit is a deposit with its credited outputs.
type Deposit struct {
	store.DepositRow
	Outputs []store.DepositOutputRow
}

// DepositRequest asks for an invoice or an address.
type DepositRequest struct {
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
func (s *Service) CreateDeposit(ctx context.Context, r DepositRequest) (Deposit, error) {
	if err := s.alive(); err != nil {
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
	case store.MethodLightning:
		return s.createInvoice(ctx, r)
	case store.MethodOnchain:
		return s.createAddress(ctx, r)
	}
	return Deposit{}, fmt.Errorf("%w: method must be PAYMENT_METHOD_LIGHTNING or PAYMENT_METHOD_ONCHAIN", ledger.ErrInvalidArgument)
}

// sameDeposit refuses a retry whose request differs from the one that
// created d.
func sameDeposit(d Deposit, r DepositRequest) error {
	if d.Asset != r.Asset || d.Method != r.Method || d.Memo != r.Memo ||
		(r.Method == store.MethodLightning && d.Amount != r.Amount) || (r.Method == store.MethodOnchain && r.Amount != 0) {
		return fmt.Errorf("%w: idempotency_key %q already created deposit %s with different parameters",
			ledger.ErrIdempotencyConflict, r.IdempotencyKey, d.ID)
	}
	return nil
}

func (s *Service) createInvoice(ctx context.Context, r DepositRequest) (Deposit, error) {
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
	if err := s.checkDaily(ctx, r.AccountID, r.Asset, pol, r.Amount, true); err != nil {
		return Deposit{}, err
	}
	inv, err := s.ln.AddInvoice(ctx, &lnrpc.Invoice{Memo: r.Memo, Value: r.Amount, Expiry: int64(r.Expiry / time.Second)})
	if err != nil {
		return Deposit{}, s.lndFailed("AddInvoice", err)
	}
	now := s.now()
	row := store.DepositRow{ID: uuid.NewString(), AccountID: r.AccountID, Asset: r.Asset, Method: store.MethodLightning,
		State: DepositOpen, Amount: r.Amount, Memo: r.Memo, PaymentHash: hex.EncodeToString(inv.RHash),
		PaymentRequest: inv.PaymentRequest, Index: -1, IdemKey: r.IdempotencyKey,
		ExpiresAt: now + r.Expiry.Microseconds(), CreatedAt: now, UpdatedAt: now}
	// If a concurrent retry wins, the invoice made here is never handed out.
	d, inserted, err := s.insertDeposit(ctx, r, row, func(tx *store.Tx, _ *store.DepositRow) error {
		return s.checkDailyTx(ctx, tx, r.AccountID, r.Asset, pol, r.Amount, true)
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
func (s *Service) insertDeposit(ctx context.Context, r DepositRequest, row store.DepositRow,
	prepare func(tx *store.Tx, row *store.DepositRow) error) (d Deposit, inserted bool, err error) {
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := prepare(tx, &row); err != nil {
			return err
		}
		var err error
		row, err = tx.InsertDeposit(ctx, row)
		return err
	})
	if errors.Is(err, store.ErrConflict) && r.IdempotencyKey != "" {
		d, err := s.retryWinner(ctx, r)
		return d, false, err
	}
	if err != nil {
		return Deposit{}, false, err
	}
	return Deposit{DepositRow: row}, true, nil
}

// retryWinner returns the deposit a concurrent request with the same
// idempotency key stored first, if it asked for the same thing.
func (s *Service) retryWinner(ctx context.Context, r DepositRequest) (Deposit, error) {
	d, err := s.depositByKey(ctx, r.AccountID, r.IdempotencyKey)
	if err != nil {
		return Deposit{}, err
	}
	return d, sameDeposit(d, r)
}

func (s *Service) createAddress(ctx context.Context, r DepositRequest) (Deposit, error) {
	desc := s.cfg.DepositDesc
	if desc == nil {
		return Deposit{}, fmt.Errorf("%w: on-chain deposits need --payments.depositdescriptor", ErrNotConfigured)
	}
	if r.Amount != 0 {
		return Deposit{}, fmt.Errorf("%w: an on-chain deposit takes no amount: whatever is paid to the address is credited", ledger.ErrInvalidArgument)
	}
	now := s.now()
	row := store.DepositRow{ID: uuid.NewString(), AccountID: r.AccountID, Asset: r.Asset, Method: store.MethodOnchain,
		State: DepositOpen, Memo: r.Memo, Descriptor: desc.String(), IdemKey: r.IdempotencyKey, CreatedAt: now, UpdatedAt: now}
	cursor := "deposit_index:" + desc.String()
	d, inserted, err := s.insertDeposit(ctx, r, row, func(tx *store.Tx, row *store.DepositRow) error {
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
		if next >= used+s.cfg.DepositGap {
			return fmt.Errorf("%w: %d deposit addresses are unused, the chain watcher's gap limit; reuse an open deposit (ListDeposits) or wait until one is paid",
				ErrLimit, next-used)
		}
		if next < used {
			next = used
		}
		if next > 1<<31-1 {
			return fmt.Errorf("%w: the deposit descriptor's non-hardened indexes are exhausted", ErrLimit)
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

// checkDaily refuses amount if the account's last 24 hours of deposits (or
// redemptions) plus amount exceed the policy's daily limit.
func (s *Service) checkDaily(ctx context.Context, account, asset string, p Policy, amount int64, deposit bool) error {
	if p.Daily <= 0 {
		return nil
	}
	return s.db.Read(ctx, func(tx *store.Tx) error {
		return s.checkDailyTx(ctx, tx, account, asset, p, amount, deposit)
	})
}

// checkDailyTx is checkDaily inside a transaction. Deposits count while open
// (requested), settled or credited; redemptions count unless rejected or
// refunded (nothing left the account).
func (s *Service) checkDailyTx(ctx context.Context, tx *store.Tx, account, asset string, p Policy, amount int64, deposit bool) error {
	if p.Daily <= 0 {
		return nil
	}
	since := s.cfg.Now().Add(-24 * time.Hour).UnixMicro()
	var (
		sum int64
		err error
	)
	what := "redemptions"
	if deposit {
		what = "deposits"
		sum, err = tx.DepositSumSince(ctx, account, asset, since, DepositOpen, DepositSettled, DepositCredited)
	} else {
		sum, err = tx.RedemptionSumSince(ctx, account, asset, since, RedemptionRequested, RedemptionBurned,
			RedemptionInFlight, RedemptionPaid, RedemptionFailed)
	}
	if err != nil {
		return err
	}
	return p.CheckDaily(what, asset, sum, amount)
}

func (s *Service) depositByKey(ctx context.Context, account, key string) (Deposit, error) {
	var d Deposit
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if d.DepositRow, err = tx.DepositByIdemKey(ctx, account, key); err != nil {
			return err
		}
		d.Outputs, err = tx.DepositOutputs(ctx, d.ID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return d, fmt.Errorf("%w: no deposit with that idempotency key", ledger.ErrNotFound)
	}
	return d, err
}

// Deposit returns one of an account's deposits.
func (s *Service) Deposit(ctx context.Context, account, id string) (Deposit, error) {
	var d Deposit
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if d.DepositRow, err = tx.Deposit(ctx, id); err != nil {
			return err
		}
		d.Outputs, err = tx.DepositOutputs(ctx, d.ID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.AccountID != account) {
		return Deposit{}, fmt.Errorf("%w: account %s has no deposit %s", ledger.ErrNotFound, account, id)
	}
	return d, err
}

// Deposits lists an account's deposits newest first (before: a seq from a
// previous page, 0 for the first). next is 0 on the last page.
func (s *Service) Deposits(ctx context.Context, account string, before int64, limit int) (out []Deposit, next int64, err error) {
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.AccountDeposits(ctx, account, before, limit+1)
		if err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			next = rows[limit-1].Seq
		}
		for _, r := range rows {
			d := Deposit{DepositRow: r}
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
func (s *Service) FlaggedOutputs(ctx context.Context) ([]store.DepositOutputRow, []store.DepositRow, error) {
	var (
		outs []store.DepositOutputRow
		deps []store.DepositRow
	)
	err := s.db.Read(ctx, func(tx *store.Tx) error {
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

// invoiceLoop follows the payments lnd's invoices from the stored add and
// settle indexes, so that an invoice settled while koshd was down is seen on
// the next start; it reconnects with backoff.
func (s *Service) invoiceLoop() {
	backoff := time.Second
	for s.ctx.Err() == nil && !s.dead.Load() {
		err := s.followInvoices(s.ctx)
		if s.ctx.Err() != nil || s.dead.Load() {
			return
		}
		s.repeats.Log(slog.LevelWarn, "subscribe", status.Code(err).String(), "invoice subscription ended; resubscribing",
			"err", err, "in", backoff)
		select {
		case <-s.ctx.Done():
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
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if addIdx, err = tx.Cursor(ctx, cursorAddIndex); err != nil {
			return err
		}
		settleIdx, err = tx.Cursor(ctx, cursorSettleIndex)
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
	s.wake()
	for {
		inv, err := stream.Recv()
		if err == io.EOF {
			return errors.New("invoice stream closed by lnd")
		}
		if err != nil {
			return fmt.Errorf("receive invoice: %w", err)
		}
		if err := s.handleInvoice(ctx, inv); err != nil {
			if errors.Is(err, errCrashed) {
				return err
			}
			s.log.Warn("invoice update not handled; the work loop retries", "hash", hex.EncodeToString(inv.RHash), "err", err)
			continue
		}
		// Advance the cursors only past invoices fully handled.
		err = s.db.Write(ctx, func(tx *store.Tx) error {
			if inv.State == lnrpc.Invoice_SETTLED && int64(inv.SettleIndex) > settleIdx {
				settleIdx = int64(inv.SettleIndex)
				if err := tx.SetCursor(ctx, cursorSettleIndex, settleIdx); err != nil {
					return err
				}
			}
			if int64(inv.AddIndex) > addIdx {
				addIdx = int64(inv.AddIndex)
				return tx.SetCursor(ctx, cursorAddIndex, addIdx)
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
	var d store.DepositRow
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		d, err = tx.DepositByPaymentHash(ctx, hash)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // not a deposit invoice
	}
	if err != nil {
		return err
	}
	switch inv.State {
	case lnrpc.Invoice_SETTLED:
		if d.State == DepositOpen {
			paid := inv.AmtPaidMsat / 1000 // whole sats received; a sub-sat remainder is not credited
			if paid <= 0 {
				return fmt.Errorf("invoice %s settled for %d msat", hash, inv.AmtPaidMsat)
			}
			err := s.db.Write(ctx, func(tx *store.Tx) error {
				return tx.SetDepositState(ctx, d.ID, DepositOpen, DepositSettled, paid, s.now())
			})
			if err != nil && !errors.Is(err, store.ErrNoChange) {
				return err
			}
			s.log.Info("deposit invoice settled", "deposit", d.ID, "amount", paid)
			d.State, d.Credited = DepositSettled, paid
		}
		if d.State == DepositSettled {
			return s.creditLightning(ctx, d)
		}
	case lnrpc.Invoice_CANCELED:
		if d.State == DepositOpen {
			err := s.db.Write(ctx, func(tx *store.Tx) error {
				return tx.SetDepositState(ctx, d.ID, DepositOpen, DepositExpired, 0, s.now())
			})
			if err != nil && !errors.Is(err, store.ErrNoChange) {
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
func (s *Service) creditLightning(ctx context.Context, d store.DepositRow) error {
	e, err := s.ledger.Mint(ctx, ledger.Transfer{Scope: Scope, IdempotencyKey: "ln:" + d.PaymentHash, Asset: d.Asset,
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
	if err := s.fault("deposit:after-mint"); err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		return tx.SetDepositState(ctx, d.ID, DepositSettled, DepositCredited, d.Credited, s.now())
	})
	if err != nil && !errors.Is(err, store.ErrNoChange) {
		return err
	}
	if err == nil {
		s.credited.Add(1)
		s.log.Info("deposit credited", "deposit", d.ID, "account", d.AccountID, "asset", d.Asset,
			"amount", d.Credited, "entry", e.Seq, "replayed", e.Replayed)
	}
	return nil
}

// reconcileDeposits credits settled deposits whose credit was refused or
// interrupted, and, if lookups, looks up open invoices (those settled or
// canceled while the subscription was down).
func (s *Service) reconcileDeposits(ctx context.Context, lookups bool) {
	var open, settled []store.DepositRow
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if settled, err = tx.DepositsInState(ctx, store.MethodLightning, DepositSettled); err != nil {
			return err
		}
		open, err = tx.DepositsInState(ctx, store.MethodLightning, DepositOpen)
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
			if errors.Is(err, errCrashed) || ctx.Err() != nil {
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
			if !errors.Is(err, errCrashed) && ctx.Err() == nil {
				s.repeats.Log(slog.LevelWarn, "lookup:"+d.ID, err.Error(), "reconcile deposit invoice", "deposit", d.ID, "err", err)
			}
			return
		}
	}
}
