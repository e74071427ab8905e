package lightning

import (
	"fmt"
	"time"
)

// Options is the [lnd] option group: the Lightning reserve sources.
type Options struct {
	Nodes        []string      `long:"node" description:"An lnd node holding reserves (repeatable): name=alice,host=127.0.0.1:10009,tlscert=/path/tls.cert,macaroon=/path/readonly.macaroon[,signmacaroon=/path/with-message-write.macaroon, to have the node sign attestations][,proofmacaroon=/path/finalizepsbt.macaroon, to have the node prove control of its wallet outputs: without it they do not count]"`
	CountClaimed bool          `long:"countclaimed" description:"Count claimed channels (private, or not yet announced: nothing shows a third party they are the node's) toward reserves; off by default, they are shown apart as claims"`
	PollInterval time.Duration `long:"pollinterval" description:"How often to poll each node"`
	MaxAge       time.Duration `long:"maxage" description:"After this long without a successful poll a node is stale and minting stops"`
}

// DefaultOptions returns the [lnd] defaults.
func DefaultOptions() Options {
	return Options{PollInterval: 5 * time.Second, MaxAge: 2 * time.Minute}
}

// ParseNodes parses every --lnd.node value; reserved is a name no node may
// take (the chain source's).
func (o Options) ParseNodes(reserved string) ([]Config, error) {
	out := make([]Config, 0, len(o.Nodes))
	for _, spec := range o.Nodes {
		c, err := ParseNode(spec)
		if err != nil {
			return nil, err
		}
		if c.Name == reserved {
			return nil, fmt.Errorf("--lnd.node name %q is reserved for the chain source", c.Name)
		}
		out = append(out, c)
	}
	return out, nil
}

// Validate checks the [lnd] options.
func (o Options) Validate(reserved string) error {
	_, err := o.ParseNodes(reserved)
	return err
}
