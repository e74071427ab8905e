package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments/deposits"
	"github.com/kosh-reserve/kosh/payments/internal/changes"
	"github.com/kosh-reserve/kosh/payments/internal/crash"
	"github.com/kosh-reserve/kosh/payments/internal/repeatlog"
	"github.com/kosh-reserve/kosh/payments/lndperm"
	"github.com/kosh-reserve/kosh/payments/payout"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/kosh-reserve/kosh/payments/policy"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// Scope is the ledger idempotency scope of every entry this package makes.
const Scope ledger.Scope = "payments"

// Sentinel errors callers branch on (besides the ledger's, which are passed
// through: ErrInvalidArgument, ErrNotFound, ErrInsufficientFunds, ...).
var (
	// ErrUnavailable: the payments lnd (or the service) cannot be used now;
	// retrying later may work. It is lndperm.ErrUnavailable.
	ErrUnavailable = lndperm.ErrUnavailable
	// ErrLimit: a policy limit (maximum amount, daily limit, unused
	// deposit addresses) refuses the request; retrying the same request
	// does not help until what the message names changes. It is
	// policy.ErrLimit.
	ErrLimit = policy.ErrLimit
	// ErrMisconfigured: the payments lnd refuses koshd's macaroon (it lacks
	// a permission, or is not this node's): nothing works until the issuer
	// fixes --payments.lnd and restarts koshd.
	// It is lndperm.ErrMisconfigured.
	ErrMisconfigured = lndperm.ErrMisconfigured
	// ErrNotConfigured: the feature asked for is not configured.
	// It is deposits.ErrNotConfigured.
	ErrNotConfigured = deposits.ErrNotConfigured
	// errCrashed is returned after a fault hook simulated a crash.
	errCrashed = crash.Err
)

// Ledger is what the payments service needs of the ledger.
type Ledger interface {
	Mint(ctx context.Context, r ledger.Transfer) (ledger.Entry, error)
	Burn(ctx context.Context, r ledger.Transfer) (ledger.Entry, error)
	Transfer(ctx context.Context, r ledger.Transfer) (ledger.Entry, error)
	// CreateIssuerAccount opens (or finds) the escrow, an account the
	// issuer holds: attestations publish its balances by name.
	CreateIssuerAccount(ctx context.Context, label, idemKey string) (ledger.Account, error)
	Asset(ctx context.Context, code string) (ledger.Asset, error)
	Account(ctx context.Context, id string) (ledger.Account, []ledger.Balance, error)
	EntryByKey(ctx context.Context, scope ledger.Scope, key string) (ledger.Entry, error)
}

// Policy bounds the amounts of one asset (see package policy).
type Policy = policy.Policy

// Config configures the service.
type Config struct {
	// Net is the bitcoin network of addresses and invoices.
	Net *chaincfg.Params
	// MinConf is how many confirmations an on-chain deposit needs.
	MinConf int64
	// DepositDesc derives on-chain deposit addresses (nil: none). It must be
	// watched by the chain watcher.
	DepositDesc *descriptor.Descriptor
	// DepositGap is how far beyond the chain watcher's last used index
	// addresses may be handed out (its gap limit).
	DepositGap int64
	// Policies per asset code; Default for the others.
	Policies map[string]Policy
	Default  Policy
	// PayTimeout bounds one Lightning payment attempt (default 60 s).
	PayTimeout time.Duration
	// InvoiceExpiry is the default deposit invoice lifetime (default 1 h).
	InvoiceExpiry time.Duration
	// OnchainVbytes is the size budget an on-chain payout's fee limit is
	// computed from: fee_limit = sat_per_vbyte * OnchainVbytes (default 250).
	OnchainVbytes int64
	// AttestedPrice returns the latest attested price of a currency, at
	// which redemptions of fiat-pegged assets are paid (nil: fiat-pegged
	// assets cannot be redeemed).
	AttestedPrice func(ctx context.Context, currency string) (AttestedPrice, error)
	// MaxSatPerVbyte caps the fee rate a holder may ask for (default 500).
	MaxSatPerVbyte int64
	// Poll is how often pending work is retried and the chain is checked
	// (default 1 s).
	Poll time.Duration
	// LogRepeat is how often a condition that holds work up (lnd down, a
	// credit waiting for the coverage gate) is logged again while it lasts;
	// it is logged when it starts and when it changes (default 5 min).
	LogRepeat time.Duration
	// Macaroon, if set, is the payments lnd macaroon: CheckLnd checks its
	// permissions against lnd's own permission map.
	Macaroon []byte
	// Fault, if set, is called at named crash points (docs/payments.md); a
	// non-nil result makes the service behave as if the process died there:
	// it stops at once without another write. For tests only.
	Fault func(point string) error
	Now   func() time.Time
	Log   *slog.Logger
}

// Stats are the service's counters.
type Stats struct {
	DepositsCredited    int64
	RedemptionsPaid     int64
	RedemptionsRefunded int64
	// ReorgedDeposits counts credited on-chain outputs found reorganised
	// out since start; FlaggedOutputs is how many are flagged now.
	ReorgedDeposits int64
	FlaggedOutputs  int64
	// ScanHeight is the chain height the last completed on-chain deposit
	// scan evaluated (0: none yet). Whoever checks that a deposit was NOT
	// credited at some height waits for this to reach it first.
	ScanHeight int64
}

// Service runs deposits and redemptions against one lnd.
type Service struct {
	db     payrecord.Store
	ledger Ledger
	ln     Lightning
	payer  *payout.Payer // pays and follows redemptions' payouts
	cfg    Config
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{}
	dead   atomic.Bool

	mu        sync.Mutex
	busy      map[string]bool // redemption ids being advanced
	changes   *changes.Set    // wakes Redeem's waiters
	escrow    string          // the escrow account's id, once known
	misconfig error           // set once lnd refused the macaroon (CheckLnd)

	// lndChecked is set once lnd answered CheckLnd (either way).
	lndChecked atomic.Bool
	repeats    *repeatlog.Log

	paid, refunded atomic.Int64

	// dep runs the deposits (package deposits).
	dep *deposits.Service
}

// New returns a service; Start runs it.
func New(db payrecord.Store, l Ledger, ln Lightning, router Router, cfg Config) *Service {
	if cfg.MinConf <= 0 {
		cfg.MinConf = 1
	}
	if cfg.DepositGap <= 0 {
		cfg.DepositGap = 100
	}
	if cfg.PayTimeout <= 0 {
		cfg.PayTimeout = 60 * time.Second
	}
	if cfg.InvoiceExpiry <= 0 {
		cfg.InvoiceExpiry = time.Hour
	}
	if cfg.OnchainVbytes <= 0 {
		cfg.OnchainVbytes = 250
	}
	if cfg.MaxSatPerVbyte <= 0 {
		cfg.MaxSatPerVbyte = 500
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.LogRepeat <= 0 {
		cfg.LogRepeat = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Service{db: db, ledger: l, ln: ln, cfg: cfg, log: cfg.Log,
		kick: make(chan struct{}, 1), busy: map[string]bool{}, changes: changes.New(), repeats: repeatlog.New(cfg.Log, cfg.LogRepeat, cfg.Now)}
	s.payer = payout.New(router, ln, payout.Config{Net: cfg.Net, PayTimeout: cfg.PayTimeout, OnchainVbytes: cfg.OnchainVbytes,
		MaxSatPerVbyte: cfg.MaxSatPerVbyte, LndFailed: s.lndFailed, Now: cfg.Now, Log: cfg.Log, Repeats: s.repeats})
	s.dep = deposits.New(deposits.Deps{DB: db, Ledger: l, LN: ln, Log: cfg.Log, Repeats: s.repeats, Scope: Scope,
		Alive: s.alive, Fault: s.fault, Dead: s.dead.Load, Wake: s.wake, LndFailed: s.lndFailed},
		deposits.Config{MinConf: cfg.MinConf, Desc: cfg.DepositDesc, Gap: cfg.DepositGap, Policies: cfg.Policies,
			Default: cfg.Default, InvoiceExpiry: cfg.InvoiceExpiry, Now: cfg.Now})
	return s
}

// Start reconciles every unfinished deposit and redemption against lnd and
// the chain, then keeps doing so until Stop or ctx ends. Every write the
// loops make uses ctx: among several koshd, only the leader runs them,
// with a context fenced by its lease (package leader). A service that is
// not running still takes deposits and redemption requests; the running
// one (the leader's) credits and pays them. Start may be called again
// after Stop.
func (s *Service) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx, s.cancel = context.WithCancel(ctx)
	ctx = s.ctx
	s.mu.Unlock()
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.dep.FollowInvoices(ctx) }()
	go func() { defer s.wg.Done(); s.workLoop() }()
}

// Stop stops every loop and waits for them.
func (s *Service) Stop() {
	// Cancel under mu: drive checks the context and adds to wg under mu,
	// so no redemption goroutine can start after this and outlive Stop.
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	d := s.dep.Stats()
	return Stats{DepositsCredited: d.Credited, RedemptionsPaid: s.paid.Load(),
		RedemptionsRefunded: s.refunded.Load(), ReorgedDeposits: d.Reorged, FlaggedOutputs: d.Flagged,
		ScanHeight: d.ScanHeight}
}

func (s *Service) now() int64 { return s.cfg.Now().UnixMicro() }

// fault runs the fault hook at a crash point; after a simulated crash the
// service does nothing more.
func (s *Service) fault(point string) error {
	if s.dead.Load() {
		return errCrashed
	}
	if s.cfg.Fault == nil {
		return nil
	}
	if err := s.cfg.Fault(point); err != nil {
		s.dead.Store(true)
		s.log.Warn("fault injected: payments stop as if the process died here", "point", point)
		if s.cancel != nil {
			s.cancel()
		}
		s.changes.WakeAll() // Redeem's waiters answer that the service stopped
		return fmt.Errorf("%w at %s: %w", errCrashed, point, err)
	}
	return nil
}

// alive refuses new work when the service stopped, or when lnd refused
// its macaroon.
func (s *Service) alive() error {
	if s.dead.Load() {
		return fmt.Errorf("%w: the payments service stopped", ErrUnavailable)
	}
	return s.misconfigured()
}

// wake asks the work loop to run now.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// workLoop retries everything unfinished: credits refused by the coverage
// gate, on-chain deposits reaching their confirmations, reorged credits,
// redemptions left mid-way by a crash, refunds.
func (s *Service) workLoop() {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if s.dead.Load() {
			return
		}
		if !s.lndChecked.Load() {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := s.CheckLnd(ctx)
			cancel()
			switch {
			case err == nil:
				s.repeats.Clear("lnd", "payments lnd reachable; its macaroon is accepted")
			case errors.Is(err, ErrUnavailable) && ctx.Err() == nil:
				s.repeats.Log(slog.LevelWarn, "lnd", "unreachable",
					"payments lnd not reachable; deposits and redemptions that need it wait", "err", err)
			}
		}
		// With a macaroon lnd refuses, only what needs no lnd goes on:
		// crediting on-chain deposits and settled invoices.
		usable := s.misconfigured() == nil
		s.dep.Work(ctx, usable)
		if usable {
			s.reconcileRedemptions(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// policy returns an asset's policy.
func (s *Service) policy(asset string) Policy {
	return policy.For(s.cfg.Policies, s.cfg.Default, asset)
}

// Escrow account: units a redemption takes from the holder wait here until
// the payout settles (then they are burned) or definitively fails (then they
// go back). Moving them is a transfer, which no coverage gate can refuse, so
// a refund never waits for the reserves, and the supply falls only when the
// bitcoin has actually left. It is an issuer-held account
// (ledger.CreateIssuerAccount): no holder checks it, so every attestation
// publishes its balance under escrowLabel, and redemptions in flight are
// in the liabilities for anyone to see. The key is in the ledger's
// reserved namespace (ledger.IssuerKeyPrefix), so no one opening an
// account through the RPC can take it; migration 0015 marks an escrow
// opened before the flag existed by this key and label.
const (
	escrowLabel = "kosh payments escrow (redemptions in progress)"
	escrowKey   = "kosh-payments-escrow"
)

// EscrowAccount returns the id of the account that holds the units of
// redemptions in progress, creating it on first use.
func (s *Service) EscrowAccount(ctx context.Context) (string, error) {
	s.mu.Lock()
	id := s.escrow
	s.mu.Unlock()
	if id != "" {
		return id, nil
	}
	a, err := s.ledger.CreateIssuerAccount(ctx, escrowLabel, escrowKey)
	if err != nil {
		return "", fmt.Errorf("payments escrow account: %w", err)
	}
	s.mu.Lock()
	s.escrow = a.ID
	s.mu.Unlock()
	return a.ID, nil
}

// isRefusal reports whether a ledger error is a per-request refusal rather
// than a failure to retry.
func isRefusal(err error) bool {
	for _, e := range []error{ledger.ErrInvalidArgument, ledger.ErrNotFound, ledger.ErrIdempotencyConflict,
		ledger.ErrInsufficientFunds, ledger.ErrOverflow, ledger.ErrMintRefused, ledger.ErrAlreadyExists} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
