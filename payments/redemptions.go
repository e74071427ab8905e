package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/google/uuid"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/money"
	"github.com/kosh-reserve/kosh/payments/internal/amount"
	"github.com/kosh-reserve/kosh/payments/payout"
	"github.com/kosh-reserve/kosh/payments/payrecord"
)

// Redemption states: requested → burned → in_flight → paid, or
// in_flight → failed → refunded; requested → rejected when the burn is
// refused (nothing happened).
const (
	RedemptionRequested = "requested"
	RedemptionBurned    = "burned"
	RedemptionInFlight  = "in_flight"
	RedemptionPaid      = "paid"
	RedemptionFailed    = "failed"
	RedemptionRefunded  = "refunded"
	RedemptionRejected  = "rejected"
)

// RedeemRequest asks for a payout.
type RedeemRequest struct {
	AccountID      string
	Asset          string
	Method         int32
	IdempotencyKey string
	PaymentRequest string
	MaxFeeSat      int64
	Address        string
	Amount         int64
	SatPerVbyte    int64
}

// Redeemed is what Redeem returns: the redemption, and the ledger entry
// that took its units from the holder into escrow.
type Redeemed struct {
	payrecord.Redemption
	// Escrow is the entry, in Scope, that moved the redemption's units from
	// the holder to the escrow account; nil while none was made (the
	// redemption is still requested: the burn has not happened yet).
	Escrow *ledger.Entry
}

// Redeem validates a redemption, records it, and drives it until the payout
// is under way (or refused). The returned redemption is in state in_flight,
// paid, failed, refunded or rejected — or still requested or burned if lnd
// was slow to answer; GetRedemption follows it. A rejected redemption is an
// error (see rejection), with nothing taken.
func (s *Service) Redeem(ctx context.Context, r RedeemRequest) (Redeemed, error) {
	row, err := s.redeem(ctx, r)
	if err != nil {
		return Redeemed{Redemption: row}, err
	}
	out := Redeemed{Redemption: row}
	e, err := s.ledger.EntryByKey(ctx, Scope, redeemEntryKey(row.ID))
	switch {
	case err == nil:
		out.Escrow = &e
	case !errors.Is(err, ledger.ErrNotFound):
		return out, fmt.Errorf("the escrow entry of redemption %s: %w", row.ID, err)
	}
	return out, nil
}

// redeem is Redeem without the escrow entry.
func (s *Service) redeem(ctx context.Context, r RedeemRequest) (payrecord.Redemption, error) {
	if err := s.alive(); err != nil {
		return payrecord.Redemption{}, err
	}
	if err := ledger.ValidateAccountID("account_id", r.AccountID); err != nil {
		return payrecord.Redemption{}, err
	}
	if err := validateKey(r.IdempotencyKey); err != nil {
		return payrecord.Redemption{}, err
	}
	if prev, err := s.redemptionByKey(ctx, r.AccountID, r.IdempotencyKey); err == nil {
		if err := s.sameRedemption(prev, r); err != nil {
			return payrecord.Redemption{}, err
		}
		return s.driveAndWait(ctx, prev.ID)
	} else if !errors.Is(err, ledger.ErrNotFound) {
		return payrecord.Redemption{}, err
	}
	if _, _, err := s.ledger.Account(ctx, r.AccountID); err != nil {
		return payrecord.Redemption{}, err
	}
	asset, err := s.ledger.Asset(ctx, r.Asset)
	if err != nil {
		return payrecord.Redemption{}, err
	}
	now := s.now()
	row := payrecord.Redemption{ID: uuid.NewString(), AccountID: r.AccountID, Asset: r.Asset, Method: r.Method,
		State: RedemptionRequested, IdemKey: r.IdempotencyKey, CreatedAt: now, UpdatedAt: now}
	pol := s.policy(r.Asset)
	if err := s.payer.Check(ctx, payout.Request{Method: r.Method, PaymentRequest: r.PaymentRequest, MaxFeeSat: r.MaxFeeSat,
		Address: r.Address, Amount: r.Amount, SatPerVbyte: r.SatPerVbyte}, &row); err != nil {
		return payrecord.Redemption{}, err
	}
	if err := pol.CheckAmount("a redemption", row.Amount); err != nil {
		return payrecord.Redemption{}, err
	}
	total, err := amount.Add(row.Amount, row.FeeLimit)
	if err != nil {
		return payrecord.Redemption{}, err
	}
	// What the payout costs the holder in units of the asset: its sats for
	// a sat peg; for a fiat peg, its sats at the latest attested price
	// (redemptions stay open whatever the coverage, so holders can exit).
	if row.Units, row.Price, err = s.redemptionUnits(ctx, asset, total); err != nil {
		return payrecord.Redemption{}, err
	}
	err = s.db.Write(ctx, func(tx payrecord.Tx) error {
		// The daily sum is read in the transaction that inserts, so two
		// concurrent requests on SQLite (one writer) cannot both pass.
		if err := s.checkDailyTx(ctx, tx, r.AccountID, r.Asset, pol, total); err != nil {
			return err
		}
		var err error
		row, err = tx.InsertRedemption(ctx, row)
		return err
	})
	if errors.Is(err, payrecord.ErrConflict) {
		if prev, kerr := s.redemptionByKey(ctx, r.AccountID, r.IdempotencyKey); kerr == nil {
			if err := s.sameRedemption(prev, r); err != nil {
				return payrecord.Redemption{}, err
			}
			return s.driveAndWait(ctx, prev.ID) // a concurrent retry won
		}
		return payrecord.Redemption{}, s.invoiceTaken(ctx, r.AccountID, row.PaymentHash)
	}
	if err != nil {
		return payrecord.Redemption{}, err
	}
	s.log.Info("redemption requested", "redemption", row.ID, "account", row.AccountID, "asset", row.Asset,
		"method", row.Method, "amount", row.Amount, "fee_limit", row.FeeLimit)
	return s.driveAndWait(ctx, row.ID)
}

// invoiceTaken explains why an invoice cannot be redeemed: another
// redemption (with another idempotency key) has it. Each invoice is redeemed
// at most once, whatever became of that redemption, since the payment hash
// is what guarantees a single payment; the holder needs a new invoice.
func (s *Service) invoiceTaken(ctx context.Context, account, hash string) error {
	var prev payrecord.Redemption
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		prev, err = tx.RedemptionByPaymentHash(ctx, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("%w: invoice %s was already used by another redemption; an invoice can be redeemed only once: ask the payee for a new one",
			ledger.ErrAlreadyExists, hash)
	}
	which := "another account's redemption" // not named: it is not this account's
	if prev.AccountID == account {
		which = "redemption " + prev.ID
	}
	switch prev.State {
	case RedemptionPaid:
		return fmt.Errorf("%w: invoice %s was already paid, by %s; an invoice can be paid only once",
			ledger.ErrAlreadyExists, hash, which)
	case RedemptionRejected, RedemptionRefunded:
		return fmt.Errorf("%w: invoice %s was already used by %s, which ended %s without paying it; an invoice can be redeemed only once: ask the payee for a new one",
			ledger.ErrAlreadyExists, hash, which, prev.State)
	default:
		return fmt.Errorf("%w: invoice %s is being paid by %s (state %s); follow that one instead of starting another",
			ledger.ErrAlreadyExists, hash, which, prev.State)
	}
}

// sameRedemption refuses a retry whose request differs from the one that
// created prev: an idempotency key names one request.
func (s *Service) sameRedemption(prev payrecord.Redemption, r RedeemRequest) error {
	same := prev.Asset == r.Asset && prev.Method == r.Method
	if same {
		switch r.Method {
		case payrecord.MethodLightning:
			same = prev.PaymentRequest == r.PaymentRequest && prev.FeeLimit == r.MaxFeeSat &&
				r.Address == "" && r.Amount == 0 && r.SatPerVbyte == 0
		case payrecord.MethodOnchain:
			addr := r.Address
			if a, err := btcutil.DecodeAddress(r.Address, s.cfg.Net); err == nil {
				addr = a.EncodeAddress()
			}
			same = prev.Address == addr && prev.Amount == r.Amount && prev.SatPerVbyte == r.SatPerVbyte &&
				r.PaymentRequest == "" && r.MaxFeeSat == 0
		}
	}
	if !same {
		return fmt.Errorf("%w: idempotency_key %q already started redemption %s with different parameters",
			ledger.ErrIdempotencyConflict, r.IdempotencyKey, prev.ID)
	}
	return nil
}

func validateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: idempotency_key is required: choose a unique value per redemption and reuse it only to retry it", ledger.ErrInvalidArgument)
	}
	if len(key) > ledger.MaxKeyLen {
		return fmt.Errorf("%w: idempotency_key is %d characters, at most %d allowed", ledger.ErrInvalidArgument, len(key), ledger.MaxKeyLen)
	}
	for _, c := range []byte(key) {
		if c < 0x21 || c > 0x7e {
			return fmt.Errorf("%w: idempotency_key must be printable ASCII without spaces", ledger.ErrInvalidArgument)
		}
	}
	return nil
}

// redeemWait bounds how long Redeem waits for a redemption to leave
// requested and burned.
const redeemWait = 10 * time.Second

// driveAndWait starts driving a redemption (in a goroutine owned by the
// service, so a client going away does not interrupt it) and waits until it
// leaves requested and burned, or redeemWait passes. It waits for the
// redemption's changes (see package changes), not polling the store: it
// reads the redemption again only when its state was written, its drive
// ended, or the service refused new work.
func (s *Service) driveAndWait(ctx context.Context, id string) (payrecord.Redemption, error) {
	s.changes.Watch(id)
	defer s.changes.Unwatch(id)
	s.drive(id)
	timer := time.NewTimer(redeemWait)
	defer timer.Stop()
	// A service that is not running (a follower's, among several koshd)
	// hears of no change: the leader drives the redemption, and this one
	// reads it again now and then.
	var poll <-chan time.Time
	if !s.running() {
		t := time.NewTicker(followerPoll)
		defer t.Stop()
		poll = t.C
	}
	late := false
	for {
		one, all := s.changes.Next(id) // before the read: no change after it is missed
		r, err := s.redemption(ctx, id)
		if err != nil {
			return r, err
		}
		switch {
		case r.State == RedemptionRejected:
			return r, rejection(r)
		case r.State != RedemptionRequested && r.State != RedemptionBurned, late:
			return r, nil
		}
		if err := s.alive(); err != nil {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-timer.C:
			late = true // read it once more, then answer with what it is
		case <-one:
		case <-all:
		case <-poll:
		}
	}
}

// rejection is the error a rejected redemption answers with: the ledger's
// refusal, recorded as its failure reason, said once ("insufficient funds:
// redemption … refused, nothing was taken: account … holds …"), and
// wrapping the same sentinel so that it maps to the same status.
func rejection(r payrecord.Redemption) error {
	for _, e := range []error{ledger.ErrInsufficientFunds, ledger.ErrInvalidArgument, ledger.ErrNotFound,
		ledger.ErrIdempotencyConflict, ledger.ErrOverflow, ledger.ErrAlreadyExists} {
		if rest, ok := strings.CutPrefix(r.Failure, e.Error()+": "); ok {
			return fmt.Errorf("%w: redemption %s refused, nothing was taken: %s", e, r.ID, rest)
		}
	}
	return fmt.Errorf("%w: redemption %s refused, nothing was taken: %s", ledger.ErrInsufficientFunds, r.ID, r.Failure)
}

// followerPoll is how often Redeem on a service that is not running reads
// the redemption the leader drives.
const followerPoll = 200 * time.Millisecond

// running reports whether the service's loops run (Start, not Stop).
func (s *Service) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx != nil && s.ctx.Err() == nil && !s.dead.Load()
}

// drive advances a redemption in the background unless that is already
// happening.
func (s *Service) drive(id string) {
	s.mu.Lock()
	if s.busy[id] || s.dead.Load() || s.ctx == nil || s.ctx.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.busy[id] = true
	s.wg.Add(1)
	ctx := s.ctx
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.busy, id)
			s.mu.Unlock()
			s.changes.Changed(id) // a waiter sees why it stopped (waiting, failed, service gone)
		}()
		switch err := s.advance(ctx, id); {
		case err == nil:
			s.repeats.Clear("redeem:"+id, "redemption proceeding again", "redemption", id)
		case !errors.Is(err, errCrashed) && ctx.Err() == nil:
			s.repeats.Log(slog.LevelWarn, "redeem:"+id, condition(err), "redemption not finished; retrying", "redemption", id, "err", err)
		}
	}()
}

// reconcileRedemptions drives every unfinished redemption: after a restart
// this is what finds the ones a crash left mid-way.
func (s *Service) reconcileRedemptions(ctx context.Context) {
	var rows []payrecord.Redemption
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		rows, err = tx.RedemptionsInStates(ctx, RedemptionRequested, RedemptionBurned, RedemptionInFlight, RedemptionFailed)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.repeats.Log(slog.LevelWarn, "list-redemptions", err.Error(), "list unfinished redemptions", "err", err)
		}
		return
	}
	for _, r := range rows {
		s.drive(r.ID)
	}
}

// advance runs a redemption's state machine as far as it can go now.
func (s *Service) advance(ctx context.Context, id string) error {
	for {
		if err := s.fault("redeem:step"); err != nil {
			return err
		}
		r, err := s.redemption(ctx, id)
		if err != nil {
			return err
		}
		before := r.State
		switch r.State {
		case RedemptionRequested:
			err = s.burn(ctx, r)
		case RedemptionBurned:
			if err := s.fault("redeem:before-send"); err != nil {
				return err
			}
			// Among several koshd, ctx is fenced by the leader's lease: an
			// empty write transaction checks the lease once more right
			// before paying, so a leader that lost it (paused, cut off)
			// does not send. The payment hash (or the transaction label)
			// that lnd is asked about first covers what remains of the
			// window (docs/deployment.md).
			if err := s.db.Write(ctx, func(payrecord.Tx) error { return nil }); err != nil {
				return fmt.Errorf("check the lease before paying redemption %s: %w", id, err)
			}
			err = s.send(ctx, r)
		case RedemptionInFlight:
			var res payout.Result
			if res, err = s.payer.Track(ctx, r); err == nil {
				err = s.record(ctx, r, res)
			}
		case RedemptionFailed:
			err = s.refund(ctx, r)
		default:
			return nil // paid, refunded, rejected: final
		}
		if err != nil {
			return err
		}
		after, err := s.redemption(ctx, id)
		if err != nil {
			return err
		}
		if after.State == before {
			return nil // waiting (confirmations, coverage for a refund)
		}
	}
}

// setState moves a redemption from its current state, updating the fields
// the new state fills.
func (s *Service) setState(ctx context.Context, r payrecord.Redemption, to string) error {
	from := r.State
	r.State, r.UpdatedAt = to, s.now()
	err := s.db.Write(ctx, func(tx payrecord.Tx) error { return tx.UpdateRedemption(ctx, r, from) })
	if err != nil {
		return err
	}
	s.changes.Changed(r.ID)
	s.log.Info("redemption "+to, "redemption", r.ID, "from", from, "txid", r.TxID, "fee_paid", r.FeePaid, "failure", r.Failure)
	switch to {
	case RedemptionPaid:
		s.paid.Add(1)
	case RedemptionRefunded:
		s.refunded.Add(1)
	}
	return nil
}

// burn takes amount + fee limit from the holder into the escrow account,
// keyed by the redemption id: a crash after the transfer commits and before
// the state says so is repaired by transferring again, which replays the
// same entry. (The state keeps the name "burned": from here on the units are
// no longer the holder's. The supply falls when the payout settles.)
func (s *Service) burn(ctx context.Context, r payrecord.Redemption) error {
	total, err := unitsOf(r)
	if err != nil {
		return err
	}
	escrow, err := s.EscrowAccount(ctx)
	if err != nil {
		return err
	}
	_, err = s.ledger.Transfer(ctx, ledger.Transfer{Scope: Scope, IdempotencyKey: redeemEntryKey(r.ID), Asset: r.Asset,
		From: r.AccountID, To: escrow, Amount: total, Memo: "redemption " + r.ID})
	if err != nil {
		if isRefusal(err) {
			r.Failure = err.Error()
			return s.setState(ctx, r, RedemptionRejected)
		}
		return err
	}
	if err := s.fault("redeem:after-burn"); err != nil {
		return err
	}
	return s.setState(ctx, r, RedemptionBurned)
}

// settle records a payout that lnd reports done: the escrowed units (amount
// + fee limit, the holder pays the fee limit in full) are burned, keyed by
// the redemption id, then the redemption is paid. A crash between the two
// is repaired by settling again: lnd still reports the payout done and the
// burn replays.
func (s *Service) settle(ctx context.Context, r payrecord.Redemption) error {
	if err := s.fault("redeem:after-settle"); err != nil {
		return err
	}
	total, err := unitsOf(r)
	if err != nil {
		return err
	}
	escrow, err := s.EscrowAccount(ctx)
	if err != nil {
		return err
	}
	if _, err := s.ledger.Burn(ctx, ledger.Transfer{Scope: Scope, IdempotencyKey: "burn:" + r.ID, Asset: r.Asset,
		From: escrow, Amount: total, Memo: "redemption " + r.ID + " paid"}); err != nil {
		return fmt.Errorf("burn the units of paid redemption %s: %w", r.ID, err)
	}
	if err := s.fault("redeem:after-final-burn"); err != nil {
		return err
	}
	return s.setState(ctx, r, RedemptionPaid)
}

// refund gives a failed payout's units (amount + fee limit) back to the
// holder from escrow, keyed by the redemption id. It is a transfer: no
// coverage gate can hold it up.
func (s *Service) refund(ctx context.Context, r payrecord.Redemption) error {
	total, err := unitsOf(r)
	if err != nil {
		return err
	}
	escrow, err := s.EscrowAccount(ctx)
	if err != nil {
		return err
	}
	_, err = s.ledger.Transfer(ctx, ledger.Transfer{Scope: Scope, IdempotencyKey: "refund:" + r.ID, Asset: r.Asset,
		From: escrow, To: r.AccountID, Amount: total, Memo: "refund of redemption " + r.ID})
	if err != nil {
		return fmt.Errorf("refund redemption %s: %w", r.ID, err)
	}
	if err := s.fault("redeem:after-refund"); err != nil {
		return err
	}
	return s.setState(ctx, r, RedemptionRefunded)
}

// send pays a burned redemption (package payout) and records what lnd
// says of the payout; a Lightning payment it leaves in flight is followed
// to its end.
func (s *Service) send(ctx context.Context, r payrecord.Redemption) error {
	res, following, err := s.payer.Send(ctx, r)
	if err != nil {
		return err
	}
	if res.Sent {
		if err := s.fault("redeem:after-send"); err != nil {
			return err
		}
	}
	if err := s.record(ctx, r, res); err != nil || following == nil {
		return err
	}
	r.State = RedemptionInFlight
	if res, err = following.End(); err != nil {
		return err
	}
	return s.record(ctx, r, res)
}

// record moves a redemption as what lnd says of its payout requires: paid
// settles it, failed fails it, a payout in flight moves a burned one to
// in_flight, and one lnd never initiated goes back to burned to be sent.
func (s *Service) record(ctx context.Context, r payrecord.Redemption, res payout.Result) error {
	if res.TxID != "" {
		r.TxID = res.TxID
	}
	switch res.Status {
	case payout.Paid:
		r.FeePaid = res.FeePaid
		if res.Preimage != "" {
			r.Preimage = res.Preimage
		}
		return s.settle(ctx, r)
	case payout.Failed:
		r.Failure = res.Failure
		return s.setState(ctx, r, RedemptionFailed)
	case payout.Unsent:
		r.Failure = ""
		r.State = RedemptionInFlight
		return s.setState(ctx, r, RedemptionBurned)
	}
	if r.State == RedemptionBurned {
		return s.setState(ctx, r, RedemptionInFlight)
	}
	return nil
}

func (s *Service) redemption(ctx context.Context, id string) (payrecord.Redemption, error) {
	var r payrecord.Redemption
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		r, err = tx.Redemption(ctx, id)
		return err
	})
	if errors.Is(err, payrecord.ErrNotFound) {
		return r, fmt.Errorf("%w: no redemption %s", ledger.ErrNotFound, id)
	}
	return r, err
}

func (s *Service) redemptionByKey(ctx context.Context, account, key string) (payrecord.Redemption, error) {
	var r payrecord.Redemption
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		r, err = tx.RedemptionByIdemKey(ctx, account, key)
		return err
	})
	if errors.Is(err, payrecord.ErrNotFound) {
		return r, fmt.Errorf("%w: no redemption with that idempotency key", ledger.ErrNotFound)
	}
	return r, err
}

// Redemption returns one of an account's redemptions.
func (s *Service) Redemption(ctx context.Context, account, id string) (payrecord.Redemption, error) {
	r, err := s.redemption(ctx, id)
	if err == nil && r.AccountID != account {
		return payrecord.Redemption{}, fmt.Errorf("%w: account %s has no redemption %s", ledger.ErrNotFound, account, id)
	}
	return r, err
}

// Redemptions lists an account's redemptions newest first.
func (s *Service) Redemptions(ctx context.Context, account string, before int64, limit int) (out []payrecord.Redemption, next int64, err error) {
	err = s.db.Read(ctx, func(tx payrecord.Tx) error {
		rows, err := tx.AccountRedemptions(ctx, account, before, limit+1)
		if err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			next = rows[limit-1].Seq
		}
		out = rows
		return nil
	})
	return out, next, err
}

// redeemEntryKey is the idempotency key, in Scope, of the ledger entry that
// takes a redemption's units from the holder (Redeemed.Escrow).
func redeemEntryKey(redemptionID string) string { return "redeem:" + redemptionID }

// unitsOf is what a redemption costs its holder in asset units.
func unitsOf(r payrecord.Redemption) (int64, error) {
	if r.Units > 0 {
		return r.Units, nil
	}
	return amount.Add(r.Amount, r.FeeLimit) // rows from before units were stored
}

// AttestedPrice is the price of one bitcoin, coefficient / 10^scale units
// of a currency, as the latest attestation signed it; Ref names it (the
// attestation's sequence and id) for the record.
type AttestedPrice struct {
	Coefficient *big.Int
	Scale       int
	Ref         string
}

// redemptionUnits converts sats into units of asset: one for one for a sat
// peg; for a fiat peg at the latest attested price, rounded down (against
// the issuer: the holder gives up at most what the sats are worth).
func (s *Service) redemptionUnits(ctx context.Context, asset ledger.Asset, sats int64) (int64, string, error) {
	if asset.Peg == ledger.PegSat {
		return sats, "", nil
	}
	if s.cfg.AttestedPrice == nil {
		return 0, "", fmt.Errorf("%w: asset %s is pegged to %s and no attested price is available to pay redemptions at",
			ErrUnavailable, asset.Code, asset.Currency)
	}
	p, err := s.cfg.AttestedPrice(ctx, asset.Currency)
	if err != nil {
		return 0, "", fmt.Errorf("%w: no attested %s price to pay a redemption of %s at: %v", ErrUnavailable, asset.Currency, asset.Code, err)
	}
	if p.Coefficient == nil || p.Coefficient.Sign() <= 0 || p.Scale < 0 || p.Scale > money.MaxScale {
		return 0, "", fmt.Errorf("%w: the attested %s price is not usable", ErrUnavailable, asset.Currency)
	}
	units, err := money.SatsToUnits(sats, money.Price{Coefficient: p.Coefficient, Scale: uint8(p.Scale)}, asset.Decimals, money.Floor)
	if errors.Is(err, money.ErrOverflow) {
		return 0, "", fmt.Errorf("%w: %d sats are worth more %s than an amount can hold", ledger.ErrOverflow, sats, asset.Code)
	}
	if err != nil {
		return 0, "", fmt.Errorf("%w: %d sats in %s: %v", ledger.ErrInvalidArgument, sats, asset.Code, err)
	}
	if units <= 0 {
		return 0, "", fmt.Errorf("%w: %d sats are worth less than one base unit of %s at the attested price; redeem more", ledger.ErrInvalidArgument, sats, asset.Code)
	}
	price := fmt.Sprintf("%s/10^%d %s per BTC, attestation %s", p.Coefficient, p.Scale, asset.Currency, p.Ref)
	return units, price, nil
}

// condition names what holds a redemption or deposit up, for repeatlog:
// lnd not answering is one condition whatever the transport says.
func condition(err error) string {
	if errors.Is(err, ErrUnavailable) {
		return "lnd unavailable"
	}
	return err.Error()
}

// checkDailyTx refuses amount if the account's last 24 hours of
// redemptions plus amount exceed the policy's daily limit. Redemptions count
// unless rejected or refunded (nothing left the account).
func (s *Service) checkDailyTx(ctx context.Context, tx payrecord.Tx, account, asset string, p Policy, amount int64) error {
	if p.Daily <= 0 {
		return nil
	}
	since := s.cfg.Now().Add(-24 * time.Hour).UnixMicro()
	sum, err := tx.RedemptionSumSince(ctx, account, asset, since, RedemptionRequested, RedemptionBurned,
		RedemptionInFlight, RedemptionPaid, RedemptionFailed)
	if err != nil {
		return err
	}
	return p.CheckDaily("redemptions", asset, sum, amount)
}
