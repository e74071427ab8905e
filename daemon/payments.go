package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/monitoring"
	"github.com/kosh-reserve/kosh/payments"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/store/paymentdb"
)

// startPayments builds the payments service if --payments.lnd is set
// (nil if not), starts it and registers its metrics. Fiat-pegged
// redemptions are paid at att's newest attested price.
func (d *Daemon) startPayments(att *attestor.Service) (*payments.Service, error) {
	pc := d.cfg.Payments
	params, err := d.cfg.ChainParams()
	if err != nil {
		return nil, err
	}
	parsed, err := pc.Parse(params, d.cfg.Chain.Descriptors)
	if err != nil || !parsed.Enabled {
		return nil, err
	}
	lc := parsed.Node
	cfg := payments.Config{Net: params, MinConf: pc.MinConf, DepositGap: int64(d.cfg.Chain.GapLimit),
		InvoiceExpiry: pc.InvoiceExpiry, PayTimeout: pc.PayTimeout, OnchainVbytes: pc.OnchainVbytes,
		MaxSatPerVbyte: pc.MaxSatPerVbyte, Poll: pc.Poll, Fault: pc.Fault, Policies: parsed.Policies,
		Default: parsed.Default, DepositDesc: parsed.DepositDesc,
		AttestedPrice: attestedPrices(att), Log: d.log.With("subsystem", "payments")}
	if cfg.MinConf <= 0 {
		cfg.MinConf = d.cfg.Chain.MinConf
	}
	if !slices.ContainsFunc(d.reserveSvc.Lightning(), func(n *lightning.Source) bool { return n.Name() == lc.Name }) {
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
	svc := payments.New(paymentdb.New(d.db), d.ledger, conn.Lightning, conn.Router, cfg)
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
	// Crediting deposits and paying redemptions is the leader's: the
	// service's loops run in each tenure, their writes fenced by it. Any
	// koshd takes deposit and redemption requests.
	d.lead.add("payments", func(ctx context.Context, _ int64) (func(), error) {
		svc.Start(ctx)
		return svc.Stop, nil
	})
	d.metrics.Registry.MustRegister(monitoring.PaymentCollectors(svc.Stats)...)
	return svc, nil
}
