package policy

import (
	"errors"
	"fmt"

	"github.com/kosh-reserve/kosh/ledger"
)

// ErrLimit means a policy limit (maximum amount, daily limit, unused
// deposit addresses) refuses the request; retrying the same request does
// not help until what the message names changes.
var ErrLimit = errors.New("limit reached")

// Policy bounds the amounts of one asset.
type Policy struct {
	// Min and Max bound one Lightning deposit and one redemption payout, in
	// sats (0: no bound; Min defaults to 1).
	Min, Max int64
	// Daily bounds, per account, the sum of deposits requested and the sum
	// of units burned by redemptions over the last 24 hours (0: none).
	Daily int64
}

// For returns the policy of asset: its own in per, def otherwise, with the
// minimum defaulted to 1.
func For(per map[string]Policy, def Policy, asset string) Policy {
	p, ok := per[asset]
	if !ok {
		p = def
	}
	if p.Min <= 0 {
		p.Min = 1
	}
	return p
}

// CheckAmount applies min and max to one request; what names it ("a
// deposit").
func (p Policy) CheckAmount(what string, amount int64) error {
	if amount < p.Min {
		return fmt.Errorf("%w: %s of %d sats is below the minimum of %d", ledger.ErrInvalidArgument, what, amount, p.Min)
	}
	if p.Max > 0 && amount > p.Max {
		return fmt.Errorf("%w: %s of %d sats is above the maximum of %d; ask for %d sats or less", ErrLimit, what, amount, p.Max, p.Max)
	}
	return nil
}

// CheckDaily refuses amount when the account's sum over the last 24 hours
// plus amount passes the daily limit (none if Daily is 0); what names the
// sum ("deposits", "redemptions") and asset its asset.
func (p Policy) CheckDaily(what, asset string, sum, amount int64) error {
	if p.Daily <= 0 {
		return nil
	}
	// sum + amount > Daily, without computing a sum that may overflow.
	if sum < 0 || amount < 0 || amount > p.Daily-sum {
		return fmt.Errorf("%w: %s of %s by this account in the last 24 hours total %d; %d more would pass the daily limit of %d: at most %d more fits now, and each amount stops counting 24 hours after its request",
			ErrLimit, what, asset, sum, amount, p.Daily, max(p.Daily-sum, 0))
	}
	return nil
}
