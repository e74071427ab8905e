package chain

import (
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// Options is the [chain] option group: the on-chain reserve source.
type Options struct {
	Backend      string        `long:"backend" description:"Chain backend to watch reserves with: btcd or bitcoind (empty: no on-chain source)"`
	RPCHost      string        `long:"rpchost" description:"Backend RPC host:port"`
	RPCUser      string        `long:"rpcuser" description:"Backend RPC user"`
	RPCPass      string        `long:"rpcpass" description:"Backend RPC password"`
	RPCCert      string        `long:"rpccert" description:"btcd's rpc.cert (btcd only)"`
	Descriptors  []string      `long:"descriptor" description:"Output descriptor holding reserves, with its #checksum (repeatable): addr(), wpkh(), tr(), wsh(sortedmulti())"`
	GapLimit     int           `long:"gaplimit" description:"Unused addresses watched past the last used one, per ranged descriptor"`
	Birthday     int64         `long:"birthday" description:"First block height that can hold reserve outputs"`
	MinConf      int64         `long:"minconf" description:"Confirmations an output needs to count as reserves"`
	ProofMaxAge  int64         `long:"proofmaxage" description:"Blocks a proof of control stays good for: an output proven at block X counts until block X+proofmaxage (while unspent); then it needs a new proof (koshcli exportproof / importproof)"`
	PollInterval time.Duration `long:"pollinterval" description:"How often to poll the best block hash"`
	MaxAge       time.Duration `long:"maxage" description:"After this long without a successful sync the chain source is stale and minting stops"`
}

// DefaultOptions returns the [chain] defaults; proofMaxAge is the
// default life of a proof of control, in blocks.
func DefaultOptions(proofMaxAge int64) Options {
	return Options{GapLimit: 100, MinConf: 6, ProofMaxAge: proofMaxAge, PollInterval: 500 * time.Millisecond,
		MaxAge: 2 * time.Minute}
}

// Validate checks the [chain] options that need no network.
func (o Options) Validate() error {
	switch o.Backend {
	case "", "btcd", "bitcoind":
	default:
		return fmt.Errorf("--chain.backend %q: want btcd or bitcoind", o.Backend)
	}
	if o.Backend == "" && len(o.Descriptors) > 0 {
		return errors.New("--chain.descriptor is set but --chain.backend is not: say which node to watch the chain with")
	}
	if o.ProofMaxAge < 1 {
		return fmt.Errorf("--chain.proofmaxage %d must be at least 1 block", o.ProofMaxAge)
	}
	if o.MinConf < 1 || o.GapLimit < 1 || o.GapLimit > 100_000 {
		return fmt.Errorf("--chain.minconf must be at least 1 and --chain.gaplimit 1 to 100000")
	}
	return nil
}

// Watched parses the reserve descriptors for params, each with its
// checksum, into what the watcher watches.
func (o Options) Watched(params *chaincfg.Params) ([]Watched, error) {
	var watched []Watched
	for _, s := range o.Descriptors {
		desc, err := descriptor.Parse(s, params)
		if err != nil {
			return nil, fmt.Errorf("--chain.descriptor %q: %w", s, err)
		}
		if !desc.HasChecksum() {
			return nil, fmt.Errorf("--chain.descriptor %q has no checksum; if it is the descriptor you mean, use %s",
				s, descriptor.AddChecksum(s))
		}
		watched = append(watched, Watched{Desc: desc, Gap: o.GapLimit})
	}
	return watched, nil
}
