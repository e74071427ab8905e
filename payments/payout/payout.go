package payout

import (
	"context"
	"log/slog"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/kosh-reserve/kosh/payments/internal/repeatlog"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"google.golang.org/grpc"
)

// Router is the routerrpc calls a Lightning payout makes
// (routerrpc.RouterClient, such as lndconn.Conn's, satisfies it).
type Router interface {
	SendPaymentV2(ctx context.Context, in *routerrpc.SendPaymentRequest, opts ...grpc.CallOption) (routerrpc.Router_SendPaymentV2Client, error)
	TrackPaymentV2(ctx context.Context, in *routerrpc.TrackPaymentRequest, opts ...grpc.CallOption) (routerrpc.Router_TrackPaymentV2Client, error)
}

// Lightning is the lnrpc calls a payout makes: checking an invoice, and
// sending and finding on-chain payouts (lnrpc.LightningClient, such as
// lndconn.Conn's, satisfies it).
type Lightning interface {
	DecodePayReq(ctx context.Context, in *lnrpc.PayReqString, opts ...grpc.CallOption) (*lnrpc.PayReq, error)
	SendCoins(ctx context.Context, in *lnrpc.SendCoinsRequest, opts ...grpc.CallOption) (*lnrpc.SendCoinsResponse, error)
	GetTransactions(ctx context.Context, in *lnrpc.GetTransactionsRequest, opts ...grpc.CallOption) (*lnrpc.TransactionDetails, error)
}

// Status is what lnd says of a payout.
type Status int

const (
	// InFlight means the payout was sent and has not ended: a Lightning
	// payment lnd is still trying, or an on-chain transaction without a
	// confirmation (or missing from lnd's wallet for now).
	InFlight Status = iota
	// Paid means the payout settled: the Lightning payment succeeded, or
	// the on-chain transaction has a confirmation.
	Paid
	// Failed means the payout definitively failed: nothing was paid and
	// nothing will be.
	Failed
	// Unsent means lnd never initiated the Lightning payment that was
	// recorded as in flight (lnd lost it, or its database was replaced):
	// sending it is safe, since the payment hash still guards against a
	// second payment.
	Unsent
)

// Result is what a Payer found of a payout.
type Result struct {
	Status Status
	// Sent is true when this call sent the payout to lnd (rather than
	// finding it there already, or lnd refusing it).
	Sent bool
	// TxID is the on-chain payout's transaction id (empty for Lightning).
	TxID string
	// FeePaid is the fee the payout paid, in sats (Paid only).
	FeePaid int64
	// Preimage is the Lightning payment's preimage (Paid only).
	Preimage string
	// Failure says why the payout failed (Failed only).
	Failure string
}

// Config configures a Payer; the payments service fills it from its own
// Config, defaults applied.
type Config struct {
	// Net is the bitcoin network of addresses and invoices.
	Net *chaincfg.Params
	// PayTimeout bounds one Lightning payment attempt; an invoice that
	// expires sooner is refused.
	PayTimeout time.Duration
	// OnchainVbytes is the size budget an on-chain payout's fee limit is
	// computed from: fee limit = sat_per_vbyte * OnchainVbytes.
	OnchainVbytes int64
	// MaxSatPerVbyte caps the fee rate a holder may ask for.
	MaxSatPerVbyte int64
	// LndFailed turns lnd's failure to decode an invoice for want of an
	// answer or of a permission into the service's error.
	LndFailed func(call string, err error) error
	Now       func() time.Time
	Log       *slog.Logger
	// Repeats is the payments service's repeat-suppressing log, where an
	// on-chain payout missing from lnd's wallet is reported while it lasts.
	Repeats *repeatlog.Log
}

// Payer pays redemptions from one lnd.
type Payer struct {
	router Router
	ln     Lightning
	cfg    Config
}

// New returns a Payer that pays invoices through router and addresses
// from ln's wallet.
func New(router Router, ln Lightning, cfg Config) *Payer {
	return &Payer{router: router, ln: ln, cfg: cfg}
}

// Send pays a redemption in state burned, unless lnd already has its
// payout (a payment of its hash, a transaction with its label: a crash
// after sending), which it then reports instead. An error is a failure to
// find out (lnd not answering wraps lndperm.ErrUnavailable): the caller
// tries again later, and nothing is paid twice.
//
// When Send sent a Lightning payment and lnd's first update is not final,
// the returned Following is non-nil: the caller records the payout in
// flight, then waits for its end with Following.End.
func (p *Payer) Send(ctx context.Context, r payrecord.Redemption) (Result, *Following, error) {
	if r.Method == payrecord.MethodLightning {
		return p.sendLightning(ctx, r)
	}
	res, err := p.sendOnchain(ctx, r)
	return res, nil, err
}

// Track asks lnd what became of a redemption's payout in state in_flight:
// a Lightning payment is followed to its end (Paid, Failed, or Unsent); an
// on-chain one is looked up once (Paid once its transaction has a
// confirmation, InFlight until then).
func (p *Payer) Track(ctx context.Context, r payrecord.Redemption) (Result, error) {
	if r.Method == payrecord.MethodLightning {
		return p.trackLightning(ctx, r)
	}
	return p.confirmOnchain(ctx, r)
}
