package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/btcsuite/btcd/rpcclient"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
	"github.com/kosh-reserve/kosh/store/reservedb"
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
		watched, err := cfg.Chain.Watched(params)
		if err != nil {
			return nil, err
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
		watcher = chain.New(client, chaindb.New(d.db), chain.Config{Descriptors: watched, Birthday: cfg.Chain.Birthday,
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
	nodes, err := cfg.Lnd.ParseNodes(reserve.ChainSourceName)
	if err != nil {
		return nil, err
	}
	for _, lc := range nodes {
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

// startReserves runs the reserve polling and the recorder in each tenure
// of this koshd's leadership (the leader's figures are the database's:
// the chain watcher's state, the snapshots, and on PostgreSQL the live
// picture every follower mirrors into its monitor, so that a follower
// refuses mints when the reserves are stale exactly as the leader would).
func (d *Daemon) startReserves() {
	log := d.log.With("subsystem", "reserve")
	snaps := reservedb.New(d.db)
	recorder := reserve.NewRecorder(snaps, d.reserves, reserve.RecorderConfig{Log: log})
	shared := d.db.Backend() == store.Postgres
	d.lead.add("reserves", func(ctx context.Context, token int64) (func(), error) {
		// Resume from the previous leader's chain state, not ours.
		if err := d.reserveSvc.Reload(ctx); err != nil {
			return nil, err
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); d.reserveSvc.Run(ctx) }()
		go func() { defer wg.Done(); recorder.Run(ctx) }()
		if shared {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reserve.PublishLive(ctx, snaps, d.reserves, d.reserveSvc, token, livePeriod, log)
			}()
		}
		return wg.Wait, nil
	})
	if shared {
		d.loops.Add(1)
		go func() {
			defer d.loops.Done()
			reserve.MirrorLive(d.ctx, snaps, d.reserves, d.reserveSvc, livePeriod, d.lead.leading, log)
		}()
	}
}

// livePeriod is how often the leader publishes its live reserve picture
// and the followers read it.
const livePeriod = time.Second
