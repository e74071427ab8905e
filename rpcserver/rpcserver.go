// Package rpcserver implements the kosh.v1 gRPC services. Handlers only
// translate: they check the shape of a request, call the ledger, and map its
// errors to gRPC status codes (in one place, toStatus). Rules live in the
// ledger; permissions live in package perms and are enforced by package
// auth's interceptors before a handler runs.
package rpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/auth"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/perms"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/receipts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Paging limits.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// Server implements IssuerService and WalletService over a ledger.
type Server struct {
	koshv1.UnimplementedIssuerServiceServer
	ledger   *ledger.Ledger
	macs     *auth.Service
	reserves Reserves
	log      *slog.Logger
	payments Payments  // nil: deposits and redemptions are not configured
	prices   PriceBook // nil: no price oracle (rpcserver/prices.go)
	// attestations and receiptSigner: see Config.
	attestations  Attestations
	anchors       Anchors
	receiptSigner *receipts.Signer
	status        StatusSource
}

// Config is what a Server serves from. Ledger is required; each optional
// service left nil makes its RPCs fail with a status that says it is not
// enabled.
type Config struct {
	Ledger    *ledger.Ledger
	Macaroons *auth.Service
	Reserves  Reserves
	// Payments enables the deposit and redemption RPCs.
	Payments Payments
	// Prices enables GetPrices and SetManualPrice; without it GetPrices
	// lists nothing and SetManualPrice fails with FailedPrecondition.
	Prices PriceBook
	// Attestations enables Attest and the attestation reads; without it
	// they fail with Unavailable.
	Attestations Attestations
	// Anchors enables Anchor and ListAnchors; without it Anchor fails
	// with FailedPrecondition and ListAnchors lists nothing.
	Anchors Anchors
	// IssuerKey signs balance receipts; without it responses carry none.
	IssuerKey *btcec.PrivateKey
	// Status answers GetStatus; without it GetStatus fails with
	// Unavailable.
	Status StatusSource
	Log    *slog.Logger
}

// New returns a server.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{ledger: cfg.Ledger, macs: cfg.Macaroons, reserves: cfg.Reserves, log: cfg.Log,
		payments: cfg.Payments, prices: cfg.Prices, attestations: cfg.Attestations, anchors: cfg.Anchors, status: cfg.Status}
	if cfg.IssuerKey != nil {
		s.receiptSigner = receipts.New(sig.NewSigner(cfg.IssuerKey))
	}
	return s
}

// Wallet returns the WalletService implementation sharing this server's
// ledger.
func (s *Server) Wallet() koshv1.WalletServiceServer { return &walletServer{s: s} }

// toStatus maps a ledger error to a gRPC status whose message a person can
// act on. Errors that are not refusals are internal: they are logged and the
// caller gets a generic message.
func (s *Server) toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ledger.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ledger.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ledger.ErrAlreadyExists), errors.Is(err, ledger.ErrIdempotencyConflict):
		code = codes.AlreadyExists
	case errors.Is(err, ledger.ErrInsufficientFunds), errors.Is(err, ledger.ErrMintRefused):
		code = codes.FailedPrecondition
	case errors.Is(err, ledger.ErrOverflow):
		code = codes.OutOfRange
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	if code == codes.Internal {
		s.log.Error("internal error", "err", err)
		return status.Error(codes.Internal, "internal error; see koshd's log")
	}
	return status.Error(code, err.Error())
}

func pageSize(n uint32) (int, error) {
	switch {
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return 0, status.Errorf(codes.InvalidArgument, "page size %d is above the maximum of %d", n, maxPageSize)
	}
	return int(n), nil
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

func assetToProto(a ledger.Asset) *koshv1.Asset {
	return &koshv1.Asset{Code: a.Code, Name: a.Name, Decimals: a.Decimals, Peg: koshv1.Peg(a.Peg),
		MinCoverageBps: a.MinCoverageBps, Supply: a.Supply, CreatedAt: ts(a.CreatedAt),
		Currency: a.Currency, WarnCoverageBps: a.WarnCoverageBps}
}

func accountToProto(a ledger.Account, bals []ledger.Balance) *koshv1.Account {
	return &koshv1.Account{Id: a.ID, Label: a.Label, CreatedAt: ts(a.CreatedAt), Balances: balancesToProto(bals)}
}

func balancesToProto(bals []ledger.Balance) []*koshv1.Balance {
	out := make([]*koshv1.Balance, len(bals))
	for i, b := range bals {
		out[i] = &koshv1.Balance{Asset: b.Asset, Amount: b.Amount}
	}
	return out
}

func entryToProto(e ledger.Entry) *koshv1.JournalEntry {
	return &koshv1.JournalEntry{Seq: e.Seq, Kind: koshv1.EntryKind(e.Kind), Asset: e.Asset,
		DebitAccountId: e.DebitAccountID, CreditAccountId: e.CreditAccountID, Amount: e.Amount, Memo: e.Memo,
		IdempotencyKey: e.IdempotencyKey, CreatedAt: ts(e.CreatedAt), DebitBalanceAfter: e.DebitBalanceAfter,
		CreditBalanceAfter: e.CreditBalanceAfter, SupplyAfter: e.SupplyAfter}
}

// walletEntryToProto is an entry as the holder of account sees it: their
// own side only. The other side's balance after the entry, the asset's
// supply after it and an idempotency key that is not the holder's own are
// left out: one unit sent to an account must not reveal its balance, and
// the issuer's or another wallet's keys are theirs.
func walletEntryToProto(e ledger.Entry, account string) *koshv1.JournalEntry {
	p := entryToProto(e)
	p.SupplyAfter = 0
	if e.DebitAccountID != account {
		p.DebitBalanceAfter = 0
	}
	if e.CreditAccountID != account {
		p.CreditBalanceAfter = 0
	}
	if e.Scope != ledger.AccountScope(account) {
		p.IdempotencyKey = ""
	}
	return p
}

// entriesToProto converts a page of entries with conv and returns the
// next page's after_seq.
func entriesToProto(es []ledger.Entry, conv func(ledger.Entry) *koshv1.JournalEntry) ([]*koshv1.JournalEntry, int64) {
	out := make([]*koshv1.JournalEntry, len(es))
	for i, e := range es {
		out[i] = conv(e)
	}
	var next int64
	if len(es) > 0 {
		next = es[len(es)-1].Seq
	}
	return out, next
}

// CreateAsset implements IssuerService.
func (s *Server) CreateAsset(ctx context.Context, req *koshv1.CreateAssetRequest) (*koshv1.CreateAssetResponse, error) {
	a, err := s.ledger.CreateAsset(ctx, ledger.Asset{Code: req.Code, Name: req.Name, Decimals: req.Decimals,
		Peg: ledger.Peg(req.Peg), MinCoverageBps: req.MinCoverageBps, Currency: req.Currency,
		WarnCoverageBps: req.WarnCoverageBps})
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.CreateAssetResponse{Asset: assetToProto(a)}, nil
}

// ListAssets implements IssuerService.
func (s *Server) ListAssets(ctx context.Context, _ *koshv1.ListAssetsRequest) (*koshv1.ListAssetsResponse, error) {
	as, err := s.ledger.Assets(ctx)
	if err != nil {
		return nil, s.toStatus(err)
	}
	resp := &koshv1.ListAssetsResponse{}
	for _, a := range as {
		resp.Assets = append(resp.Assets, assetToProto(a))
	}
	return resp, nil
}

// GetAsset implements IssuerService.
func (s *Server) GetAsset(ctx context.Context, req *koshv1.GetAssetRequest) (*koshv1.GetAssetResponse, error) {
	a, err := s.ledger.Asset(ctx, req.Code)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.GetAssetResponse{Asset: assetToProto(a)}, nil
}

// CreateAccount implements IssuerService.
func (s *Server) CreateAccount(ctx context.Context, req *koshv1.CreateAccountRequest) (*koshv1.CreateAccountResponse, error) {
	a, err := s.ledger.CreateAccount(ctx, req.Label, req.IdempotencyKey)
	if err != nil {
		return nil, s.toStatus(err)
	}
	mac, err := s.macs.BakeHex(perms.Wallet, a.ID, time.Time{})
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.CreateAccountResponse{Account: accountToProto(a, nil), WalletMacaroon: mac}, nil
}

// ListAccounts implements IssuerService.
func (s *Server) ListAccounts(ctx context.Context, req *koshv1.ListAccountsRequest) (*koshv1.ListAccountsResponse, error) {
	n, err := pageSize(req.PageSize)
	if err != nil {
		return nil, err
	}
	var after int64
	if req.PageToken != "" {
		after, err = strconv.ParseInt(req.PageToken, 10, 64)
		if err != nil || after < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "page_token %q is not a token from a previous ListAccounts response", req.PageToken)
		}
	}
	as, next, err := s.ledger.Accounts(ctx, after, n)
	if err != nil {
		return nil, s.toStatus(err)
	}
	resp := &koshv1.ListAccountsResponse{}
	for _, a := range as {
		resp.Accounts = append(resp.Accounts, accountToProto(a, a.Balances))
	}
	if next != 0 {
		resp.NextPageToken = strconv.FormatInt(next, 10)
	}
	return resp, nil
}

// GetAccount implements IssuerService.
func (s *Server) GetAccount(ctx context.Context, req *koshv1.GetAccountRequest) (*koshv1.GetAccountResponse, error) {
	a, bals, err := s.ledger.Account(ctx, req.AccountId)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.GetAccountResponse{Account: accountToProto(a, bals)}, nil
}

// BakeWalletMacaroon implements IssuerService.
func (s *Server) BakeWalletMacaroon(ctx context.Context, req *koshv1.BakeWalletMacaroonRequest) (*koshv1.BakeWalletMacaroonResponse, error) {
	a, _, err := s.ledger.Account(ctx, req.AccountId)
	if err != nil {
		return nil, s.toStatus(err)
	}
	if a.IssuerHeld {
		// No holder: the issuer moves its units with its own RPCs, and
		// attestations publish the account (docs/proofs.md 4.15).
		return nil, s.toStatus(fmt.Errorf("%w: account %s (%s) is held by the issuer itself, not by a holder, so it gets no wallet macaroon",
			ledger.ErrInvalidArgument, a.ID, a.Label))
	}
	mac, err := s.macs.BakeHex(perms.Wallet, req.AccountId, time.Time{})
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.BakeWalletMacaroonResponse{WalletMacaroon: mac}, nil
}

// Mint implements IssuerService.
func (s *Server) Mint(ctx context.Context, req *koshv1.MintRequest) (*koshv1.MintResponse, error) {
	e, err := s.ledger.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: req.IdempotencyKey,
		Asset: req.Asset, To: req.AccountId, Amount: req.Amount, Memo: req.Memo})
	if err != nil {
		return nil, s.toStatus(err)
	}
	rs, err := s.receipts(e, e.CreditAccountID)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.MintResponse{Entry: entryToProto(e), Receipts: rs}, nil
}

// Burn implements IssuerService.
func (s *Server) Burn(ctx context.Context, req *koshv1.BurnRequest) (*koshv1.BurnResponse, error) {
	e, err := s.ledger.Burn(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: req.IdempotencyKey,
		Asset: req.Asset, From: req.AccountId, Amount: req.Amount, Memo: req.Memo})
	if err != nil {
		return nil, s.toStatus(err)
	}
	rs, err := s.receipts(e, e.DebitAccountID)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.BurnResponse{Entry: entryToProto(e), Receipts: rs}, nil
}

// Transfer implements IssuerService.
func (s *Server) Transfer(ctx context.Context, req *koshv1.TransferRequest) (*koshv1.TransferResponse, error) {
	e, err := s.ledger.Transfer(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: req.IdempotencyKey,
		Asset: req.Asset, From: req.FromAccountId, To: req.ToAccountId, Amount: req.Amount, Memo: req.Memo})
	if err != nil {
		return nil, s.toStatus(err)
	}
	rs, err := s.receipts(e, e.DebitAccountID, e.CreditAccountID)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.TransferResponse{Entry: entryToProto(e), Receipts: rs}, nil
}

// GetSupply implements IssuerService.
func (s *Server) GetSupply(ctx context.Context, req *koshv1.GetSupplyRequest) (*koshv1.GetSupplyResponse, error) {
	rep, err := s.ledger.Supply(ctx, req.Asset)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.GetSupplyResponse{Asset: rep.Asset, Supply: rep.Supply, BalancesTotal: rep.BalancesTotal,
		JournalTotal: rep.JournalTotal, Holders: rep.Holders, Consistent: rep.Consistent()}, nil
}

// ListJournal implements IssuerService.
func (s *Server) ListJournal(ctx context.Context, req *koshv1.ListJournalRequest) (*koshv1.ListJournalResponse, error) {
	n, err := pageSize(req.Limit)
	if err != nil {
		return nil, err
	}
	es, err := s.ledger.Journal(ctx, ledger.JournalFilter{Asset: req.Asset, AccountID: req.AccountId,
		AfterSeq: req.AfterSeq, Limit: n})
	if err != nil {
		return nil, s.toStatus(err)
	}
	entries, next := entriesToProto(es, entryToProto)
	if len(es) < n {
		next = 0
	}
	return &koshv1.ListJournalResponse{Entries: entries, NextAfterSeq: next}, nil
}

// walletServer implements WalletService: every call is checked against the
// account its macaroon is caveated to.
type walletServer struct {
	koshv1.UnimplementedWalletServiceServer
	s *Server
}

func (w *walletServer) account(ctx context.Context, id string) error {
	if err := ledger.ValidateAccountID("account_id", id); err != nil {
		return w.s.toStatus(err)
	}
	return auth.RequireAccount(ctx, id)
}

// GetBalance implements WalletService.
func (w *walletServer) GetBalance(ctx context.Context, req *koshv1.GetBalanceRequest) (*koshv1.GetBalanceResponse, error) {
	if err := w.account(ctx, req.AccountId); err != nil {
		return nil, err
	}
	_, bals, err := w.s.ledger.Account(ctx, req.AccountId)
	if err != nil {
		return nil, w.s.toStatus(err)
	}
	return &koshv1.GetBalanceResponse{AccountId: req.AccountId, Balances: balancesToProto(bals)}, nil
}

// ListHistory implements WalletService.
func (w *walletServer) ListHistory(ctx context.Context, req *koshv1.ListHistoryRequest) (*koshv1.ListHistoryResponse, error) {
	if err := w.account(ctx, req.AccountId); err != nil {
		return nil, err
	}
	n, err := pageSize(req.Limit)
	if err != nil {
		return nil, err
	}
	es, err := w.s.ledger.Journal(ctx, ledger.JournalFilter{Asset: req.Asset, AccountID: req.AccountId,
		AfterSeq: req.AfterSeq, Limit: n})
	if err != nil {
		return nil, w.s.toStatus(err)
	}
	entries, next := entriesToProto(es, func(e ledger.Entry) *koshv1.JournalEntry {
		return walletEntryToProto(e, req.AccountId)
	})
	if len(es) < n {
		next = 0
	}
	out := &koshv1.ListHistoryResponse{Entries: entries, NextAfterSeq: next}
	items := make([]receipts.Of, len(es))
	for i, e := range es {
		items[i] = receipts.Of{Entry: e, Account: req.AccountId}
	}
	if out.Receipts, err = w.s.signReceipts(items); err != nil {
		return nil, w.s.toStatus(err)
	}
	return out, nil
}

// Transfer implements WalletService.
func (w *walletServer) Transfer(ctx context.Context, req *koshv1.WalletServiceTransferRequest) (*koshv1.WalletServiceTransferResponse, error) {
	if err := w.account(ctx, req.AccountId); err != nil {
		return nil, err
	}
	e, err := w.s.ledger.Transfer(ctx, ledger.Transfer{Scope: ledger.AccountScope(req.AccountId),
		IdempotencyKey: req.IdempotencyKey, Asset: req.Asset, From: req.AccountId, To: req.ToAccountId,
		Amount: req.Amount, Memo: req.Memo})
	if err != nil {
		return nil, w.s.toStatus(err)
	}
	// The sender's receipt only: the recipient's balance is not the
	// sender's to see.
	rs, err := w.s.receipts(e, req.AccountId)
	if err != nil {
		return nil, w.s.toStatus(err)
	}
	return &koshv1.WalletServiceTransferResponse{Entry: walletEntryToProto(e, req.AccountId), Receipts: rs}, nil
}
