package payments

import (
	"context"

	"github.com/kosh-reserve/kosh/payments/deposits"
	"github.com/kosh-reserve/kosh/payments/payrecord"
)

// Deposit is a deposit with its credited outputs (package deposits).
type Deposit = deposits.Deposit

// DepositRequest asks for an invoice or an address.
type DepositRequest = deposits.Request

// Deposit states.
const (
	DepositOpen     = deposits.Open
	DepositSettled  = deposits.Settled
	DepositCredited = deposits.Credited
	DepositExpired  = deposits.Expired
)

// Deposit output states.
const (
	OutputCredited = deposits.OutputCredited
	OutputReorged  = deposits.OutputReorged
)

// CreateDeposit returns a Lightning invoice or an on-chain address for the
// account.
func (s *Service) CreateDeposit(ctx context.Context, r DepositRequest) (Deposit, error) {
	return s.dep.CreateDeposit(ctx, r)
}

// Deposit returns one of an account's deposits.
func (s *Service) Deposit(ctx context.Context, account, id string) (Deposit, error) {
	return s.dep.Deposit(ctx, account, id)
}

// Deposits lists an account's deposits newest first (before: a seq from a
// previous page, 0 for the first). next is 0 on the last page.
func (s *Service) Deposits(ctx context.Context, account string, before int64, limit int) ([]Deposit, int64, error) {
	return s.dep.Deposits(ctx, account, before, limit)
}

// FlaggedOutputs lists credited on-chain outputs that were reorganised
// out, with their deposits.
func (s *Service) FlaggedOutputs(ctx context.Context) ([]payrecord.Output, []payrecord.Deposit, error) {
	return s.dep.FlaggedOutputs(ctx)
}
