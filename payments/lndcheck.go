package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/payments/lndperm"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Lightning is the lnrpc calls the service makes, those lndperm.Calls lists
// (lnrpc.LightningClient, such as lndconn.Conn's, satisfies it).
type Lightning interface {
	GetInfo(ctx context.Context, in *lnrpc.GetInfoRequest, opts ...grpc.CallOption) (*lnrpc.GetInfoResponse, error)
	ListPermissions(ctx context.Context, in *lnrpc.ListPermissionsRequest, opts ...grpc.CallOption) (*lnrpc.ListPermissionsResponse, error)
	AddInvoice(ctx context.Context, in *lnrpc.Invoice, opts ...grpc.CallOption) (*lnrpc.AddInvoiceResponse, error)
	LookupInvoice(ctx context.Context, in *lnrpc.PaymentHash, opts ...grpc.CallOption) (*lnrpc.Invoice, error)
	SubscribeInvoices(ctx context.Context, in *lnrpc.InvoiceSubscription, opts ...grpc.CallOption) (lnrpc.Lightning_SubscribeInvoicesClient, error)
	DecodePayReq(ctx context.Context, in *lnrpc.PayReqString, opts ...grpc.CallOption) (*lnrpc.PayReq, error)
	SendCoins(ctx context.Context, in *lnrpc.SendCoinsRequest, opts ...grpc.CallOption) (*lnrpc.SendCoinsResponse, error)
	GetTransactions(ctx context.Context, in *lnrpc.GetTransactionsRequest, opts ...grpc.CallOption) (*lnrpc.TransactionDetails, error)
}

// Router is the routerrpc calls the service makes, those lndperm.Calls lists
// (routerrpc.RouterClient, such as lndconn.Conn's, satisfies it).
type Router interface {
	SendPaymentV2(ctx context.Context, in *routerrpc.SendPaymentRequest, opts ...grpc.CallOption) (routerrpc.Router_SendPaymentV2Client, error)
	TrackPaymentV2(ctx context.Context, in *routerrpc.TrackPaymentRequest, opts ...grpc.CallOption) (routerrpc.Router_TrackPaymentV2Client, error)
}

// CheckLnd asks the payments lnd whether it accepts koshd's macaroon
// (GetInfo) and, if Config.Macaroon is set, whether the macaroon's
// permissions cover every call the service makes by lnd's own permission
// map (ListPermissions). It returns nil; an error wrapping ErrMisconfigured
// when lnd refuses the macaroon, after which the service refuses new
// deposits and redemptions with it until koshd is restarted; or one
// wrapping ErrUnavailable when lnd did not answer (the work loop asks again
// until it does).
func (s *Service) CheckLnd(ctx context.Context) error {
	if err := s.misconfigured(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := s.checkLnd(ctx)
	switch {
	case err == nil:
		s.lndChecked.Store(true)
	case errors.Is(err, ErrMisconfigured):
		s.setMisconfigured(err)
	}
	return err
}

// setMisconfigured records that lnd refused the macaroon: from then on new
// deposits and redemptions are refused with err, which names the fix.
func (s *Service) setMisconfigured(err error) {
	s.mu.Lock()
	first := s.misconfig == nil
	if first {
		s.misconfig = err
	}
	s.mu.Unlock()
	s.lndChecked.Store(true)
	if first {
		s.changes.WakeAll() // Redeem's waiters answer with err
		s.log.Error("PAYMENTS DISABLED: the payments lnd refuses koshd's macaroon; fix --payments.lnd and restart koshd",
			"err", err)
	}
}

// lndFailed turns an lnd call's failure into the service's error: lnd
// refusing the macaroon is ErrMisconfigured (and disables the service, see
// CheckLnd), anything else ErrUnavailable.
func (s *Service) lndFailed(call string, err error) error {
	if lndperm.RefusesMacaroon(err) {
		merr := fmt.Errorf("%w: the payments lnd refuses koshd's macaroon (%s: %s): use this node's admin.macaroon or one baked on it with `lncli bakemacaroon %s`",
			ErrMisconfigured, call, status.Convert(err).Message(), strings.Join(RequiredPermissions(), " "))
		s.setMisconfigured(merr)
		return merr
	}
	return fmt.Errorf("%w: payments lnd: %s: %w", ErrUnavailable, call, err)
}

func (s *Service) checkLnd(ctx context.Context) error {
	if _, err := s.ln.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		return s.lndFailed("GetInfo", err)
	}
	if s.cfg.Macaroon == nil {
		return nil
	}
	ops, err := lndconn.NewMacaroon(s.cfg.Macaroon).Permissions()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMisconfigured, err)
	}
	lp, err := s.ln.ListPermissions(ctx, &lnrpc.ListPermissionsRequest{})
	if err != nil {
		return s.lndFailed("ListPermissions", err)
	}
	required := map[string][]string{}
	for method, list := range lp.MethodPermissions {
		for _, p := range list.GetPermissions() {
			required[method] = append(required[method], p.Entity+":"+p.Action)
		}
	}
	return lndperm.MissingError(lndperm.Missing(ops, required))
}

// misconfigured returns the error CheckLnd found, if any.
func (s *Service) misconfigured() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.misconfig
}

// RequiredPermissions lists the lnd macaroon permissions the payments lnd's
// macaroon needs, sorted (admin.macaroon has them all).
func RequiredPermissions() []string { return lndperm.RequiredPermissions() }

// CheckMacaroon refuses a payments macaroon that lacks a permission the
// service needs, naming each one and what it is for. It needs no lnd: the
// permissions are written in the macaroon.
func CheckMacaroon(mac []byte) error { return lndperm.CheckMacaroon(mac) }
