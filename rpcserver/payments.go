package rpcserver

import (
	"context"
	"errors"
	"strconv"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/payments"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Payments is what the handlers use of the payments service.
type Payments interface {
	CreateDeposit(ctx context.Context, r payments.DepositRequest) (payments.Deposit, error)
	Deposit(ctx context.Context, account, id string) (payments.Deposit, error)
	Deposits(ctx context.Context, account string, before int64, limit int) ([]payments.Deposit, int64, error)
	Redeem(ctx context.Context, r payments.RedeemRequest) (payments.Redeemed, error)
	Redemption(ctx context.Context, account, id string) (payrecord.Redemption, error)
	Redemptions(ctx context.Context, account string, before int64, limit int) ([]payrecord.Redemption, int64, error)
	FlaggedOutputs(ctx context.Context) ([]payrecord.Output, []payrecord.Deposit, error)
}

// paymentStatus maps payments errors to gRPC codes, then the ledger's.
//
// A policy limit (maximum amount, daily limit, unused deposit addresses) is
// FAILED_PRECONDITION (HTTP 400), not RESOURCE_EXHAUSTED (HTTP 429): the
// same request is refused again however soon or often it is retried, until
// something changes (a smaller amount, older amounts leaving the 24 hours,
// a deposit address being paid); the message says what. A payments lnd that
// refuses koshd's macaroon is FAILED_PRECONDITION too: only the issuer can
// fix it. UNAVAILABLE (HTTP 503) is kept for an lnd that does not answer,
// which retrying does fix.
func (s *Server) paymentStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, payments.ErrMisconfigured):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, payments.ErrUnavailable):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, payments.ErrLimit):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, payments.ErrNotConfigured):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return s.toStatus(err)
}

func (s *Server) paymentsOrErr() (Payments, error) {
	if s.payments == nil {
		return nil, status.Error(codes.FailedPrecondition,
			"deposits and redemptions are not configured on this koshd: start it with --payments.lnd")
	}
	return s.payments, nil
}

// payments checks that the wallet macaroon is for account and that
// payments are configured: what every wallet payments call needs first.
func (w *walletServer) payments(ctx context.Context, account string) (Payments, error) {
	if err := w.account(ctx, account); err != nil {
		return nil, err
	}
	return w.s.paymentsOrErr()
}

// listPage reads a list call's page token and size.
func listPage(token string, size uint32, method string) (before int64, n int, err error) {
	if n, err = pageSize(size); err != nil {
		return 0, 0, err
	}
	before, err = pageBefore(token, method)
	return before, n, err
}

func micros(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := time.UnixMicro(us).UTC()
	return &t
}

func depositToProto(d payments.Deposit) *koshv1.Deposit {
	out := &koshv1.Deposit{Id: d.ID, AccountId: d.AccountID, Asset: d.Asset, Method: koshv1.PaymentMethod(d.Method),
		State: d.State, Amount: d.Amount, Credited: d.Credited, Memo: d.Memo, PaymentRequest: d.PaymentRequest,
		PaymentHash: d.PaymentHash, Address: d.Address, CreatedAt: ts(time.UnixMicro(d.CreatedAt).UTC())}
	if t := micros(d.ExpiresAt); t != nil {
		out.ExpiresAt = ts(*t)
	}
	for _, o := range d.Outputs {
		out.Outputs = append(out.Outputs, outputToProto(o, d.Deposit))
	}
	return out
}

func outputToProto(o payrecord.Output, d payrecord.Deposit) *koshv1.DepositOutput {
	return &koshv1.DepositOutput{Outpoint: o.TxID + ":" + strconv.FormatUint(uint64(o.Vout), 10), Amount: o.Amount,
		Height: o.Height, State: o.State, DepositId: o.DepositID, AccountId: d.AccountID, Asset: d.Asset}
}

func redemptionToProto(r payrecord.Redemption) *koshv1.Redemption {
	burned := r.Units
	if burned == 0 {
		burned = r.Amount + r.FeeLimit // rows from before units were stored; both bounded when accepted
	}
	if r.State == payments.RedemptionRequested || r.State == payments.RedemptionRejected {
		burned = 0 // nothing was taken from the holder (yet, or ever)
	}
	return &koshv1.Redemption{Id: r.ID, AccountId: r.AccountID, Asset: r.Asset, Method: koshv1.PaymentMethod(r.Method),
		State: r.State, Amount: r.Amount, FeeLimit: r.FeeLimit, Burned: burned, FeePaid: r.FeePaid,
		PaymentRequest: r.PaymentRequest, PaymentHash: r.PaymentHash, Preimage: r.Preimage, Address: r.Address,
		SatPerVbyte: r.SatPerVbyte, Txid: r.TxID, FailureReason: r.Failure, Price: r.Price,
		CreatedAt: ts(time.UnixMicro(r.CreatedAt).UTC()), UpdatedAt: ts(time.UnixMicro(r.UpdatedAt).UTC())}
}

func pageBefore(token, method string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(token, 10, 64)
	if err != nil || n <= 0 {
		return 0, status.Errorf(codes.InvalidArgument, "page_token %q is not a token from a previous %s response", token, method)
	}
	return n, nil
}

func nextToken(next int64) string {
	if next == 0 {
		return ""
	}
	return strconv.FormatInt(next, 10)
}

// ListFlaggedDeposits implements IssuerService.
func (s *Server) ListFlaggedDeposits(ctx context.Context, _ *koshv1.ListFlaggedDepositsRequest) (*koshv1.ListFlaggedDepositsResponse, error) {
	p, err := s.paymentsOrErr()
	if err != nil {
		return nil, err
	}
	outs, deps, err := p.FlaggedOutputs(ctx)
	if err != nil {
		return nil, s.paymentStatus(err)
	}
	resp := &koshv1.ListFlaggedDepositsResponse{}
	for i, o := range outs {
		resp.Outputs = append(resp.Outputs, outputToProto(o, deps[i]))
	}
	return resp, nil
}

// CreateDeposit implements WalletService.
func (w *walletServer) CreateDeposit(ctx context.Context, req *koshv1.CreateDepositRequest) (*koshv1.CreateDepositResponse, error) {
	p, err := w.payments(ctx, req.AccountId)
	if err != nil {
		return nil, err
	}
	if req.ExpirySeconds < 0 || req.ExpirySeconds > 30*24*3600 {
		return nil, status.Errorf(codes.InvalidArgument, "expiry_seconds must be 0 (default) to %d", 30*24*3600)
	}
	d, err := p.CreateDeposit(ctx, payments.DepositRequest{AccountID: req.AccountId, Asset: req.Asset,
		Method: int32(req.Method), Amount: req.Amount, Memo: req.Memo,
		Expiry: time.Duration(req.ExpirySeconds) * time.Second, IdempotencyKey: req.IdempotencyKey})
	if err != nil {
		return nil, w.s.paymentStatus(err)
	}
	return &koshv1.CreateDepositResponse{Deposit: depositToProto(d)}, nil
}

// GetDeposit implements WalletService.
func (w *walletServer) GetDeposit(ctx context.Context, req *koshv1.GetDepositRequest) (*koshv1.GetDepositResponse, error) {
	p, err := w.payments(ctx, req.AccountId)
	if err != nil {
		return nil, err
	}
	d, err := p.Deposit(ctx, req.AccountId, req.DepositId)
	if err != nil {
		return nil, w.s.paymentStatus(err)
	}
	return &koshv1.GetDepositResponse{Deposit: depositToProto(d)}, nil
}

// ListDeposits implements WalletService.
func (w *walletServer) ListDeposits(ctx context.Context, req *koshv1.ListDepositsRequest) (*koshv1.ListDepositsResponse, error) {
	p, err := w.payments(ctx, req.AccountId)
	if err != nil {
		return nil, err
	}
	before, n, err := listPage(req.PageToken, req.PageSize, "ListDeposits")
	if err != nil {
		return nil, err
	}
	ds, next, err := p.Deposits(ctx, req.AccountId, before, n)
	if err != nil {
		return nil, w.s.paymentStatus(err)
	}
	resp := &koshv1.ListDepositsResponse{NextPageToken: nextToken(next)}
	for _, d := range ds {
		resp.Deposits = append(resp.Deposits, depositToProto(d))
	}
	return resp, nil
}

// Redeem implements WalletService.
func (w *walletServer) Redeem(ctx context.Context, req *koshv1.RedeemRequest) (*koshv1.RedeemResponse, error) {
	p, err := w.payments(ctx, req.AccountId)
	if err != nil {
		return nil, err
	}
	r, err := p.Redeem(ctx, payments.RedeemRequest{AccountID: req.AccountId, Asset: req.Asset, Method: int32(req.Method),
		IdempotencyKey: req.IdempotencyKey, PaymentRequest: req.PaymentRequest, MaxFeeSat: req.MaxFeeSat,
		Address: req.Address, Amount: req.Amount, SatPerVbyte: req.SatPerVbyte})
	if err != nil {
		return nil, w.s.paymentStatus(err)
	}
	out := &koshv1.RedeemResponse{Redemption: redemptionToProto(r.Redemption)}
	// The holder's receipt of the entry that took the units (into escrow
	// until the payout settles); none before the units are taken.
	if r.Escrow != nil {
		if out.Receipts, err = w.s.receipts(*r.Escrow, req.AccountId); err != nil {
			return nil, w.s.toStatus(err)
		}
	}
	return out, nil
}

// GetRedemption implements WalletService.
func (w *walletServer) GetRedemption(ctx context.Context, req *koshv1.GetRedemptionRequest) (*koshv1.GetRedemptionResponse, error) {
	p, err := w.payments(ctx, req.AccountId)
	if err != nil {
		return nil, err
	}
	r, err := p.Redemption(ctx, req.AccountId, req.RedemptionId)
	if err != nil {
		return nil, w.s.paymentStatus(err)
	}
	return &koshv1.GetRedemptionResponse{Redemption: redemptionToProto(r)}, nil
}

// ListRedemptions implements WalletService.
func (w *walletServer) ListRedemptions(ctx context.Context, req *koshv1.ListRedemptionsRequest) (*koshv1.ListRedemptionsResponse, error) {
	p, err := w.payments(ctx, req.AccountId)
	if err != nil {
		return nil, err
	}
	before, n, err := listPage(req.PageToken, req.PageSize, "ListRedemptions")
	if err != nil {
		return nil, err
	}
	rs, next, err := p.Redemptions(ctx, req.AccountId, before, n)
	if err != nil {
		return nil, w.s.paymentStatus(err)
	}
	resp := &koshv1.ListRedemptionsResponse{NextPageToken: nextToken(next)}
	for _, r := range rs {
		resp.Redemptions = append(resp.Redemptions, redemptionToProto(r))
	}
	return resp, nil
}
