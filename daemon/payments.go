package daemon

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/payments"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/prometheus/client_golang/prometheus"
)

// PaymentsConfig configures deposits and redemptions (package payments).
type PaymentsConfig struct {
	Lnd               string        `long:"lnd" description:"The lnd that takes deposits and pays redemptions: name=alice,host=127.0.0.1:10009,tlscert=/path/tls.cert,macaroon=/path/admin.macaroon (the macaroon needs info:read, invoices:read/write, offchain:read/write, onchain:read/write; koshd refuses to start with one that lacks any, naming it). It should also be a reserve node (--lnd.node with the same name) so its balances back the credits. Empty: no deposits or redemptions"`
	DepositDescriptor string        `long:"depositdescriptor" description:"Ranged output descriptor with #checksum that on-chain deposit addresses are derived from, e.g. wpkh(tpub.../0/*)#checksum; it must also be a --chain.descriptor so the chain watcher watches and counts it"`
	MinConf           int64         `long:"minconf" description:"Confirmations an on-chain deposit needs to be credited (default: --chain.minconf)"`
	Policies          []string      `long:"policy" description:"Per-asset limits (repeatable): ASSET:min=SATS,max=SATS,daily=SATS (daily: per account per 24 h, deposits and redemptions each; 0 or absent: none). Use * as ASSET for the default"`
	InvoiceExpiry     time.Duration `long:"invoiceexpiry" description:"Lifetime of a deposit invoice whose CreateDeposit request leaves expiry_seconds 0 (default 1h)"`
	PayTimeout        time.Duration `long:"paytimeout" description:"How long lnd may try to pay a redemption invoice"`
	OnchainVbytes     int64         `long:"onchainvbytes" description:"Size budget of an on-chain payout: its fee limit, burned with the amount, is sat_per_vbyte times this"`
	MaxSatPerVbyte    int64         `long:"maxsatpervbyte" description:"Highest fee rate a holder may ask for an on-chain payout"`
	Poll              time.Duration `long:"poll" description:"How often unfinished deposits and redemptions are retried"`

	// Fault is a test hook called at named crash points (docs/payments.md).
	Fault func(point string) error `no-flag:"true"`
}

// paymentsLndExample is a complete --payments.lnd value, shown when one is
// incomplete.
const paymentsLndExample = "name=alice,host=127.0.0.1:10009,tlscert=/home/u/.lnd/tls.cert,macaroon=/home/u/.lnd/data/chain/bitcoin/regtest/admin.macaroon"

// startPayments builds the payments service if --payments.lnd is set
// (nil if not), starts it and registers its metrics. Fiat-pegged
// redemptions are paid at att's newest attested price.
func (d *Daemon) startPayments(att *attestor.Service) (*payments.Service, error) {
	pc := d.cfg.Payments
	if pc.Lnd == "" {
		if pc.DepositDescriptor != "" {
			return nil, fmt.Errorf("--payments.depositdescriptor needs --payments.lnd")
		}
		return nil, nil
	}
	// signmacaroon and proofmacaroon are accepted, and ignored, so that
	// the node's --lnd.node value can be copied.
	lc, _, err := lndconn.ParseNode("--payments.lnd", pc.Lnd, paymentsLndExample, "signmacaroon", "proofmacaroon")
	if err != nil {
		return nil, err
	}
	params, err := d.cfg.ChainParams()
	if err != nil {
		return nil, err
	}
	cfg := payments.Config{Net: params, MinConf: pc.MinConf, DepositGap: int64(d.cfg.Chain.GapLimit),
		InvoiceExpiry: pc.InvoiceExpiry, PayTimeout: pc.PayTimeout, OnchainVbytes: pc.OnchainVbytes,
		MaxSatPerVbyte: pc.MaxSatPerVbyte, Poll: pc.Poll, Fault: pc.Fault,
		AttestedPrice: attestedPrices(att), Log: d.log.With("subsystem", "payments")}
	if cfg.MinConf <= 0 {
		cfg.MinConf = d.cfg.Chain.MinConf
	}
	if cfg.Policies, cfg.Default, err = parsePolicies(pc.Policies); err != nil {
		return nil, err
	}
	if pc.DepositDescriptor != "" {
		desc, err := descriptor.Parse(pc.DepositDescriptor, params)
		if err != nil {
			return nil, fmt.Errorf("--payments.depositdescriptor: %w", err)
		}
		if !desc.HasChecksum() {
			return nil, fmt.Errorf("--payments.depositdescriptor has no checksum; if it is the descriptor you mean, use %s",
				descriptor.AddChecksum(pc.DepositDescriptor))
		}
		if !desc.IsRanged() {
			return nil, fmt.Errorf("--payments.depositdescriptor must be ranged (end in /*) so each deposit gets a fresh address")
		}
		watched := false
		for _, s := range d.cfg.Chain.Descriptors {
			if w, err := descriptor.Parse(s, params); err == nil && w.String() == desc.String() {
				watched = true
			}
		}
		if !watched {
			return nil, fmt.Errorf("--payments.depositdescriptor %s is not among --chain.descriptor: add it there too, so the chain watcher sees deposits and counts them as reserves", desc)
		}
		cfg.DepositDesc = desc
	}
	reserveNode := false
	for _, spec := range d.cfg.Lnd.Nodes {
		if n, err := parseLndNode(spec); err == nil && n.Name == lc.Name {
			reserveNode = true
		}
	}
	if !reserveNode {
		d.log.Warn("the payments lnd is not a reserve node (--lnd.node): Lightning deposits are credited only if other reserves back them",
			"node", lc.Name)
	}
	// The macaroon's permissions are written in it: one that lacks any the
	// service needs is refused here, whether or not lnd is up.
	mac, err := lndconn.ReadMacaroon(lc.MacaroonPath)
	if err != nil {
		return nil, fmt.Errorf("--payments.lnd %s: %w", lc.Name, err)
	}
	if err := payments.CheckMacaroon(mac.Bytes()); err != nil {
		return nil, fmt.Errorf("--payments.lnd %s: macaroon %s: %w", lc.Name, lc.MacaroonPath, err)
	}
	cfg.Macaroon = mac.Bytes()
	conn, err := lndconn.Dial(lc, mac, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("--payments.lnd %s: %w", lc.Name, err)
	}
	d.closers = append(d.closers, conn.Close)
	svc := payments.New(d.db, d.ledger, conn.Lightning, conn.Router, cfg)
	// Whether lnd accepts the macaroon only lnd can say: if it answers now,
	// a refusal stops koshd here; if not, the service asks again until it
	// does, and refuses deposits and redemptions once lnd has refused.
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	switch err := svc.CheckLnd(ctx); {
	case errors.Is(err, payments.ErrMisconfigured):
		return nil, fmt.Errorf("--payments.lnd %s: %w", lc.Name, err)
	case err != nil:
		d.log.Warn("payments lnd not reachable yet; deposits and redemptions wait for it", "node", lc.Name, "err", err)
	default:
		d.log.Info("payments lnd reachable; its macaroon is accepted", "node", lc.Name)
	}
	svc.Start()
	d.closers = append(d.closers, func() error { svc.Stop(); return nil })
	d.metrics.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_deposits_credited_total",
			Help: "Deposits (Lightning invoices and on-chain outputs) credited since start."},
			func() float64 { return float64(svc.Stats().DepositsCredited) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_redemptions_paid_total",
			Help: "Redemptions paid out since start."},
			func() float64 { return float64(svc.Stats().RedemptionsPaid) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_redemptions_refunded_total",
			Help: "Redemptions whose payout failed and that were refunded, since start."},
			func() float64 { return float64(svc.Stats().RedemptionsRefunded) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_deposits_reorged_total",
			Help: "Credited on-chain deposit outputs found reorganised out of the chain since start."},
			func() float64 { return float64(svc.Stats().ReorgedDeposits) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kosh_payments_flagged_deposit_outputs",
			Help: "Credited on-chain deposit outputs currently reorganised out (ListFlaggedDeposits); anything above 0 needs the issuer."},
			func() float64 { return float64(svc.Stats().FlaggedOutputs) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kosh_payments_onchain_scan_height",
			Help: "Chain height the last completed on-chain deposit scan evaluated (0: none yet)."},
			func() float64 { return float64(svc.Stats().ScanHeight) }),
	)
	return svc, nil
}

// parsePolicies parses --payments.policy values.
func parsePolicies(specs []string) (map[string]payments.Policy, payments.Policy, error) {
	out := map[string]payments.Policy{}
	var def payments.Policy
	for _, spec := range specs {
		asset, rest, ok := strings.Cut(spec, ":")
		if !ok {
			return nil, def, fmt.Errorf("--payments.policy %q: want ASSET:min=SATS,max=SATS,daily=SATS", spec)
		}
		if asset != "*" {
			if err := ledger.ValidateAssetCode(asset); err != nil {
				return nil, def, fmt.Errorf("--payments.policy %q: %w", spec, err)
			}
		}
		var p payments.Policy
		for _, kv := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if !ok || err != nil || n < 0 {
				return nil, def, fmt.Errorf("--payments.policy %q: %q is not key=non-negative sats", spec, kv)
			}
			switch k {
			case "min":
				p.Min = n
			case "max":
				p.Max = n
			case "daily":
				p.Daily = n
			default:
				return nil, def, fmt.Errorf("--payments.policy %q: unknown key %q (want min, max, daily)", spec, k)
			}
		}
		if p.Max > 0 && p.Min > p.Max {
			return nil, def, fmt.Errorf("--payments.policy %q: min %d is above max %d", spec, p.Min, p.Max)
		}
		if asset == "*" {
			def = p
		} else {
			out[asset] = p
		}
	}
	return out, def, nil
}
