package chain

import (
	"errors"
	"fmt"
	"os"

	"github.com/btcsuite/btcd/rpcclient"
)

// Backend names a chain backend.
type Backend string

// Supported backends.
const (
	Btcd     Backend = "btcd"
	Bitcoind Backend = "bitcoind"
)

// ClientConfig locates the chain backend's RPC server.
type ClientConfig struct {
	Backend Backend
	Host    string // host:port
	User    string
	Pass    string
	// CertPath is btcd's rpc.cert. bitcoind speaks plain HTTP (keep it on
	// loopback or tunnel it).
	CertPath string
}

// Dial returns an rpcclient for the backend without waiting for it to be
// reachable: btcd over the websocket (btcd closes the connection after every
// HTTP POST reply, so POST would pay a TLS handshake per call), bitcoind over
// HTTP POST with keep-alive. The websocket client reconnects by itself.
func Dial(cfg ClientConfig) (*rpcclient.Client, error) {
	cc := &rpcclient.ConnConfig{Host: cfg.Host, User: cfg.User, Pass: cfg.Pass}
	switch cfg.Backend {
	case Btcd:
		cc.Endpoint = "ws"
		cc.DisableConnectOnNew = true
		if cfg.CertPath == "" {
			return nil, errors.New("chain backend btcd needs --chain.rpccert (btcd's rpc.cert)")
		}
		cert, err := os.ReadFile(cfg.CertPath)
		if err != nil {
			return nil, fmt.Errorf("read btcd rpc cert: %w", err)
		}
		cc.Certificates = cert
	case Bitcoind:
		cc.HTTPPostMode = true
		cc.DisableTLS = true
	default:
		return nil, fmt.Errorf("unknown chain backend %q (want btcd or bitcoind)", cfg.Backend)
	}
	c, err := rpcclient.New(cc, nil)
	if err != nil {
		return nil, fmt.Errorf("chain backend %s at %s: %w", cfg.Backend, cfg.Host, err)
	}
	return c, nil
}
