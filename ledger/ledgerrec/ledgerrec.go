// Package ledgerrec declares what the ledger keeps on disk: its stored
// records (assets, accounts, balances, journal entries) and the Store and
// Tx interfaces package ledger runs its transactions through. store/ledgerdb
// implements them on SQLite and PostgreSQL; a test can implement them in
// memory. The package holds types only, so that both sides, and the
// ledger's own tests, can import it.
package ledgerrec

import (
	"context"
	"errors"
)

// Errors a Tx returns for the outcomes the ledger branches on; other
// failures are database errors.
var (
	// ErrNotFound means no row matched, or a write named an account or
	// asset that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write collides with a stored row: a used
	// idempotency key, an asset code or account id taken.
	ErrConflict = errors.New("conflict")
	// ErrNoChange means a guarded update matched no row: a guard such as
	// "balance >= amount" or "supply <= max - amount" did not hold, and
	// nothing changed.
	ErrNoChange = errors.New("condition not met")
)

// Asset is a stored asset.
type Asset struct {
	ID             int64
	Code           string
	Name           string
	Decimals       uint32
	Peg            int32
	MinCoverageBps int64
	Supply         int64
	CreatedAt      int64 // Unix microseconds
	// Currency is the ISO 4217 code of a fiat-pegged asset ("" for sats).
	Currency string
	// WarnCoverageBps raises a warning below it (0: none).
	WarnCoverageBps int64
	// Holders is how many accounts hold a positive balance of the asset,
	// as Credit and Debit keep it (0 on insert).
	Holders int64
}

// Account is a stored account.
type Account struct {
	Seq            int64
	ID             string
	Label          string
	IdempotencyKey string
	CreatedAt      int64 // Unix microseconds
	// IssuerHeld marks an account the issuer itself holds (the payments
	// escrow, ...): set when it is inserted, never changed.
	IssuerHeld bool
}

// Balance is one account's holding of one asset.
type Balance struct {
	AccountID string
	AssetID   int64
	AssetCode string
	Balance   int64
}

// Entry is a stored journal entry.
type Entry struct {
	Seq                int64
	Kind               int32
	AssetID            int64
	AssetCode          string
	DebitAccountID     string
	CreditAccountID    string
	Amount             int64
	Memo               string
	IdemScope          string
	IdemKey            string
	RequestHash        []byte
	DebitBalanceAfter  int64
	CreditBalanceAfter int64
	SupplyAfter        int64
	CreatedAt          int64 // Unix microseconds
	// ChainHash chains the entry to its predecessor (package ledger); nil
	// for an entry written before chain hashes and not sealed yet.
	ChainHash []byte
}

// Journal entry kinds as stored; the values match kosh.v1.EntryKind.
const (
	EntryMint     int32 = 1
	EntryBurn     int32 = 2
	EntryTransfer int32 = 3
)

// EntryFilter selects journal entries.
type EntryFilter struct {
	AssetID   int64  // 0: any asset
	AccountID string // "": any account
	AfterSeq  int64
	Limit     int
}

// SupplyTotals are an asset's supply and the two sums that must equal it,
// and its holders counted from the balances beside the count kept on the
// asset, which must equal it too.
type SupplyTotals struct {
	Supply        int64
	BalancesTotal int64
	JournalTotal  int64
	Holders       int64
	HoldersKept   int64
}

// Store runs the ledger's transactions.
type Store interface {
	// Read runs fn in a read-only transaction that sees one consistent
	// snapshot.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in a read-write transaction and commits it if fn
	// returns nil. It may run fn again after a transient failure, so fn
	// must have no effect outside the transaction.
	Write(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction's view of the ledger's records.
type Tx interface {
	// Savepoint runs fn inside a savepoint: if fn fails, the transaction
	// returns to its state before fn and stays usable, so independent
	// operations can share one commit.
	Savepoint(ctx context.Context, fn func() error) error

	// InsertAsset stores a new asset and returns it with its id; a taken
	// code is ErrConflict.
	InsertAsset(ctx context.Context, a Asset) (Asset, error)
	// AssetByCode loads an asset with its current supply (ErrNotFound).
	AssetByCode(ctx context.Context, code string) (Asset, error)
	// Assets lists every asset in id order.
	Assets(ctx context.Context) ([]Asset, error)
	// Supply reads an asset's current supply.
	Supply(ctx context.Context, assetID int64) (int64, error)
	// AddSupply adds delta to an asset's supply if the result stays within
	// [0, MaxInt64] (otherwise ErrNoChange) and returns the new supply.
	AddSupply(ctx context.Context, assetID, delta int64) (int64, error)
	// Totals computes an asset's supply totals within the snapshot.
	Totals(ctx context.Context, assetID int64) (SupplyTotals, error)

	// InsertAccount stores a new account; a taken id or idempotency key is
	// ErrConflict.
	InsertAccount(ctx context.Context, a Account) (Account, error)
	// Account loads an account by id (ErrNotFound).
	Account(ctx context.Context, id string) (Account, error)
	// AccountByIdempotencyKey loads the account created under key
	// (ErrNotFound).
	AccountByIdempotencyKey(ctx context.Context, key string) (Account, error)
	// CountAccounts returns how many of ids exist.
	CountAccounts(ctx context.Context, ids ...string) (int, error)
	// Accounts lists up to limit accounts with seq above afterSeq, in seq
	// order.
	Accounts(ctx context.Context, afterSeq int64, limit int) ([]Account, error)
	// IssuerAccounts lists every issuer-held account in id order.
	IssuerAccounts(ctx context.Context) ([]Account, error)

	// Balances lists an account's balances in asset order.
	Balances(ctx context.Context, accountID string) ([]Balance, error)
	// BalancesOfAccounts returns the balances of the accounts with
	// afterSeq < seq <= lastSeq, by account id, each in asset order.
	BalancesOfAccounts(ctx context.Context, afterSeq, lastSeq int64) (map[string][]Balance, error)
	// AssetBalances calls fn for every balance of an asset in account id
	// order.
	AssetBalances(ctx context.Context, assetID int64, fn func(accountID string, balance int64) error) error
	// Balance returns an account's balance of an asset (0 if it never held
	// it).
	Balance(ctx context.Context, accountID string, assetID int64) (int64, error)
	// Credit adds amount (> 0) to a balance and returns the new balance:
	// ErrNoChange past MaxInt64, ErrNotFound for an unknown account or
	// asset. A balance leaving zero raises the asset's holders by one.
	Credit(ctx context.Context, accountID string, assetID, amount int64) (int64, error)
	// Debit subtracts amount (> 0) from a balance and returns the new
	// balance: ErrNoChange if the balance is smaller. A balance reaching
	// zero lowers the asset's holders by one.
	Debit(ctx context.Context, accountID string, assetID, amount int64) (int64, error)

	// InsertEntry appends a journal entry and returns it with its seq: a
	// used (scope, key) is ErrConflict, an unknown account or asset
	// ErrNotFound.
	InsertEntry(ctx context.Context, e Entry) (Entry, error)
	// EntryByIdempotencyKey loads the entry written under (scope, key)
	// (ErrNotFound).
	EntryByIdempotencyKey(ctx context.Context, scope, key string) (Entry, error)
	// Entries lists the entries matching f in seq order.
	Entries(ctx context.Context, f EntryFilter) ([]Entry, error)
	// ScanJournal calls fn for every entry with afterSeq < seq <= upTo in
	// seq order, chain hashes included.
	ScanJournal(ctx context.Context, afterSeq, upTo int64, fn func(Entry) error) error
	// LockJournal takes, until the transaction ends, the lock that makes
	// the processes sharing the database append to the journal one
	// transaction at a time, so that each entry's chain hash names the
	// entry committed before it and seqs are committed in order. It
	// reports whether the database is shared (PostgreSQL): then another
	// process may have appended since this one last looked, and the head
	// must be read again under the lock. On SQLite, whose one writer
	// connection serialises every write, it does nothing.
	LockJournal(ctx context.Context) (shared bool, err error)
	// JournalHead returns the newest entry's seq and chain hash (0 and nil
	// for an empty journal).
	JournalHead(ctx context.Context) (seq int64, hash []byte, err error)
	// LastJournalSeq returns the highest journal seq (0 when empty).
	LastJournalSeq(ctx context.Context) (int64, error)
	// LastAccountSeq returns the seq of the last entry of asset assetID
	// that debited or credited accountID at or before atOrBefore (0 if
	// none).
	LastAccountSeq(ctx context.Context, assetID int64, accountID string, atOrBefore int64) (int64, error)
	// FirstUnsealed returns the seq of the oldest entry without a chain
	// hash (0 if none).
	FirstUnsealed(ctx context.Context) (int64, error)
	// SetChainHash seals one entry written before chain hashes.
	SetChainHash(ctx context.Context, seq int64, hash []byte) error
}

// IdemKey is an idempotency key in its scope, as the journal keys entries.
type IdemKey struct {
	Scope string
	Key   string
}

// BalanceKey names one account's holding of one asset.
type BalanceKey struct {
	AccountID string
	AssetID   int64
}

// BalanceState is what BatchTx.ReadRun found for a BalanceKey.
type BalanceState struct {
	// AccountExists says the account exists.
	AccountExists bool
	// HasRow says a balance row exists; Balance is its balance (0 if not).
	HasRow  bool
	Balance int64
}

// BalanceWrite sets one balance, compare-and-set: a row that had Old (or,
// with HadRow false, a row that did not exist) now holds New. A row
// another transaction holds locked is written once that one ends, and
// compared with what it left.
type BalanceWrite struct {
	BalanceKey
	HadRow   bool
	Old, New int64
}

// RunState is what BatchTx.ReadRun found.
type RunState struct {
	// Used holds the keys that already have a journal entry.
	Used map[IdemKey]bool
	// Balances holds the state of every balance asked for.
	Balances map[BalanceKey]BalanceState
	// Supply is each asset's supply, by id.
	Supply map[int64]int64
	// HeadSeq and Head are the journal's newest entry's seq and chain
	// hash (0 and nil for an empty journal), read only by a ReadRun that
	// took the journal's append lock.
	HeadSeq int64
	Head    []byte
}

// BatchTx is a Tx that can apply a run of plain transfers in a few
// statements instead of several per transfer (PostgreSQL, where each
// statement is a round trip). The ledger reads what the run needs, decides
// every transfer itself, and writes the outcome at once; a Tx that is not a
// BatchTx applies transfers one statement at a time.
type BatchTx interface {
	Tx
	// ReadRun reads what deciding a run of transfers needs, in one query:
	// which of keys already have a journal entry, the state of each of
	// balances (no row locked: WriteBatch checks what it overwrites), and
	// the supply of each of assets. With lock, it first takes the
	// journal's append lock (as LockJournal does, so the database must be
	// one that needs it) and then reads, the journal's head included, in a
	// snapshot taken once it holds the lock: what the transaction that
	// held the lock before committed is seen. Both go to the database at
	// once, so the read follows the lock without a round trip between.
	ReadRun(ctx context.Context, keys []IdemKey, balances []BalanceKey, assets []int64, lock bool) (RunState, error)
	// WriteBatch applies writes (each key once), moves each asset's holders
	// count by holders[assetID], and appends entries in order (each under a
	// distinct key), returning their seqs in that order, ascending. A
	// write whose row no longer holds Old (or exists when HadRow is false)
	// fails the whole call with an error, as does any refusal by the
	// database; the transaction must then be rolled back.
	WriteBatch(ctx context.Context, writes []BalanceWrite, holders map[int64]int64, entries []Entry) ([]int64, error)
}

// BatchStore is a Store that can say whether its write transactions are
// BatchTxs that may run two at once, one preparing while the other
// commits (package ledger's pipelined group commit).
type BatchStore interface {
	Store
	// Pipelined reports whether write transactions are BatchTxs that can
	// be pipelined.
	Pipelined() bool
}
