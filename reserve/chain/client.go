package chain

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire"
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
	// OnBlock, if set, is called (from the client's goroutine; it must not
	// block) when btcd announces a connected or disconnected block over the
	// websocket, so the watcher can sync at once instead of at its next
	// poll. Notifications only hint: the polled best block hash stays the
	// source of truth. bitcoind over POST sends none.
	OnBlock func()
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
	var handlers *rpcclient.NotificationHandlers
	if cfg.OnBlock != nil && cfg.Backend == Btcd {
		handlers = &rpcclient.NotificationHandlers{
			OnFilteredBlockConnected:    func(int32, *wire.BlockHeader, []*btcutil.Tx) { cfg.OnBlock() },
			OnFilteredBlockDisconnected: func(int32, *wire.BlockHeader) { cfg.OnBlock() },
		}
	}
	c, err := rpcclient.New(cc, handlers)
	if err != nil {
		return nil, fmt.Errorf("chain backend %s at %s: %w", cfg.Backend, cfg.Host, err)
	}
	return c, nil
}

// Connect connects a websocket client made by Dial to the backend at host,
// returning as soon as ctx ends. rpcclient's own Connect sleeps five
// seconds after a failed dial even when asked for one try, holding no
// context: called directly, an unreachable backend held koshd's shutdown
// for 15 s and more. So the backend is first probed with a plain TCP dial
// that ctx cancels, and rpcclient's Connect runs only when that succeeds
// (and is abandoned, not waited for, if ctx ends during it). A POST client
// (bitcoind) needs no connection and returns nil.
func Connect(ctx context.Context, c *rpcclient.Client, host string) error {
	dctx, cancel := context.WithTimeout(ctx, connectProbeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("chain backend at %s is unreachable: %w", host, err)
	}
	conn.Close()
	done := make(chan error, 1)
	go func() { done <- c.Connect(1) }()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, rpcclient.ErrClientAlreadyConnected) || errors.Is(err, rpcclient.ErrNotWebsocketClient) {
			return nil
		}
		return fmt.Errorf("connect to the chain backend at %s: %w", host, err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// connectProbeTimeout bounds the TCP probe of Connect.
const connectProbeTimeout = 10 * time.Second
