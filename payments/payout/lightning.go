package payout

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kosh-reserve/kosh/payments/lndperm"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Following is a Lightning payment a Payer sent whose end lnd has not
// reported yet.
type Following struct {
	stream paymentStream
}

// End reads lnd's updates of the payment until a final one: Paid, Failed,
// or Unsent if lnd turns out not to know the payment.
func (f *Following) End() (Result, error) { return follow(f.stream) }

type paymentStream interface {
	Recv() (*lnrpc.Payment, error)
}

// lookup asks lnd for the payment of a hash: found is false if lnd never
// initiated one.
func (p *Payer) lookup(ctx context.Context, hash []byte) (pay *lnrpc.Payment, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	stream, err := p.router.TrackPaymentV2(ctx, &routerrpc.TrackPaymentRequest{PaymentHash: hash})
	if err == nil {
		pay, err = stream.Recv()
	}
	if status.Code(err) == codes.NotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: track payment %x: %w", lndperm.ErrUnavailable, hash, err)
	}
	return pay, true, nil
}

// result says what an update of lnd's means for the payout: in flight,
// paid or failed.
func result(pay *lnrpc.Payment) Result {
	switch pay.Status {
	case lnrpc.Payment_SUCCEEDED:
		return Result{Status: Paid, FeePaid: (pay.FeeMsat + 999) / 1000, Preimage: pay.PaymentPreimage}
	case lnrpc.Payment_FAILED:
		return Result{Status: Failed, Failure: "lnd: " + pay.FailureReason.String()}
	default:
		return Result{Status: InFlight}
	}
}

// sendLightning pays a redemption's invoice, unless lnd already has a
// payment of its hash (a crash after sending): the payment hash is the
// anchor that makes a second payment impossible.
func (p *Payer) sendLightning(ctx context.Context, r payrecord.Redemption) (Result, *Following, error) {
	hash, err := hex.DecodeString(r.PaymentHash)
	if err != nil {
		return Result{}, nil, fmt.Errorf("redemption %s has a bad payment hash: %w", r.ID, err)
	}
	if pay, found, err := p.lookup(ctx, hash); err != nil {
		return Result{}, nil, err
	} else if found {
		p.cfg.Log.Info("payment already known to lnd; following it instead of sending", "redemption", r.ID, "status", pay.Status)
		return result(pay), nil, nil
	}
	stream, err := p.router.SendPaymentV2(ctx, &routerrpc.SendPaymentRequest{PaymentRequest: r.PaymentRequest,
		TimeoutSeconds: int32(p.cfg.PayTimeout / time.Second), FeeLimitSat: r.FeeLimit})
	var pay *lnrpc.Payment
	if err == nil {
		pay, err = stream.Recv()
	}
	if err != nil {
		// Did lnd start the payment? Only "no" makes this a definitive
		// failure; anything unsure is retried.
		if ctx.Err() != nil {
			return Result{}, nil, ctx.Err()
		}
		lp, found, lerr := p.lookup(ctx, hash)
		if lerr != nil {
			return Result{}, nil, errors.Join(err, lerr)
		}
		if found {
			return result(lp), nil, nil
		}
		if lndperm.Unreachable(err) {
			return Result{}, nil, fmt.Errorf("%w: send payment: %w", lndperm.ErrUnavailable, err)
		}
		return Result{Status: Failed, Failure: "lnd refused the payment: " + status.Convert(err).Message()}, nil, nil
	}
	res := result(pay)
	res.Sent = true
	if res.Status != InFlight {
		return res, nil, nil
	}
	return res, &Following{stream: stream}, nil
}

// trackLightning follows an in-flight payment to its end.
func (p *Payer) trackLightning(ctx context.Context, r payrecord.Redemption) (Result, error) {
	hash, err := hex.DecodeString(r.PaymentHash)
	if err != nil {
		return Result{}, fmt.Errorf("redemption %s has a bad payment hash: %w", r.ID, err)
	}
	stream, err := p.router.TrackPaymentV2(ctx, &routerrpc.TrackPaymentRequest{PaymentHash: hash, NoInflightUpdates: true})
	if err != nil {
		return Result{}, fmt.Errorf("%w: track payment: %w", lndperm.ErrUnavailable, err)
	}
	return follow(stream)
}

// follow reads payment updates until a final one.
func follow(stream paymentStream) (Result, error) {
	for {
		pay, err := stream.Recv()
		if err == io.EOF {
			return Result{}, errors.New("payment stream ended before a final state")
		}
		if status.Code(err) == codes.NotFound {
			// In flight by our records, unknown to lnd: it was never
			// initiated (lnd lost it, or its database was replaced).
			return Result{Status: Unsent}, nil
		}
		if err != nil {
			return Result{}, fmt.Errorf("%w: follow payment: %w", lndperm.ErrUnavailable, err)
		}
		if res := result(pay); res.Status != InFlight {
			return res, nil
		}
	}
}
