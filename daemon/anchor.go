package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/kosh-reserve/kosh/anchorer"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/store/anchordb"
)

// startAnchoring starts anchoring the attestation chain when --anchor.lnd
// is set (nil otherwise).
func (d *Daemon) startAnchoring(att *attestor.Service) (*leaderAnchors, error) {
	cfg := d.cfg.Anchor
	if !cfg.Enabled() {
		return nil, nil
	}
	node, err := cfg.Node()
	if err != nil {
		return nil, err
	}
	mac, err := lndconn.ReadMacaroon(node.MacaroonPath)
	if err != nil {
		return nil, fmt.Errorf("--anchor.lnd %s: %w", node.Name, err)
	}
	if err := anchorer.CheckMacaroon(mac); err != nil {
		return nil, fmt.Errorf("--anchor.lnd %s: macaroon %s: %w", node.Name, node.MacaroonPath, err)
	}
	conn, err := lndconn.Dial(node, mac, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("--anchor.lnd %s: %w", node.Name, err)
	}
	params, err := d.cfg.ChainParams()
	if err != nil {
		conn.Close()
		return nil, err
	}
	log := d.log.With("subsystem", "anchor")
	a := anchorer.New(anchorer.Config{Store: anchordb.New(d.db), Wallet: conn.Wallet, Attestations: att,
		IssuerKey: [32]byte(schnorr.SerializePubKey(d.issuerKey.PubKey())), Params: params,
		SatPerVbyte: cfg.SatPerVbyte, MinConf: cfg.MinConf, Bump: cfg.Bump(), Fault: cfg.Fault, Log: log})
	run, err := anchorer.NewRunner(a, cfg.ActiveSchedules(), cfg.Poll, d.metrics.Registry, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	// Anchoring is the leader's: the schedules run in each tenure.
	d.lead.add("anchors", func(ctx context.Context, _ int64) (func(), error) {
		run.Start(ctx)
		return run.Stop, nil
	})
	d.closers = append(d.closers, conn.Close)
	log.Info("anchoring the attestation chain", "lnd", node.Name, "schedules", cfg.ActiveSchedules(),
		"sat_per_vbyte", cfg.SatPerVbyte)
	return &leaderAnchors{Runner: run, lead: d.lead}, nil
}

// leaderAnchors serves Anchor on the leader only, fenced by its tenure;
// a follower refuses it naming the leader.
type leaderAnchors struct {
	*anchorer.Runner
	lead *leadership
}

// Anchor makes an anchor now if this koshd leads.
func (a *leaderAnchors) Anchor(ctx context.Context) (anchorer.Record, error) {
	fctx, err := a.lead.fenced(ctx)
	if err != nil {
		return anchorer.Record{}, err
	}
	return a.Runner.Anchor(fctx)
}
