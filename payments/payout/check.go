package payout

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments/internal/amount"
	"github.com/kosh-reserve/kosh/payments/lndperm"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/status"
)

// dustLimit is the smallest on-chain payout accepted (P2PKH dust at the
// default relay fee; lnd refuses smaller outputs).
const dustLimit = 546

// Request is the payout a holder asks for: a BOLT11 invoice and the most
// routing may cost (Lightning), or an amount to an address at a fee rate
// (on-chain).
type Request struct {
	// Method is payrecord.MethodLightning or payrecord.MethodOnchain.
	Method         int32
	PaymentRequest string
	MaxFeeSat      int64
	Address        string
	Amount         int64
	SatPerVbyte    int64
}

// Check refuses a payout lnd could not make as asked, with an error
// wrapping ledger.ErrInvalidArgument that says what would pass (or
// Config.LndFailed's error when lnd cannot decode the invoice for want of
// an answer or of a permission), and otherwise fills row's amount, fee
// limit and method fields: the invoice, its payment hash and amount, or
// the address (in its canonical form), amount and fee rate, with a fee
// limit of the fee rate times Config.OnchainVbytes.
func (p *Payer) Check(ctx context.Context, r Request, row *payrecord.Redemption) error {
	switch r.Method {
	case payrecord.MethodLightning:
		return p.checkInvoice(ctx, r, row)
	case payrecord.MethodOnchain:
		return p.checkOnchain(r, row)
	default:
		return fmt.Errorf("%w: method must be PAYMENT_METHOD_LIGHTNING or PAYMENT_METHOD_ONCHAIN", ledger.ErrInvalidArgument)
	}
}

// checkInvoice decodes the BOLT11 invoice with lnd and fills the row.
func (p *Payer) checkInvoice(ctx context.Context, r Request, row *payrecord.Redemption) error {
	if r.PaymentRequest == "" {
		return fmt.Errorf("%w: payment_request (a BOLT11 invoice) is required for a Lightning redemption", ledger.ErrInvalidArgument)
	}
	if len(r.PaymentRequest) > 4096 {
		return fmt.Errorf("%w: payment_request is %d characters; a BOLT11 invoice this long is not accepted", ledger.ErrInvalidArgument, len(r.PaymentRequest))
	}
	if r.Address != "" || r.Amount != 0 || r.SatPerVbyte != 0 {
		return fmt.Errorf("%w: address, amount and sat_per_vbyte are for on-chain redemptions; a Lightning redemption pays the invoice's amount", ledger.ErrInvalidArgument)
	}
	if r.MaxFeeSat < 0 {
		return fmt.Errorf("%w: max_fee_sat must not be negative", ledger.ErrInvalidArgument)
	}
	pr, err := p.ln.DecodePayReq(ctx, &lnrpc.PayReqString{PayReq: r.PaymentRequest})
	if err != nil {
		if lndperm.Unreachable(err) || lndperm.RefusesMacaroon(err) {
			return p.cfg.LndFailed("DecodePayReq", err)
		}
		return fmt.Errorf("%w: payment_request is not a valid BOLT11 invoice for this network: %s", ledger.ErrInvalidArgument, status.Convert(err).Message())
	}
	if pr.NumMsat <= 0 {
		return fmt.Errorf("%w: the invoice has no amount; ask for an invoice of the amount to redeem", ledger.ErrInvalidArgument)
	}
	if pr.NumMsat%1000 != 0 {
		return fmt.Errorf("%w: the invoice asks for %d msat; only whole sats can be redeemed", ledger.ErrInvalidArgument, pr.NumMsat)
	}
	expiry := pr.Expiry
	if expiry == 0 {
		expiry = 3600 // BOLT11 default
	}
	expires := time.Unix(pr.Timestamp, 0).Add(time.Duration(expiry) * time.Second)
	if left := expires.Sub(p.cfg.Now()); left < p.cfg.PayTimeout {
		return fmt.Errorf("%w: the invoice expires in %s, less than the payment timeout of %s; ask for a fresh invoice",
			ledger.ErrInvalidArgument, left.Truncate(time.Second), p.cfg.PayTimeout)
	}
	if r.MaxFeeSat > pr.NumSatoshis {
		return fmt.Errorf("%w: max_fee_sat %d is more than the invoice amount %d", ledger.ErrInvalidArgument, r.MaxFeeSat, pr.NumSatoshis)
	}
	row.Amount, row.FeeLimit = pr.NumSatoshis, r.MaxFeeSat
	row.PaymentRequest, row.PaymentHash = r.PaymentRequest, pr.PaymentHash
	return nil
}

// checkOnchain checks an on-chain payout and fills the row.
func (p *Payer) checkOnchain(r Request, row *payrecord.Redemption) error {
	if r.PaymentRequest != "" || r.MaxFeeSat != 0 {
		return fmt.Errorf("%w: payment_request and max_fee_sat are for Lightning redemptions; on-chain, set sat_per_vbyte", ledger.ErrInvalidArgument)
	}
	addr, err := btcutil.DecodeAddress(r.Address, p.cfg.Net)
	if err != nil || !addr.IsForNet(p.cfg.Net) {
		return fmt.Errorf("%w: address %q is not a valid %s address", ledger.ErrInvalidArgument, truncate(r.Address), p.cfg.Net.Name)
	}
	if r.Amount < dustLimit {
		return fmt.Errorf("%w: amount must be at least %d sats (dust) for an on-chain payout, got %d", ledger.ErrInvalidArgument, dustLimit, r.Amount)
	}
	if r.SatPerVbyte < 1 || r.SatPerVbyte > p.cfg.MaxSatPerVbyte {
		return fmt.Errorf("%w: sat_per_vbyte must be 1 to %d, got %d", ledger.ErrInvalidArgument, p.cfg.MaxSatPerVbyte, r.SatPerVbyte)
	}
	fee, err := amount.Mul(r.SatPerVbyte, p.cfg.OnchainVbytes)
	if err != nil {
		return err
	}
	row.Amount, row.FeeLimit, row.SatPerVbyte, row.Address = r.Amount, fee, r.SatPerVbyte, addr.EncodeAddress()
	return nil
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
