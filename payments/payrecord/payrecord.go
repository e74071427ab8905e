// Package payrecord is what the payments domain keeps: its records
// (deposits, their on-chain outputs, redemptions), the errors its storage
// reports, and the narrow storage interface payments and payments/deposits
// use, one transaction at a time. store/paymentdb implements it.
package payrecord

import (
	"context"
	"errors"
)

// Errors a Tx reports (wrapped).
var (
	// ErrNotFound means no record matched.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a record with the same id, payment hash, address or
	// idempotency key exists.
	ErrConflict = errors.New("conflict")
	// ErrNoChange means a conditional update found the record not in the state
	// it expected.
	ErrNoChange = errors.New("condition not met")
)

// Payment methods as stored; the values match kosh.v1.PaymentMethod.
const (
	MethodLightning int32 = 1
	MethodOnchain   int32 = 2
)

// Deposit is a stored deposit.
type Deposit struct {
	Seq            int64
	ID             string
	AccountID      string
	Asset          string
	Method         int32
	State          string
	Amount         int64
	Credited       int64
	Memo           string
	PaymentHash    string // "" for on-chain
	PaymentRequest string
	Address        string // "" for Lightning
	Descriptor     string
	Index          int64
	IdemKey        string
	ExpiresAt      int64 // unix microseconds, 0: none
	CreatedAt      int64
	UpdatedAt      int64
}

// Output is an on-chain output credited to a deposit.
type Output struct {
	TxID       string
	Vout       uint32
	DepositID  string
	Amount     int64
	Height     int64
	State      string
	CreditedAt int64
	FlaggedAt  int64
}

// Redemption is a stored redemption.
type Redemption struct {
	Seq            int64
	ID             string
	AccountID      string
	Asset          string
	Method         int32
	State          string
	Amount         int64
	FeeLimit       int64
	FeePaid        int64
	PaymentRequest string
	PaymentHash    string // "" for on-chain
	Preimage       string
	Address        string
	SatPerVbyte    int64
	TxID           string
	Failure        string
	IdemKey        string
	CreatedAt      int64
	UpdatedAt      int64
	// Units is what the payout costs the holder in the asset's base units
	// (0 in rows older than migration 0007: Amount + FeeLimit); Price
	// records the attested price a fiat-pegged redemption was converted at.
	Units int64
	Price string
}

// WatchedOutput is an output the chain watcher found paying a reserve
// descriptor, spent or not, in a block of the stored best chain.
type WatchedOutput struct {
	TxID      string
	Vout      uint32
	Value     int64
	Height    int64
	BlockHash string
}

// Block is a block of the chain watcher's best chain.
type Block struct {
	Height int64
	Hash   string
}

// Store runs functions in database transactions: Read in a read-only one,
// Write in one that commits if fn returns nil.
type Store interface {
	Read(ctx context.Context, fn func(Tx) error) error
	Write(ctx context.Context, fn func(Tx) error) error
}

// Tx is what payments reads and writes in one transaction.
type Tx interface {
	// InsertDeposit stores a new deposit and returns it with its sequence;
	// ErrConflict for a duplicate id, payment hash, address or
	// (account, idempotency key).
	InsertDeposit(ctx context.Context, d Deposit) (Deposit, error)
	// Deposit, DepositByIdemKey and DepositByPaymentHash return one
	// deposit, or ErrNotFound.
	Deposit(ctx context.Context, id string) (Deposit, error)
	DepositByIdemKey(ctx context.Context, accountID, key string) (Deposit, error)
	DepositByPaymentHash(ctx context.Context, hash string) (Deposit, error)
	// AccountDeposits lists an account's deposits newest first, with seq
	// below before (0: from the newest), at most limit.
	AccountDeposits(ctx context.Context, accountID string, before int64, limit int) ([]Deposit, error)
	// DepositsInState lists the deposits of a method in a state, oldest
	// first.
	DepositsInState(ctx context.Context, method int32, state string) ([]Deposit, error)
	// SetDepositState moves a deposit from one state to another and sets
	// its credited total; ErrNoChange if it is not in state from.
	SetDepositState(ctx context.Context, id, from, to string, credited, now int64) error
	// DepositSumSince sums the amounts of an account's deposits of an asset
	// created at or after since, in any of the states.
	DepositSumSince(ctx context.Context, accountID, asset string, since int64, states ...string) (int64, error)
	// DepositOutputs lists the outputs credited to a deposit.
	DepositOutputs(ctx context.Context, depositID string) ([]Output, error)
	// DepositOutputsInState lists credited outputs in a state.
	DepositOutputsInState(ctx context.Context, state string) ([]Output, error)
	// InsertDepositOutput records an output as credited; ErrConflict if it
	// already is.
	InsertDepositOutput(ctx context.Context, o Output) error
	// SetDepositOutputState sets a credited output's state and flag time.
	SetDepositOutputState(ctx context.Context, txid string, vout uint32, state string, flaggedAt int64) error
	// ChainTip is the chain watcher's best block, or ErrNotFound before
	// its first.
	ChainTip(ctx context.Context) (Block, error)
	// DescriptorNextIndex is the first derivation index of a descriptor
	// the chain watcher has not seen used.
	DescriptorNextIndex(ctx context.Context, desc string) (int64, error)
	// WatchedOutputsAt lists the chain watcher's outputs paying one
	// derivation index of a descriptor.
	WatchedOutputsAt(ctx context.Context, desc string, index int64) ([]WatchedOutput, error)
	// WatchedOutput returns a chain watcher output by outpoint, or
	// ErrNotFound.
	WatchedOutput(ctx context.Context, txid string, vout uint32) (WatchedOutput, error)
	// Cursor returns a named counter (0 if unset); SetCursor sets it.
	Cursor(ctx context.Context, name string) (int64, error)
	SetCursor(ctx context.Context, name string, v int64) error
	// InsertRedemption stores a new redemption and returns it with its
	// sequence; ErrConflict for a duplicate id, payment hash or
	// (account, idempotency key).
	InsertRedemption(ctx context.Context, r Redemption) (Redemption, error)
	// Redemption, RedemptionByIdemKey and RedemptionByPaymentHash return
	// one redemption, or ErrNotFound.
	Redemption(ctx context.Context, id string) (Redemption, error)
	RedemptionByIdemKey(ctx context.Context, accountID, key string) (Redemption, error)
	RedemptionByPaymentHash(ctx context.Context, hash string) (Redemption, error)
	// AccountRedemptions lists an account's redemptions newest first, with
	// seq below before (0: from the newest), at most limit.
	AccountRedemptions(ctx context.Context, accountID string, before int64, limit int) ([]Redemption, error)
	// RedemptionsInStates lists redemptions in any of the states, oldest
	// first.
	RedemptionsInStates(ctx context.Context, states ...string) ([]Redemption, error)
	// UpdateRedemption writes r's mutable fields if the stored redemption
	// is still in state from; ErrNoChange otherwise.
	UpdateRedemption(ctx context.Context, r Redemption, from string) error
	// RedemptionSumSince sums amount plus fee limit of an account's
	// redemptions of an asset created at or after since, in any of the
	// states.
	RedemptionSumSince(ctx context.Context, accountID, asset string, since int64, states ...string) (int64, error)
}
