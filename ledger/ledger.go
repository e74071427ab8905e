package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kosh-reserve/kosh/ledger/journalchain"
	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// Peg says what one base unit of an asset is worth.
type Peg int32

// The supported pegs; values match kosh.v1.Peg.
const (
	// PegSat: one base unit is backed by one satoshi of reserves.
	PegSat Peg = 1
	// PegFiat: one base unit is one 10^-decimals of a fiat currency (e.g.
	// paise of INR), valued against the reserves at the oracle's price.
	PegFiat Peg = 2
)

// Kind is the kind of a journal entry; values match kosh.v1.EntryKind.
type Kind int32

// Journal entry kinds.
const (
	KindMint     = Kind(ledgerrec.EntryMint)
	KindBurn     = Kind(ledgerrec.EntryBurn)
	KindTransfer = Kind(ledgerrec.EntryTransfer)
)

// Asset is a token the issuer defines.
type Asset struct {
	ID             int64
	Code           string
	Name           string
	Decimals       uint32
	Peg            Peg
	MinCoverageBps int64
	Supply         int64
	CreatedAt      time.Time
	// Currency is the ISO 4217 code of a fiat-pegged asset; "" for sats.
	Currency string
	// WarnCoverageBps, if set, is a coverage above the minimum below which
	// a warning is raised (metric, page banner); minting stays allowed.
	WarnCoverageBps int64
	// Holders is how many accounts hold a positive balance, as the store
	// keeps it with every balance change: reading it costs one row, however
	// long the journal. Supply recounts it from the balances.
	Holders int64
}

// Account is a holder account.
type Account struct {
	ID        string
	Label     string
	CreatedAt time.Time
	// IssuerHeld marks an account the issuer itself holds
	// (CreateIssuerAccount): it has no holder, and attestations publish it.
	IssuerHeld bool
	// Balances are the account's holdings, by asset, where the call that
	// returned the account says it fills them (Accounts does).
	Balances []Balance
}

// Balance is an account's holding of one asset.
type Balance struct {
	Asset  string
	Amount int64
}

// Entry is one committed journal entry.
type Entry struct {
	Seq             int64
	Kind            Kind
	Asset           string
	DebitAccountID  string
	CreditAccountID string
	Amount          int64
	Memo            string
	// Scope is the namespace of IdempotencyKey: the issuer's, an
	// account's (a wallet's own requests) or a subsystem's (payments).
	Scope              Scope
	IdempotencyKey     string
	DebitBalanceAfter  int64
	CreditBalanceAfter int64
	SupplyAfter        int64
	CreatedAt          time.Time
	// Replayed is true when the entry was committed by an earlier request
	// with the same idempotency key and is returned again.
	Replayed bool
}

// CoverageGate decides whether the reserves can back the supply after a
// mint. It is called inside the mint's transaction, after the supply has
// been raised, and must not block on I/O. The reserve monitor implements it;
// a refusal is returned to the caller wrapped in ErrMintRefused.
type CoverageGate interface {
	AllowMint(ctx context.Context, check MintCheck) error
}

// MintCheck is what a CoverageGate decides on.
type MintCheck struct {
	// Asset is the asset being minted.
	Asset Asset
	// SupplyAfter is its supply if the mint commits.
	SupplyAfter int64
	// Outstanding lists every asset (the minted one with SupplyAfter), since
	// they share the reserves.
	Outstanding []AssetSupply
}

// AssetSupply is one asset's outstanding supply and coverage policy.
type AssetSupply struct {
	Code           string
	Peg            Peg
	Supply         int64
	MinCoverageBps int64
	// Currency and Decimals value a fiat-pegged asset's supply.
	Currency string
	Decimals uint32
}

// SupplyOf is the asset's outstanding supply with what values it.
func (a Asset) SupplyOf() AssetSupply {
	return AssetSupply{Code: a.Code, Peg: a.Peg, Supply: a.Supply, MinCoverageBps: a.MinCoverageBps,
		Currency: a.Currency, Decimals: a.Decimals}
}

// Supplies is SupplyOf of every asset.
func Supplies(assets []Asset) []AssetSupply {
	out := make([]AssetSupply, len(assets))
	for i, a := range assets {
		out[i] = a.SupplyOf()
	}
	return out
}

// Scope names who an idempotency key belongs to, so that two callers can
// never collide on (or probe) each other's keys.
type Scope string

// IssuerScope is the scope of keys sent by issuer operators.
const IssuerScope Scope = "issuer"

// AccountScope is the scope of keys sent by a wallet acting for an account.
func AccountScope(accountID string) Scope { return Scope("account:" + accountID) }

// Config tunes a Ledger.
type Config struct {
	// MaxBatch bounds how many operations share one commit (default 512).
	MaxBatch int
	// SingleWriter says this ledger is the only writer of its database:
	// then, on a store that can (PostgreSQL), the next batch decides and
	// writes while the one before it commits (pipeline.go), which needs
	// the journal's chain head in memory. With several koshd on one
	// database it must be false: each batch takes the journal's append
	// lock and reads the head afresh (docs/deployment.md).
	SingleWriter bool
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Log is the ledger's logger.
	Log *slog.Logger
}

// Ledger is the token ledger. Create it with New, call Start, and Stop it
// before closing the store.
type Ledger struct {
	db   ledgerrec.Store
	gate CoverageGate
	cfg  Config

	jobs chan *job
	quit chan struct{}
	wg   sync.WaitGroup

	mu     sync.RWMutex
	assets map[string]Asset // immutable fields only: Supply and Holders are not kept current

	// head is the journal's newest chain hash (journalchain.go), owned by
	// the committer once started; headLoaded says it was read.
	head       []byte
	headLoaded bool
}

// New returns a ledger over db whose mints pass through gate.
func New(db ledgerrec.Store, gate CoverageGate, cfg Config) *Ledger {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Ledger{
		db: db, gate: gate, cfg: cfg,
		jobs:   make(chan *job, cfg.MaxBatch),
		quit:   make(chan struct{}),
		assets: make(map[string]Asset),
	}
}

// Start runs the group committer until Stop.
func (l *Ledger) Start() {
	l.wg.Add(1)
	go l.committer()
}

// Stop finishes the operations already queued and stops the committer.
func (l *Ledger) Stop() {
	close(l.quit)
	l.wg.Wait()
}

func (l *Ledger) now() int64 { return l.cfg.Now().UnixMicro() }

// CreateAsset defines an asset. Repeating it with an identical definition
// returns the existing asset.
func (l *Ledger) CreateAsset(ctx context.Context, a Asset) (Asset, error) {
	if err := ValidateAssetCode(a.Code); err != nil {
		return Asset{}, err
	}
	if a.Name == "" {
		return Asset{}, invalid("asset name is required")
	}
	if err := ValidateText("asset name", a.Name, MaxNameLen); err != nil {
		return Asset{}, err
	}
	if a.Decimals > MaxDecimals {
		return Asset{}, invalid("decimals must be 0 to %d, got %d", MaxDecimals, a.Decimals)
	}
	switch a.Peg {
	case PegSat:
		if a.Currency != "" {
			return Asset{}, invalid("a sat-pegged asset has no currency; use peg PEG_FIAT for currency %q", a.Currency)
		}
		if a.MinCoverageBps == 0 {
			a.MinCoverageBps = DefaultSatBps
		}
	case PegFiat:
		if !currencyRE.MatchString(a.Currency) {
			return Asset{}, invalid("a fiat-pegged asset needs an ISO 4217 currency code of 3 capital letters (e.g. INR), got %q", truncate(a.Currency))
		}
		if a.Decimals > MaxFiatDecimals {
			return Asset{}, invalid("decimals of a fiat-pegged asset must be 0 to %d, got %d", MaxFiatDecimals, a.Decimals)
		}
		if a.MinCoverageBps == 0 {
			a.MinCoverageBps = DefaultFiatBps
		}
	default:
		return Asset{}, invalid("peg must be PEG_SAT (1 unit = 1 sat of reserves) or PEG_FIAT (units of a currency valued at the oracle price)")
	}
	if a.MinCoverageBps < BasisPoints || a.MinCoverageBps > MaxCoverage {
		return Asset{}, invalid("min_coverage_bps must be %d (1.00x) to %d (100x), got %d",
			BasisPoints, MaxCoverage, a.MinCoverageBps)
	}
	if a.WarnCoverageBps != 0 && (a.WarnCoverageBps < a.MinCoverageBps || a.WarnCoverageBps > MaxCoverage) {
		return Asset{}, invalid("warn_coverage_bps must be 0 (no warning) or from min_coverage_bps (%d) to %d, got %d",
			a.MinCoverageBps, MaxCoverage, a.WarnCoverageBps)
	}
	row := ledgerrec.Asset{Code: a.Code, Name: a.Name, Decimals: a.Decimals, Peg: int32(a.Peg),
		MinCoverageBps: a.MinCoverageBps, CreatedAt: l.now(), Currency: a.Currency, WarnCoverageBps: a.WarnCoverageBps}
	err := l.db.Write(ctx, func(tx ledgerrec.Tx) error {
		existing, err := tx.AssetByCode(ctx, a.Code)
		switch {
		case err == nil:
			if existing.Name != row.Name || existing.Decimals != row.Decimals || existing.Peg != row.Peg ||
				existing.MinCoverageBps != row.MinCoverageBps || existing.Currency != row.Currency ||
				existing.WarnCoverageBps != row.WarnCoverageBps {
				return fmt.Errorf("%w: asset %s is already defined differently (name %q, decimals %d, min coverage %d bps)",
					ErrAlreadyExists, a.Code, existing.Name, existing.Decimals, existing.MinCoverageBps)
			}
			row = existing
			return nil
		case errors.Is(err, ledgerrec.ErrNotFound):
			row, err = tx.InsertAsset(ctx, row)
			return err
		default:
			return err
		}
	})
	if err != nil {
		return Asset{}, err
	}
	return assetFromRow(row), nil
}

func assetFromRow(r ledgerrec.Asset) Asset {
	return Asset{ID: r.ID, Code: r.Code, Name: r.Name, Decimals: r.Decimals, Peg: Peg(r.Peg),
		MinCoverageBps: r.MinCoverageBps, Supply: r.Supply, CreatedAt: time.UnixMicro(r.CreatedAt).UTC(),
		Currency: r.Currency, WarnCoverageBps: r.WarnCoverageBps, Holders: r.Holders}
}

// Asset returns an asset with its current supply.
func (l *Ledger) Asset(ctx context.Context, code string) (Asset, error) {
	if err := ValidateAssetCode(code); err != nil {
		return Asset{}, err
	}
	var row ledgerrec.Asset
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		var err error
		row, err = tx.AssetByCode(ctx, code)
		return err
	})
	if errors.Is(err, ledgerrec.ErrNotFound) {
		return Asset{}, fmt.Errorf("%w: no asset with code %s (list them with ListAssets)", ErrNotFound, code)
	}
	if err != nil {
		return Asset{}, err
	}
	return assetFromRow(row), nil
}

// Assets lists every asset with its current supply.
func (l *Ledger) Assets(ctx context.Context) ([]Asset, error) {
	var rows []ledgerrec.Asset
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		var err error
		rows, err = tx.Assets(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Asset, len(rows))
	for i, r := range rows {
		out[i] = assetFromRow(r)
	}
	return out, nil
}

// cachedAsset returns an asset's immutable definition, loading it within tx
// on a cache miss. Assets are never deleted or redefined, so the cache never
// goes stale (Supply and Holders are not cached).
func (l *Ledger) cachedAsset(ctx context.Context, tx ledgerrec.Tx, code string) (Asset, error) {
	l.mu.RLock()
	a, ok := l.assets[code]
	l.mu.RUnlock()
	if ok {
		return a, nil
	}
	row, err := tx.AssetByCode(ctx, code)
	if errors.Is(err, ledgerrec.ErrNotFound) {
		return Asset{}, fmt.Errorf("%w: no asset with code %s", ErrNotFound, code)
	}
	if err != nil {
		return Asset{}, err
	}
	a = assetFromRow(row)
	a.Supply, a.Holders = 0, 0
	l.mu.Lock()
	l.assets[code] = a
	l.mu.Unlock()
	return a, nil
}

// IssuerKeyPrefix begins the idempotency key of every account the issuer
// itself holds (CreateIssuerAccount): the namespace is koshd's, so
// CreateAccount refuses keys that begin with it, and nobody opening a
// holder's account can take or reach an issuer-held account's key.
const IssuerKeyPrefix = "kosh-"

// CreateAccount opens a holder's account. With a non-empty idempotency key,
// a retry returns the account the first call created. Keys beginning with
// IssuerKeyPrefix are reserved for issuer-held accounts and refused.
func (l *Ledger) CreateAccount(ctx context.Context, label, idemKey string) (Account, error) {
	if strings.HasPrefix(idemKey, IssuerKeyPrefix) {
		return Account{}, invalid("idempotency_key %q begins with %q, which is reserved for the accounts koshd holds itself; choose another key",
			truncate(idemKey), IssuerKeyPrefix)
	}
	return l.createAccount(ctx, label, idemKey, false)
}

// CreateIssuerAccount opens an account the issuer itself holds, such as the
// payments escrow, or returns the one opened under the same key. Such an
// account has no holder to check it, so every attestation publishes its
// balances by name with their inclusion proofs (docs/proofs.md 4.15): the
// label is that name and must not be empty, and idemKey, which must begin
// with IssuerKeyPrefix, is the account's permanent identity in koshd.
func (l *Ledger) CreateIssuerAccount(ctx context.Context, label, idemKey string) (Account, error) {
	if label == "" {
		return Account{}, invalid("an issuer-held account needs a label: attestations publish it as the account's name")
	}
	if !strings.HasPrefix(idemKey, IssuerKeyPrefix) {
		return Account{}, invalid("the idempotency_key of an issuer-held account must begin with %q, not %q", IssuerKeyPrefix, truncate(idemKey))
	}
	return l.createAccount(ctx, label, idemKey, true)
}

func (l *Ledger) createAccount(ctx context.Context, label, idemKey string, issuerHeld bool) (Account, error) {
	if err := ValidateText("label", label, MaxLabelLen); err != nil {
		return Account{}, err
	}
	if idemKey != "" {
		if err := validateKey(idemKey); err != nil {
			return Account{}, err
		}
	}
	row := ledgerrec.Account{ID: uuid.NewString(), Label: label, IdempotencyKey: idemKey, CreatedAt: l.now(), IssuerHeld: issuerHeld}
	err := l.db.Write(ctx, func(tx ledgerrec.Tx) error {
		if idemKey != "" {
			existing, err := tx.AccountByIdempotencyKey(ctx, idemKey)
			if err == nil {
				if existing.Label != label {
					return fmt.Errorf("%w: idempotency_key %q already created account %s with a different label",
						ErrIdempotencyConflict, idemKey, existing.ID)
				}
				if existing.IssuerHeld != issuerHeld {
					kind := "a holder's account, not an issuer-held one"
					if existing.IssuerHeld {
						kind = "an issuer-held account, not a holder's"
					}
					return fmt.Errorf("%w: idempotency_key %q already created account %s, %s",
						ErrIdempotencyConflict, idemKey, existing.ID, kind)
				}
				row = existing
				return nil
			}
			if !errors.Is(err, ledgerrec.ErrNotFound) {
				return err
			}
		}
		var err error
		row, err = tx.InsertAccount(ctx, row)
		return err
	})
	if err != nil {
		return Account{}, err
	}
	return accountFromRow(row), nil
}

func accountFromRow(r ledgerrec.Account) Account {
	return Account{ID: r.ID, Label: r.Label, CreatedAt: time.UnixMicro(r.CreatedAt).UTC(), IssuerHeld: r.IssuerHeld}
}

// Account returns an account and its balances.
func (l *Ledger) Account(ctx context.Context, id string) (Account, []Balance, error) {
	if err := ValidateAccountID("account_id", id); err != nil {
		return Account{}, nil, err
	}
	var (
		row  ledgerrec.Account
		bals []ledgerrec.Balance
	)
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		var err error
		if row, err = tx.Account(ctx, id); err != nil {
			return err
		}
		bals, err = tx.Balances(ctx, id)
		return err
	})
	if errors.Is(err, ledgerrec.ErrNotFound) {
		return Account{}, nil, fmt.Errorf("%w: no account %s", ErrNotFound, id)
	}
	if err != nil {
		return Account{}, nil, err
	}
	out := make([]Balance, len(bals))
	for i, b := range bals {
		out[i] = Balance{Asset: b.AssetCode, Amount: b.Balance}
	}
	return accountFromRow(row), out, nil
}

// Accounts pages through accounts in creation order: up to limit accounts
// after the cursor (0 for the first page). It returns the cursor of the next
// page, or 0 on the last.
func (l *Ledger) Accounts(ctx context.Context, after int64, limit int) ([]Account, int64, error) {
	var (
		rows []ledgerrec.Account
		bals map[string][]ledgerrec.Balance
		more bool
	)
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		var err error
		if rows, err = tx.Accounts(ctx, after, limit+1); err != nil || len(rows) == 0 {
			return err
		}
		if more = len(rows) > limit; more {
			rows = rows[:limit]
		}
		bals, err = tx.BalancesOfAccounts(ctx, after, rows[len(rows)-1].Seq)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if more {
		next = rows[limit-1].Seq
	}
	out := make([]Account, len(rows))
	for i, r := range rows {
		out[i] = accountFromRow(r)
		for _, b := range bals[r.ID] {
			out[i].Balances = append(out[i].Balances, Balance{Asset: b.AssetCode, Amount: b.Balance})
		}
	}
	return out, next, nil
}

// Transfer is a request to move, mint or burn units. For a mint only To is
// set; for a burn only From.
type Transfer struct {
	Scope          Scope
	IdempotencyKey string
	Asset          string
	From           string
	To             string
	Amount         int64
	Memo           string
}

// requestHash fingerprints a request so that a reused idempotency key can be
// told apart from a retry.
func (r Transfer) requestHash(kind Kind) []byte {
	h := sha256.New()
	var buf [8]byte
	binary.BigEndian.PutUint32(buf[:4], uint32(kind))
	h.Write(buf[:4])
	for _, s := range []string{r.Asset, r.From, r.To, r.Memo} {
		binary.BigEndian.PutUint32(buf[:4], uint32(len(s)))
		h.Write(buf[:4])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(buf[:], uint64(r.Amount))
	h.Write(buf[:])
	return h.Sum(nil)
}

func (r Transfer) validate(kind Kind) error {
	if err := validateKey(r.IdempotencyKey); err != nil {
		return err
	}
	if err := ValidateAssetCode(r.Asset); err != nil {
		return err
	}
	if kind != KindMint {
		field := "from_account_id"
		if kind == KindBurn {
			field = "account_id"
		}
		if err := ValidateAccountID(field, r.From); err != nil {
			return err
		}
	}
	if kind != KindBurn {
		field := "to_account_id"
		if kind == KindMint {
			field = "account_id"
		}
		if err := ValidateAccountID(field, r.To); err != nil {
			return err
		}
	}
	if kind == KindTransfer && r.From == r.To {
		return invalid("to_account_id must differ from the sending account")
	}
	if err := validateAmount(r.Amount); err != nil {
		return err
	}
	return ValidateText("memo", r.Memo, MaxMemoLen)
}

// Mint credits new units to r.To, if the coverage gate allows the supply
// after the mint.
func (l *Ledger) Mint(ctx context.Context, r Transfer) (Entry, error) {
	r.From = ""
	return l.submit(ctx, KindMint, r)
}

// Burn debits units from r.From and reduces supply.
func (l *Ledger) Burn(ctx context.Context, r Transfer) (Entry, error) {
	r.To = ""
	return l.submit(ctx, KindBurn, r)
}

// Transfer moves units from r.From to r.To.
func (l *Ledger) Transfer(ctx context.Context, r Transfer) (Entry, error) {
	return l.submit(ctx, KindTransfer, r)
}

func (l *Ledger) submit(ctx context.Context, kind Kind, r Transfer) (Entry, error) {
	if err := r.validate(kind); err != nil {
		return Entry{}, err
	}
	if r.Scope == "" {
		return Entry{}, errors.New("ledger: request has no idempotency scope")
	}
	j := &job{ctx: ctx, kind: kind, req: r, hash: r.requestHash(kind), done: make(chan struct{})}
	select {
	case l.jobs <- j:
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	case <-l.quit:
		return Entry{}, errors.New("ledger is shutting down")
	}
	// Once queued, the job is committed or refused even if ctx ends; wait
	// for the outcome so a caller never sees "unknown" for a durable entry.
	<-j.done
	return j.entry, j.err
}

// errFastPathMissed is what applyFast returns when its operation did not go
// through as the plain case; its savepoint is rolled back and apply decides
// the outcome.
var errFastPathMissed = errors.New("ledger: operation needs the checked path")

// applyJob performs one operation inside tx, each attempt in its own
// savepoint. The common case, a new request between existing accounts that
// can pay, takes applyFast: only the statements that write, with the
// database's constraints standing in for the checks. Anything else (a
// replay, a reused key, an unknown asset or account, a guard that did not
// hold, a gate refusal) is rolled back and done again by apply, which checks
// each condition in order, so callers see exactly the result and message
// apply alone gives.
func (l *Ledger) applyJob(ctx context.Context, tx ledgerrec.Tx, j *job) (Entry, error) {
	j.newHead = nil
	var e Entry
	err := tx.Savepoint(ctx, func() error {
		var err error
		e, err = l.applyFast(ctx, tx, j)
		return err
	})
	// Only the bare sentinel: joined with a failed rollback it is a
	// database failure that fails the batch.
	if err != errFastPathMissed {
		return e, err
	}
	j.newHead = nil
	err = tx.Savepoint(ctx, func() error {
		var err error
		e, err = l.apply(ctx, tx, j)
		return err
	})
	return e, err
}

// applyFast performs the operation without the checks apply makes first; it
// can commit only when apply would commit the same entry:
//   - the journal's UNIQUE (idem_scope, idem_key) refuses a used key, so a
//     committed entry is a new request (apply would not replay it);
//   - a debit matches only an existing balance row, which the balances
//     foreign key ties to an existing account (accounts are never deleted);
//     a credit either finds such a row or inserts one the foreign key
//     checks, so both accounts exist (apply's CountAccounts);
//   - the supply, debit and credit guards are the statements apply runs;
//   - a mint still passes the coverage gate, with the same MintCheck.
//
// Every other outcome is errFastPathMissed, or a database error.
func (l *Ledger) applyFast(ctx context.Context, tx ledgerrec.Tx, j *job) (Entry, error) {
	r := j.req
	asset, err := l.cachedAsset(ctx, tx, r.Asset)
	if err != nil {
		return fastMiss(err)
	}
	row := ledgerrec.Entry{Kind: int32(j.kind), AssetID: asset.ID, AssetCode: asset.Code,
		DebitAccountID: r.From, CreditAccountID: r.To, Amount: r.Amount, Memo: r.Memo,
		IdemScope: string(r.Scope), IdemKey: r.IdempotencyKey, RequestHash: j.hash, CreatedAt: l.now()}
	switch j.kind {
	case KindMint:
		if l.gate == nil {
			return Entry{}, errFastPathMissed
		}
		row.SupplyAfter, err = tx.AddSupply(ctx, asset.ID, r.Amount)
	case KindBurn:
		row.SupplyAfter, err = tx.AddSupply(ctx, asset.ID, -r.Amount)
	case KindTransfer:
		row.SupplyAfter, err = tx.Supply(ctx, asset.ID)
	}
	if err != nil {
		return fastMiss(err)
	}
	if r.From != "" {
		if row.DebitBalanceAfter, err = tx.Debit(ctx, r.From, asset.ID, r.Amount); err != nil {
			return fastMiss(err)
		}
	}
	if r.To != "" {
		if row.CreditBalanceAfter, err = tx.Credit(ctx, r.To, asset.ID, r.Amount); err != nil {
			return fastMiss(err)
		}
	}
	row.ChainHash = journalchain.Hash(j.head, &row)
	if row, err = tx.InsertEntry(ctx, row); err != nil {
		return fastMiss(err)
	}
	if j.kind == KindMint {
		if err := l.allowMint(ctx, tx, asset, row.SupplyAfter); errors.Is(err, ErrMintRefused) {
			return Entry{}, errFastPathMissed
		} else if err != nil {
			return Entry{}, err
		}
	}
	j.newHead = row.ChainHash
	return entryFromRow(row), nil
}

// allowMint asks the coverage gate whether minting may take asset's supply
// to supplyAfter, given every asset's outstanding supply in tx. A refusal
// wraps ErrMintRefused; a database failure does not.
func (l *Ledger) allowMint(ctx context.Context, tx ledgerrec.Tx, asset Asset, supplyAfter int64) error {
	if l.gate == nil {
		return fmt.Errorf("%w: no coverage gate is configured", ErrMintRefused)
	}
	all, err := tx.Assets(ctx)
	if err != nil {
		return err
	}
	check := MintCheck{Asset: asset, SupplyAfter: supplyAfter}
	for _, a := range all {
		check.Outstanding = append(check.Outstanding, AssetSupply{Code: a.Code, Peg: Peg(a.Peg),
			Supply: a.Supply, MinCoverageBps: a.MinCoverageBps, Currency: a.Currency, Decimals: a.Decimals})
	}
	if err := l.gate.AllowMint(ctx, check); err != nil {
		return fmt.Errorf("%w: %w", ErrMintRefused, err)
	}
	return nil
}

// fastMiss turns the failures applyFast expects (a guard that did not hold,
// a used key, a missing row) into errFastPathMissed and passes database
// failures through.
func fastMiss(err error) (Entry, error) {
	for _, s := range []error{ledgerrec.ErrNoChange, ledgerrec.ErrConflict, ledgerrec.ErrNotFound, ErrNotFound} {
		if errors.Is(err, s) {
			return Entry{}, errFastPathMissed
		}
	}
	return Entry{}, err
}

// apply performs one operation inside tx (within its own savepoint),
// checking each condition in turn.
func (l *Ledger) apply(ctx context.Context, tx ledgerrec.Tx, j *job) (Entry, error) {
	r := j.req
	prev, err := tx.EntryByIdempotencyKey(ctx, string(r.Scope), r.IdempotencyKey)
	switch {
	case err == nil:
		if Kind(prev.Kind) != j.kind || string(prev.RequestHash) != string(j.hash) {
			return Entry{}, fmt.Errorf("%w: idempotency_key %q was already used for a different request (entry %d); use a new key for a new operation",
				ErrIdempotencyConflict, r.IdempotencyKey, prev.Seq)
		}
		e := entryFromRow(prev)
		e.Replayed = true
		return e, nil
	case !errors.Is(err, ledgerrec.ErrNotFound):
		return Entry{}, err
	}

	asset, err := l.cachedAsset(ctx, tx, r.Asset)
	if err != nil {
		return Entry{}, err
	}
	var ids []string
	if r.From != "" {
		ids = append(ids, r.From)
	}
	if r.To != "" {
		ids = append(ids, r.To)
	}
	n, err := tx.CountAccounts(ctx, ids...)
	if err != nil {
		return Entry{}, err
	}
	if n != len(ids) {
		return Entry{}, l.missingAccount(ctx, tx, ids)
	}

	row := ledgerrec.Entry{Kind: int32(j.kind), AssetID: asset.ID, AssetCode: asset.Code,
		DebitAccountID: r.From, CreditAccountID: r.To, Amount: r.Amount, Memo: r.Memo,
		IdemScope: string(r.Scope), IdemKey: r.IdempotencyKey, RequestHash: j.hash, CreatedAt: l.now()}

	switch j.kind {
	case KindMint:
		row.SupplyAfter, err = tx.AddSupply(ctx, asset.ID, r.Amount)
		if errors.Is(err, ledgerrec.ErrNoChange) {
			return Entry{}, fmt.Errorf("%w: minting %d would take the supply of %s past the int64 range", ErrOverflow, r.Amount, asset.Code)
		}
		if err != nil {
			return Entry{}, err
		}
		if err := l.allowMint(ctx, tx, asset, row.SupplyAfter); err != nil {
			return Entry{}, err
		}
	case KindBurn:
		row.SupplyAfter, err = tx.AddSupply(ctx, asset.ID, -r.Amount)
		if errors.Is(err, ledgerrec.ErrNoChange) {
			return Entry{}, fmt.Errorf("%w: burning %d exceeds the supply of %s", ErrInsufficientFunds, r.Amount, asset.Code)
		}
		if err != nil {
			return Entry{}, err
		}
	case KindTransfer:
		row.SupplyAfter, err = tx.Supply(ctx, asset.ID)
		if err != nil {
			return Entry{}, err
		}
	}
	if r.From != "" {
		row.DebitBalanceAfter, err = tx.Debit(ctx, r.From, asset.ID, r.Amount)
		if errors.Is(err, ledgerrec.ErrNoChange) {
			bal, berr := tx.Balance(ctx, r.From, asset.ID)
			if berr != nil {
				return Entry{}, berr
			}
			return Entry{}, fmt.Errorf("%w: account %s holds %d %s, cannot debit %d",
				ErrInsufficientFunds, r.From, bal, asset.Code, r.Amount)
		}
		if err != nil {
			return Entry{}, err
		}
	}
	if r.To != "" {
		row.CreditBalanceAfter, err = tx.Credit(ctx, r.To, asset.ID, r.Amount)
		if errors.Is(err, ledgerrec.ErrNoChange) {
			return Entry{}, fmt.Errorf("%w: crediting %d would take the balance of account %s past the int64 range",
				ErrOverflow, r.Amount, r.To)
		}
		if err != nil {
			return Entry{}, err
		}
	}
	row.ChainHash = journalchain.Hash(j.head, &row)
	row, err = tx.InsertEntry(ctx, row)
	if err != nil {
		return Entry{}, err
	}
	j.newHead = row.ChainHash
	return entryFromRow(row), nil
}

func (l *Ledger) missingAccount(ctx context.Context, tx ledgerrec.Tx, ids []string) error {
	for _, id := range ids {
		if _, err := tx.Account(ctx, id); errors.Is(err, ledgerrec.ErrNotFound) {
			return fmt.Errorf("%w: no account %s", ErrNotFound, id)
		} else if err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: account missing", ErrNotFound)
}

func entryFromRow(r ledgerrec.Entry) Entry {
	return Entry{Seq: r.Seq, Kind: Kind(r.Kind), Asset: r.AssetCode, DebitAccountID: r.DebitAccountID,
		CreditAccountID: r.CreditAccountID, Amount: r.Amount, Memo: r.Memo, Scope: Scope(r.IdemScope), IdempotencyKey: r.IdemKey,
		DebitBalanceAfter: r.DebitBalanceAfter, CreditBalanceAfter: r.CreditBalanceAfter,
		SupplyAfter: r.SupplyAfter, CreatedAt: time.UnixMicro(r.CreatedAt).UTC()}
}

// JournalFilter selects journal entries.
type JournalFilter struct {
	Asset     string // "": every asset
	AccountID string // "": every account
	AfterSeq  int64
	Limit     int
}

// LastEntrySeq returns the seq of the last journal entry of asset that
// changed account's balance at or before atOrBefore, 0 if there is none.
// Absence statements name it (docs/proofs.md 5.1).
func (l *Ledger) LastEntrySeq(ctx context.Context, asset, account string, atOrBefore int64) (int64, error) {
	if err := ValidateAccountID("account_id", account); err != nil {
		return 0, err
	}
	if err := ValidateAssetCode(asset); err != nil {
		return 0, err
	}
	var seq int64
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		a, err := l.cachedAsset(ctx, tx, asset)
		if err != nil {
			return err
		}
		seq, err = tx.LastAccountSeq(ctx, a.ID, account, atOrBefore)
		return err
	})
	return seq, err
}

// Journal lists entries matching f in ascending seq order.
func (l *Ledger) Journal(ctx context.Context, f JournalFilter) ([]Entry, error) {
	if f.AccountID != "" {
		if err := ValidateAccountID("account_id", f.AccountID); err != nil {
			return nil, err
		}
	}
	if f.AfterSeq < 0 {
		return nil, invalid("after_seq must not be negative")
	}
	var rows []ledgerrec.Entry
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		sf := ledgerrec.EntryFilter{AccountID: f.AccountID, AfterSeq: f.AfterSeq, Limit: f.Limit}
		if f.Asset != "" {
			if err := ValidateAssetCode(f.Asset); err != nil {
				return err
			}
			a, err := l.cachedAsset(ctx, tx, f.Asset)
			if err != nil {
				return err
			}
			sf.AssetID = a.ID
		}
		var err error
		rows, err = tx.Entries(ctx, sf)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = entryFromRow(r)
	}
	return out, nil
}

// SupplyReport is an asset's supply and the two sums that must equal it,
// and its holders counted from the balances beside the count the store
// keeps (Asset.Holders), which must equal it too.
type SupplyReport struct {
	Asset         string
	Supply        int64
	BalancesTotal int64
	JournalTotal  int64
	Holders       int64
	HoldersKept   int64
}

// Consistent reports whether the invariants hold: supply equals the sum of
// the balances and the sum of the journal, and the kept holders count
// equals the counted one.
func (s SupplyReport) Consistent() bool {
	return s.Supply == s.BalancesTotal && s.Supply == s.JournalTotal && s.Holders == s.HoldersKept
}

// Supply computes an asset's supply report from one consistent snapshot. It
// reads every balance and every mint and burn of the asset: it is the
// issuer's audit, not a figure for a public page (Asset carries the supply
// and holders at the cost of one row).
func (l *Ledger) Supply(ctx context.Context, code string) (SupplyReport, error) {
	if err := ValidateAssetCode(code); err != nil {
		return SupplyReport{}, err
	}
	var rep SupplyReport
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		a, err := l.cachedAsset(ctx, tx, code)
		if err != nil {
			return err
		}
		t, err := tx.Totals(ctx, a.ID)
		if err != nil {
			return err
		}
		rep = SupplyReport{Asset: code, Supply: t.Supply, BalancesTotal: t.BalancesTotal,
			JournalTotal: t.JournalTotal, Holders: t.Holders, HoldersKept: t.HoldersKept}
		return nil
	})
	return rep, err
}

// EntryByKey returns the journal entry written under an idempotency key in
// scope, or an error wrapping ErrNotFound.
func (l *Ledger) EntryByKey(ctx context.Context, scope Scope, key string) (Entry, error) {
	var e Entry
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		row, err := tx.EntryByIdempotencyKey(ctx, string(scope), key)
		if errors.Is(err, ledgerrec.ErrNotFound) {
			return fmt.Errorf("%w: no journal entry under key %q", ErrNotFound, key)
		}
		if err != nil {
			return err
		}
		e = entryFromRow(row)
		return nil
	})
	return e, err
}
