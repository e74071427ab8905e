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

// anchoring is the anchor runner with its store, as rpcserver.Anchors.
type anchoring struct {
	*anchorer.Runner
	store *anchordb.Store
}

// List pages through the stored anchors.
func (a anchoring) List(ctx context.Context, before int64, limit int) ([]anchorer.Record, error) {
	return a.store.List(ctx, before, limit)
}

// startAnchoring starts anchoring the attestation chain when --anchor.lnd
// is set (nil otherwise).
func (d *Daemon) startAnchoring(att *attestor.Service) (*anchoring, error) {
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
	st := anchordb.New(d.db)
	a := anchorer.New(anchorer.Config{Store: st, Wallet: conn.Wallet, Attestations: att,
		IssuerKey: [32]byte(schnorr.SerializePubKey(d.issuerKey.PubKey())), Params: params,
		SatPerVbyte: cfg.SatPerVbyte, MinConf: cfg.MinConf, Bump: cfg.Bump(), Fault: cfg.Fault, Log: log})
	run, err := anchorer.NewRunner(a, cfg.ActiveSchedules(), cfg.Poll, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	run.Start(d.ctx)
	d.closers = append(d.closers, func() error { run.Stop(); return conn.Close() })
	log.Info("anchoring the attestation chain", "lnd", node.Name, "schedules", cfg.ActiveSchedules(),
		"sat_per_vbyte", cfg.SatPerVbyte)
	return &anchoring{Runner: run, store: st}, nil
}
