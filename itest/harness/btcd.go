package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/btcsuite/btcd/rpcclient"
	"github.com/kosh-reserve/kosh/itest/harness/proc"
)

// BtcdInfo is what a client needs to reach the harness's btcd.
type BtcdInfo struct {
	// RPCAddr is btcd's JSON-RPC (and websocket) listener, 127.0.0.1:port.
	RPCAddr string
	// P2PAddr is btcd's peer-to-peer listener, 127.0.0.1:port.
	P2PAddr string
	// RPCUser and RPCPass authenticate RPC clients.
	RPCUser, RPCPass string
	// CertPath is btcd's self-signed RPC TLS certificate.
	CertPath string
	// Dir is btcd's working directory (data, logs, certificate).
	Dir string
}

// Btcd describes the running btcd.
func (h *Harness) Btcd() BtcdInfo {
	return BtcdInfo{
		RPCAddr: h.rpcAddr, P2PAddr: h.p2pAddr,
		RPCUser: h.rpcUser, RPCPass: h.rpcPass,
		CertPath: h.rpcCert, Dir: h.btcdDir,
	}
}

// Client is the harness's rpcclient connected to btcd over the websocket.
// Tests may use it for any chain query.
func (h *Harness) Client() *rpcclient.Client { return h.client }

// RPCConfig returns a fresh rpcclient configuration for btcd (websocket mode),
// for code under test that opens its own connection.
func (h *Harness) RPCConfig() (*rpcclient.ConnConfig, error) {
	cert, err := os.ReadFile(h.rpcCert)
	if err != nil {
		return nil, fmt.Errorf("read btcd rpc cert: %w", err)
	}
	return &rpcclient.ConnConfig{
		Host:                 h.rpcAddr,
		Endpoint:             "ws",
		User:                 h.rpcUser,
		Pass:                 h.rpcPass,
		Certificates:         cert,
		DisableAutoReconnect: true,
	}, nil
}

func (h *Harness) startBtcd(ctx context.Context) error {
	addrs, err := proc.FreeAddrs(2)
	if err != nil {
		return err
	}
	h.rpcAddr, h.p2pAddr = addrs[0], addrs[1]
	h.btcdDir = filepath.Join(h.dir, "btcd")
	if err := os.MkdirAll(h.btcdDir, 0o700); err != nil {
		return fmt.Errorf("make btcd dir: %w", err)
	}
	h.rpcUser, h.rpcPass = "kosh", randomHex(16)
	h.rpcCert = filepath.Join(h.btcdDir, "rpc.cert")
	args := []string{
		"--regtest",
		"--datadir=" + filepath.Join(h.btcdDir, "data"),
		"--logdir=" + filepath.Join(h.btcdDir, "logs"),
		"--rpccert=" + h.rpcCert,
		"--rpckey=" + filepath.Join(h.btcdDir, "rpc.key"),
		"--rpcuser=" + h.rpcUser,
		"--rpcpass=" + h.rpcPass,
		"--rpclisten=" + h.rpcAddr,
		"--listen=" + h.p2pAddr,
		"--txindex",
		"--miningaddr=" + h.minerKey.Addr.EncodeAddress(),
		"--debuglevel=info",
		"--nobanning",
		// Every lnd node holds a few websockets (chain notifier, wallet,
		// fee estimator); the defaults (25/10) run out with many nodes.
		"--rpcmaxwebsockets=500",
		"--rpcmaxclients=100",
		"--rpcmaxconcurrentreqs=100",
	}
	args = append(args, h.cfg.BtcdArgs...)
	h.btcd = &proc.Process{
		Name:    "btcd",
		Bin:     h.btcdBinary,
		Args:    args,
		LogPath: filepath.Join(h.btcdDir, "btcd.stdout.log"),
	}
	if err := h.btcd.Start(); err != nil {
		return err
	}

	// btcd writes rpc.cert before it listens; retry until the websocket
	// handshake and one call succeed.
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var lastErr error
	for {
		select {
		case <-h.btcd.Exited():
			return fmt.Errorf("btcd exited during start-up; log %s:\n%s",
				h.btcd.LogPath, proc.TailFile(h.btcd.LogPath, 4000))
		case <-ctx.Done():
			return fmt.Errorf("btcd rpc on %s not answering: %w (last error: %v)", h.rpcAddr, ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := os.Stat(h.rpcCert); err != nil {
			lastErr = err
			continue
		}
		cfg, err := h.RPCConfig()
		if err != nil {
			lastErr = err
			continue
		}
		client, err := rpcclient.New(cfg, nil)
		if err != nil {
			lastErr = err
			continue
		}
		if _, err := client.GetBlockCount(); err != nil {
			lastErr = err
			client.Shutdown()
			client.WaitForShutdown()
			continue
		}
		h.client = client
		return nil
	}
}

// checkSegwitActive verifies the initial chain is long enough for lnd.
func (h *Harness) checkSegwitActive() error {
	info, err := h.client.GetBlockChainInfo()
	if err != nil {
		return fmt.Errorf("getblockchaininfo: %w", err)
	}
	if info.SoftForks != nil {
		if sw, ok := info.SoftForks.Bip9SoftForks["segwit"]; ok && !strings.EqualFold(sw.Status, "active") {
			return fmt.Errorf("segwit is %q at height %d, want active", sw.Status, info.Blocks)
		}
	}
	return nil
}
