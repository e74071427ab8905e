package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/payments"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/store/anchordb"
	"github.com/kosh-reserve/kosh/store/attestdb"
)

// AttestDir is where attestation files are written.
func (c *Config) AttestDir() string {
	if c.Attest.Dir != "" {
		return c.Attest.Dir
	}
	return filepath.Join(c.NetworkDir(), "attestations")
}

// AttestKeyPath is the issuer's attestation key file.
func (c *Config) AttestKeyPath() string {
	if c.Attest.KeyFile != "" {
		return c.Attest.KeyFile
	}
	return filepath.Join(c.NetworkDir(), "attestation.key")
}

// startAttestations builds the attestation service and starts its
// schedules.
func (d *Daemon) startAttestations() (*leaderAttestations, error) {
	var nodes []attestor.NodeSigner
	for _, l := range d.reserveSvc.Lightning() {
		nodes = append(nodes, l)
	}
	log := d.log.With("subsystem", "attest")
	var anchors attestor.Anchors // nil unless anchoring is configured
	if d.cfg.Anchor.Enabled() {
		anchors = anchordb.New(d.db)
	}
	svc := attestor.New(attestor.Config{DB: attestdb.New(d.db), Ledger: d.ledger, Reserves: d.reserveSvc,
		Composer: attestor.DocComposer{Log: log}, Nodes: nodes, Key: d.issuerKey, Dir: d.cfg.AttestDir(),
		Tree:    attestor.TreeShape{Height: d.cfg.Attest.TreeHeight, Shares: d.cfg.Attest.Shares, Window: d.cfg.Attest.Window},
		History: d.ledger, MinConf: d.cfg.Chain.MinConf, CountClaimed: d.cfg.Lnd.CountClaimed,
		Anchors: anchors, Log: log})
	run, err := attestor.NewRunner(attestor.RunnerConfig{Service: svc, Schedules: d.cfg.Attest.ActiveSchedules(),
		Timeout: d.cfg.Attest.Timeout, Registerer: d.metrics.Registry, Log: log})
	if err != nil {
		return nil, err
	}
	// The schedules are the leader's: they start in each tenure, counting
	// the runs missed since the newest attestation (whoever made it), and
	// every write of theirs is fenced by the tenure, so that no seq is
	// published twice.
	d.lead.add("attestations", func(ctx context.Context, _ int64) (func(), error) {
		if err := run.Start(ctx); err != nil {
			return nil, err
		}
		return run.Stop, nil
	})
	log.Info("attestation files and key", "issuer_key", attest.IssuerKeyOf(d.issuerKey), "dir", d.cfg.AttestDir())
	return &leaderAttestations{Runner: run, lead: d.lead}, nil
}

// leaderAttestations serves Attest on the leader only, fenced by its
// tenure; a follower refuses it naming the leader.
type leaderAttestations struct {
	*attestor.Runner
	lead *leadership
}

// Attest makes an attestation now if this koshd leads.
func (a *leaderAttestations) Attest(ctx context.Context) (attestor.Published, error) {
	fctx, err := a.lead.fenced(ctx)
	if err != nil {
		return attestor.Published{}, err
	}
	return a.Runner.Attest(fctx)
}

// attestedPrices gives payments the prices of the newest attestation:
// what fiat-pegged redemptions are paid at.
func attestedPrices(att *attestor.Service) func(ctx context.Context, currency string) (payments.AttestedPrice, error) {
	return func(ctx context.Context, currency string) (payments.AttestedPrice, error) {
		if att == nil {
			return payments.AttestedPrice{}, errors.New("attestations are not running")
		}
		p, err := att.AttestedPrice(ctx, currency)
		if err != nil {
			return payments.AttestedPrice{}, err
		}
		return payments.AttestedPrice{Coefficient: p.Coefficient, Scale: p.Scale,
			Ref: fmt.Sprintf("%d %s", p.Seq, p.ID)}, nil
	}
}
