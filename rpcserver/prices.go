package rpcserver

import (
	"context"
	"encoding/hex"
	"math/big"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/auth"
	"github.com/kosh-reserve/kosh/money"
	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/perms"
	"github.com/kosh-reserve/kosh/reserve"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"gopkg.in/macaroon.v2"
)

// Limits of SetManualPrice.
const (
	// MaxManualPriceValidity bounds valid_for_seconds (10 years).
	MaxManualPriceValidity = 10 * 365 * 24 * time.Hour
	// MaxManualPriceReason bounds the reason's length in bytes.
	MaxManualPriceReason = 500
)

// PriceBook is what the handlers use of the price oracle: one oracle per
// currency, and manual prices recorded durably before they apply. Errors
// wrap the ledger's sentinels (ErrNotFound for a currency without an
// oracle, ErrInvalidArgument for a refused manual price).
type PriceBook interface {
	Quotes() []oracle.Quote
	Quote(currency string) (oracle.Quote, error)
	SetManual(ctx context.Context, currency string, m oracle.Manual) (oracle.Quote, error)
	ClearManual(ctx context.Context, currency, by, reason string) (oracle.Quote, error)
}

var isoCurrencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// GetPrices implements IssuerService.
func (s *Server) GetPrices(_ context.Context, _ *koshv1.GetPricesRequest) (*koshv1.GetPricesResponse, error) {
	resp := &koshv1.GetPricesResponse{}
	if s.prices == nil {
		return resp, nil
	}
	for _, q := range s.prices.Quotes() {
		resp.Prices = append(resp.Prices, quoteToProto(q))
	}
	return resp, nil
}

// SetManualPrice implements IssuerService. The caller is identified by the
// macaroon it authenticated with (its role and identifier), which is
// recorded with the price, the time, the expiry and the reason.
func (s *Server) SetManualPrice(ctx context.Context, req *koshv1.SetManualPriceRequest) (*koshv1.SetManualPriceResponse, error) {
	invalid := func(format string, args ...any) error { return status.Errorf(codes.InvalidArgument, format, args...) }
	if !isoCurrencyRE.MatchString(req.Currency) {
		return nil, invalid("currency %q is not an ISO 4217 code of 3 capital letters (e.g. INR)", truncateText(req.Currency))
	}
	if len(req.Reason) > MaxManualPriceReason || !utf8.ValidString(req.Reason) || strings.ContainsFunc(req.Reason, isControl) {
		return nil, invalid("reason must be at most %d bytes of printable UTF-8", MaxManualPriceReason)
	}
	if req.ValidForSeconds < 0 || time.Duration(req.ValidForSeconds) > MaxManualPriceValidity/time.Second {
		return nil, invalid("valid_for_seconds must be 0 (until cleared) to %d, got %d",
			int64(MaxManualPriceValidity/time.Second), req.ValidForSeconds)
	}
	if s.prices == nil {
		return nil, status.Error(codes.FailedPrecondition, reserve.ErrNoOracle.Error()+" (or --oracle.manualcurrency for a currency priced by hand)")
	}
	if _, err := s.prices.Quote(req.Currency); err != nil {
		return nil, s.toStatus(err)
	}
	by := callerName(ctx)
	if req.Clear {
		if req.Price != "" || req.ValidForSeconds != 0 {
			return nil, invalid("clear removes the manual price: send it without price or valid_for_seconds")
		}
		q, err := s.prices.ClearManual(ctx, req.Currency, by, req.Reason)
		if err != nil {
			return nil, s.toStatus(err)
		}
		return &koshv1.SetManualPriceResponse{Price: quoteToProto(q)}, nil
	}
	p, err := parseManualPrice(req.Currency, req.Price)
	if err != nil {
		return nil, err
	}
	m := oracle.Manual{Price: p, By: by, Reason: req.Reason}
	if req.ValidForSeconds > 0 {
		m.Until = time.Now().Add(time.Duration(req.ValidForSeconds) * time.Second)
	}
	q, err := s.prices.SetManual(ctx, req.Currency, m)
	if err != nil {
		return nil, s.toStatus(err)
	}
	s.log.Info("manual price set", "currency", req.Currency, "price", p.String(), "by", by, "reason", req.Reason,
		"until", m.Until)
	return &koshv1.SetManualPriceResponse{Price: quoteToProto(q)}, nil
}

// parseManualPrice parses a manual price, with messages for the mistakes a
// person makes: none given, zero or negative, too precise.
func parseManualPrice(currency, text string) (money.Price, error) {
	if text == "" {
		return money.Price{}, status.Errorf(codes.InvalidArgument,
			"price is required: a positive decimal number of %s per BTC, e.g. 6543210.12 (or clear to remove the manual price)", currency)
	}
	if r, ok := new(big.Rat).SetString(text); ok && r.Sign() <= 0 && !strings.Contains(text, "/") {
		return money.Price{}, status.Errorf(codes.InvalidArgument, "price %q is not positive: a price must be above zero", truncateText(text))
	}
	p, err := money.ParsePrice(text)
	if err != nil {
		return money.Price{}, status.Errorf(codes.InvalidArgument, "price: %v", err)
	}
	return p, nil
}

// callerName names the macaroon that authenticated the call: its role as
// the permissions show it, and its identifier (not a secret: the signature
// is), e.g. "pricer macaroon 5f0c...".
func callerName(ctx context.Context) string {
	role := "macaroon"
	if g, ok := auth.GrantFromContext(ctx); ok {
		switch {
		case hasAll(g, perms.Admin):
			role = "admin macaroon"
		case hasAll(g, perms.Pricer) && !g.Has(perms.SupplyMint):
			role = "pricer macaroon"
		default:
			role = "custom macaroon"
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if vals := md.Get("macaroon"); len(vals) > 0 {
		if raw, err := hex.DecodeString(vals[0]); err == nil {
			var m macaroon.Macaroon
			if m.UnmarshalBinary(raw) == nil {
				return role + " " + hex.EncodeToString(m.Id())
			}
		}
	}
	return role
}

func hasAll(g auth.Grant, ops []perms.Op) bool {
	for _, op := range ops {
		if !g.Has(op) {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func truncateText(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// quoteToProto renders a quote. The time is the price's (when it was set by
// hand, or its oldest contributing source's quote), or the quote's for a
// stale price.
func quoteToProto(q oracle.Quote) *koshv1.PriceQuote {
	out := &koshv1.PriceQuote{Currency: q.Currency, Manual: q.Manual, Stale: q.Stale, Problem: q.Reason,
		SpreadBps: q.SpreadBps}
	if p, err := q.Usable(); err == nil {
		out.Price, out.Coefficient, out.Scale = p.String(), p.Coefficient.String(), uint32(p.Scale)
		out.Time = ts(q.PriceTime())
	} else {
		out.Stale = true
		if out.Problem == "" {
			out.Problem = err.Error()
		}
		out.Time = ts(q.Time)
	}
	for _, sq := range q.Sources {
		ps := &koshv1.PriceSourceQuote{Name: sq.Name, Used: sq.Contributing, Error: sq.Err}
		if !sq.Price.IsZero() {
			ps.Price = sq.Price.String()
		}
		if !sq.Time.IsZero() {
			ps.Time = ts(sq.Time)
		}
		out.Sources = append(out.Sources, ps)
	}
	return out
}
