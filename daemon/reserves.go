package daemon

import (
	"fmt"

	"github.com/btcsuite/btcd/rpcclient"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/reserve/lightning"
)

// newReserveService builds the reserve sources the configuration names and
// the service that polls them into the monitor. With no source configured
// the service runs nothing and the monitor refuses every mint.
func (d *Daemon) newReserveService() (*reserve.Service, error) {
	cfg := d.cfg
	var (
		client  *rpcclient.Client
		watcher *chain.Watcher
		lnds    []*lightning.Source
		wake    = make(chan struct{}, 1)
	)
	if cfg.Chain.Backend != "" {
		params, err := cfg.ChainParams()
		if err != nil {
			return nil, err
		}
		var watched []chain.Watched
		for _, s := range cfg.Chain.Descriptors {
			desc, err := descriptor.Parse(s, params)
			if err != nil {
				return nil, fmt.Errorf("--chain.descriptor %q: %w", s, err)
			}
			if !desc.HasChecksum() {
				return nil, fmt.Errorf("--chain.descriptor %q has no checksum; if it is the descriptor you mean, use %s",
					s, descriptor.AddChecksum(s))
			}
			watched = append(watched, chain.Watched{Desc: desc, Gap: cfg.Chain.GapLimit})
		}
		if len(watched) == 0 {
			d.log.Warn("chain backend configured without descriptors: on-chain reserves are zero")
		}
		client, err = chain.Dial(chain.ClientConfig{Backend: chain.Backend(cfg.Chain.Backend), Host: cfg.Chain.RPCHost,
			User: cfg.Chain.RPCUser, Pass: cfg.Chain.RPCPass, CertPath: cfg.Chain.RPCCert,
			OnBlock: func() {
				select {
				case wake <- struct{}{}:
				default: // a sync is already due
				}
			}})
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() error { client.Shutdown(); client.WaitForShutdown(); return nil })
		watcher = chain.New(client, d.db, chain.Config{Descriptors: watched, Birthday: cfg.Chain.Birthday,
			MinConf: cfg.Chain.MinConf, Log: d.log.With("subsystem", "chain")})
		if err := watcher.Load(d.ctx); err != nil {
			return nil, err
		}
		height, hash, err := watcher.Tip(d.ctx)
		if err != nil {
			return nil, err
		}
		if hash == "" {
			d.log.Info("chain watcher starting at the birthday", "birthday", cfg.Chain.Birthday)
		} else {
			d.log.Info("chain watcher resuming from its saved tip", "height", height, "hash", hash)
		}
	}
	for _, spec := range cfg.Lnd.Nodes {
		lc, err := parseLndNode(spec)
		if err != nil {
			return nil, err
		}
		lc.MinConf = cfg.Chain.MinConf
		lc.Prover = d.proofs
		// Proofs commit to the chain watcher's tip, the block attestations
		// are made at.
		lc.ChallengeBlock = func() (int64, string, bool) {
			if d.reserveSvc == nil {
				return 0, "", false
			}
			snap, _ := d.reserveSvc.Details()
			return snap.Height, snap.Hash, snap.Hash != ""
		}
		src, err := lightning.Dial(lc, client)
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, src.Close)
		lnds = append(lnds, src)
	}
	return reserve.NewService(d.reserves, client, watcher, lnds, reserve.ServiceConfig{
		ChainPoll: cfg.Chain.PollInterval, ChainMaxAge: cfg.Chain.MaxAge,
		LNPoll: cfg.Lnd.PollInterval, LNMaxAge: cfg.Lnd.MaxAge, Wake: wake, ChainHost: cfg.Chain.RPCHost,
		Proofs: d.proofs, CountClaimed: cfg.Lnd.CountClaimed,
		Log: d.log.With("subsystem", "reserve"),
	}), nil
}

// parseLndNode parses an --lnd.node value (lightning.ParseNode), refusing
// the name of the chain source.
func parseLndNode(spec string) (lightning.Config, error) {
	c, err := lightning.ParseNode(spec)
	if err != nil {
		return c, err
	}
	if c.Name == reserve.ChainSourceName {
		return c, fmt.Errorf("--lnd.node name %q is reserved for the chain source", c.Name)
	}
	return c, nil
}
