package lndconn

import (
	"github.com/kosh-reserve/kosh/kvopt"
)

// Node names one lnd node as an option value gives it.
type Node struct {
	// Name identifies the node in logs and snapshots, e.g. "alice".
	Name string
	// Host is lnd's gRPC host:port.
	Host string
	// TLSCertPath is lnd's tls.cert.
	TLSCertPath string
	// MacaroonPath is the macaroon sent with every call.
	MacaroonPath string
}

// nodeKeys are the keys every node value has, all required.
var nodeKeys = []string{"name", "host", "tlscert", "macaroon"}

// ParseNode parses spec, the value of the option flag (e.g. "--lnd.node"):
// name, host, tlscert and macaroon, all required, and the optional keys
// extra, which the caller reads from the fields returned. A value missing a
// required key is refused with example, a complete value to copy.
func ParseNode(flag, spec, example string, extra ...string) (Node, *kvopt.Fields, error) {
	f, err := kvopt.Parse(flag, spec, append(append([]string{}, nodeKeys...), extra...)...)
	if err != nil {
		return Node{}, nil, err
	}
	if err := f.Require(example, nodeKeys...); err != nil {
		return Node{}, nil, err
	}
	return Node{Name: f.String("name"), Host: f.String("host"), TLSCertPath: f.String("tlscert"),
		MacaroonPath: f.String("macaroon")}, f, nil
}
