package lndnode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/kosh-reserve/kosh/itest/harness/proc"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// StartTimeout bounds one lnd start (wallet creation, chain sync).
const StartTimeout = 90 * time.Second

// Node is one running lnd on regtest, bound to 127.0.0.1.
type Node struct {
	// Name is the node's alias and directory name.
	Name string
	// Dir is the node's --lnddir.
	Dir string
	// RPCAddr, RESTAddr and P2PAddr are its listeners (127.0.0.1:port).
	RPCAddr, RESTAddr, P2PAddr string
	// TLSCertPath is lnd's self-signed TLS certificate.
	TLSCertPath string
	// AdminMacaroonPath and ReadonlyMacaroonPath are lnd's macaroons.
	AdminMacaroonPath, ReadonlyMacaroonPath string
	// PubKey is the node's identity key, hex encoded.
	PubKey string

	// LN and Router are clients on a gRPC connection authenticated with
	// the admin macaroon, as lncli makes it. They are replaced on Restart.
	LN     lnrpc.LightningClient
	Router routerrpc.RouterClient
	// Wallet is lnd's wallet kit (walletrpc) on the same connection.
	Wallet walletrpc.WalletKitClient

	bestHeight func() (int32, error)
	proc       *proc.Process
	mu         sync.Mutex
	conn       *grpc.ClientConn
	state      lnrpc.StateClient
}

// LogPath is lnd's own log file.
func (n *Node) LogPath() string {
	return filepath.Join(n.Dir, "logs", "bitcoin", "regtest", "lnd.log")
}

// String is the node's name.
func (n *Node) String() string { return n.Name }

// Running reports whether the lnd process is up.
func (n *Node) Running() bool { return n.proc.Running() }

// Config says how to start one lnd node against a btcd node.
type Config struct {
	// Name is the node's alias; its directory is a fresh one under Parent.
	Name string
	// Parent is the directory the node's --lnddir is made in.
	Parent string
	// Bin is the lnd executable.
	Bin string
	// BtcdRPCAddr, BtcdRPCUser, BtcdRPCPass and BtcdRPCCert reach the btcd
	// node lnd uses as its chain backend.
	BtcdRPCAddr, BtcdRPCUser, BtcdRPCPass, BtcdRPCCert string
	// Args are extra lnd flags, appended after the defaults.
	Args []string
	// BestHeight returns the chain backend's tip height; a start waits until
	// lnd is synced to it.
	BestHeight func() (int32, error)
}

// New prepares a node: its directory, free 127.0.0.1 listeners and its
// command line. It does not start lnd; StartContext or Start does.
func New(cfg Config) (*Node, error) {
	addrs, err := proc.FreeAddrs(3)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Parent, "lnd-"+cfg.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("make lnd dir: %w", err)
	}
	chainDir := filepath.Join(dir, "data", "chain", "bitcoin", "regtest")
	n := &Node{
		Name:                 cfg.Name,
		Dir:                  dir,
		RPCAddr:              addrs[0],
		RESTAddr:             addrs[1],
		P2PAddr:              addrs[2],
		TLSCertPath:          filepath.Join(dir, "tls.cert"),
		AdminMacaroonPath:    filepath.Join(chainDir, "admin.macaroon"),
		ReadonlyMacaroonPath: filepath.Join(chainDir, "readonly.macaroon"),
		bestHeight:           cfg.BestHeight,
	}
	args := []string{
		"--lnddir=" + dir,
		"--alias=" + cfg.Name,
		"--noseedbackup",
		"--nobootstrap",
		"--bitcoin.regtest",
		"--bitcoin.node=btcd",
		"--btcd.rpchost=" + cfg.BtcdRPCAddr,
		"--btcd.rpcuser=" + cfg.BtcdRPCUser,
		"--btcd.rpcpass=" + cfg.BtcdRPCPass,
		"--btcd.rpccert=" + cfg.BtcdRPCCert,
		"--rpclisten=" + n.RPCAddr,
		"--restlisten=" + n.RESTAddr,
		"--listen=" + n.P2PAddr,
		"--debuglevel=info",
		"--trickledelay=50",
		// One confirmation makes a channel usable (regtest only).
		"--bitcoin.defaultchanconfs=1",
		"--accept-keysend",
		"--protocol.wumbo-channels",
		"--maxpendingchannels=10",
		// Flush the channel db quickly, as lnd's own itests do.
		"--db.batch-commit-interval=10ms",
	}
	args = append(args, cfg.Args...)
	n.proc = &proc.Process{
		Name:    "lnd-" + cfg.Name,
		Bin:     cfg.Bin,
		Args:    args,
		LogPath: filepath.Join(dir, "lnd.stdout.log"),
	}
	return n, nil
}

// StdoutLogPath is the file lnd's stdout and stderr go to.
func (n *Node) StdoutLogPath() string { return n.proc.LogPath }

// StartContext launches lnd and waits until it answers GetInfo synced to chain at
// btcd's height.
func (n *Node) StartContext(ctx context.Context) error {
	if err := n.proc.Start(); err != nil {
		return err
	}
	if err := n.waitReady(ctx); err != nil {
		return fmt.Errorf("lnd %s (logs %s, %s): %w", n.Name, n.proc.LogPath, n.LogPath(), err)
	}
	return nil
}

func (n *Node) waitReady(ctx context.Context) error {
	exited := n.proc.Exited()
	var lastErr error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return fmt.Errorf("exited during start-up:\n%s", proc.TailFile(n.proc.LogPath, 3000))
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last: %v)", ctx.Err(), lastErr)
		case <-tick.C:
		}
		if !n.connected() {
			if err := n.dial(); err != nil {
				lastErr = err
				continue
			}
		}
		// Ask the State service first: GetInfo before the server is
		// active is answered with an error that lnd logs at ERR level.
		st, err := n.state.GetState(ctx, &lnrpc.GetStateRequest{})
		if err != nil {
			lastErr = err
			continue
		}
		if st.State != lnrpc.WalletState_SERVER_ACTIVE {
			lastErr = fmt.Errorf("state %s", st.State)
			continue
		}
		info, err := n.LN.GetInfo(ctx, &lnrpc.GetInfoRequest{})
		if err != nil {
			lastErr = err
			if strings.Contains(err.Error(), "macaroon") {
				// Read while lnd was still writing it: read it again.
				n.closeConn()
			}
			continue
		}
		height, err := n.bestHeight()
		if err != nil {
			return fmt.Errorf("btcd best block: %w", err)
		}
		if !info.SyncedToChain || int32(info.BlockHeight) != height {
			lastErr = fmt.Errorf("synced_to_chain=%v height %d, btcd at %d", info.SyncedToChain, info.BlockHeight, height)
			continue
		}
		n.PubKey = info.IdentityPubkey
		return nil
	}
}

// dial connects LN and Router once lnd has written its certificate and
// admin macaroon.
func (n *Node) dial() error {
	certPEM, err := os.ReadFile(n.TLSCertPath)
	if err != nil {
		return fmt.Errorf("read tls cert: %w", err)
	}
	mac, err := os.ReadFile(n.AdminMacaroonPath)
	if err != nil {
		return fmt.Errorf("read admin macaroon: %w", err)
	}
	if len(mac) == 0 {
		// lnd creates the file before it writes it.
		return errors.New("admin macaroon not written yet")
	}
	conn, err := dialLnd(n.RPCAddr, certPEM, mac)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.conn = conn
	n.LN = lnrpc.NewLightningClient(conn)
	n.Router = routerrpc.NewRouterClient(conn)
	n.Wallet = walletrpc.NewWalletKitClient(conn)
	n.state = lnrpc.NewStateClient(conn)
	n.mu.Unlock()
	return nil
}

// dialLnd opens a gRPC connection to lnd as lncli does: TLS pinned to lnd's
// certificate, and the macaroon (hex) in every call's metadata.
func dialLnd(addr string, certPEM, macaroon []byte) (*grpc.ClientConn, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		return nil, errors.New("lnd tls.cert: no PEM certificate")
	}
	creds := credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(lndconn.NewMacaroon(macaroon)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
	)
	if err != nil {
		return nil, fmt.Errorf("grpc dial %s: %w", addr, err)
	}
	return conn, nil
}

func (n *Node) connected() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.conn != nil
}

func (n *Node) closeConn() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn != nil {
		n.conn.Close()
		n.conn = nil
	}
}

// Shutdown stops lnd gracefully (SIGINT), killing it after 20 s.
func (n *Node) Shutdown() error {
	n.closeConn()
	return n.proc.Stop(20 * time.Second)
}

// Stop shuts lnd down gracefully and waits for it to exit.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	if err := n.Shutdown(); err != nil {
		t.Fatalf("stop lnd %s: %v", n.Name, err)
	}
}

// Kill ends lnd with SIGKILL, as a crash would.
func (n *Node) Kill(t testing.TB) {
	t.Helper()
	n.closeConn()
	if err := n.proc.Kill(); err != nil {
		t.Fatalf("kill lnd %s: %v", n.Name, err)
	}
}

// Start starts a stopped or killed node again with the same directory, ports
// and flags, and waits until it is synced; LN and Router are reconnected.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), StartTimeout)
	defer cancel()
	t0 := time.Now()
	if err := n.StartContext(ctx); err != nil {
		t.Fatalf("start lnd %s: %v", n.Name, err)
	}
	t.Logf("harness: lnd %s up again in %s", n.Name, time.Since(t0).Round(time.Millisecond))
}

// Restart stops the node gracefully (if running) and starts it again.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.Stop(t)
	n.Start(t)
}

// ConfirmedBalance returns the node's confirmed on-chain wallet balance.
func (n *Node) ConfirmedBalance(t testing.TB) int64 {
	t.Helper()
	res, err := n.LN.WalletBalance(t.Context(), &lnrpc.WalletBalanceRequest{})
	if err != nil {
		t.Fatalf("lnd %s: wallet balance: %v", n.Name, err)
	}
	return res.ConfirmedBalance
}

// NewAddress returns a fresh P2WPKH address of the node's wallet.
func (n *Node) NewAddress(t testing.TB) string {
	t.Helper()
	res, err := n.LN.NewAddress(t.Context(), &lnrpc.NewAddressRequest{Type: lnrpc.AddressType_WITNESS_PUBKEY_HASH})
	if err != nil {
		t.Fatalf("lnd %s: new address: %v", n.Name, err)
	}
	return res.Address
}

// ChanPointString formats a channel point as "txid:index".
func ChanPointString(cp *lnrpc.ChannelPoint) string {
	var txid chainhash.Hash
	switch f := cp.FundingTxid.(type) {
	case *lnrpc.ChannelPoint_FundingTxidBytes:
		copy(txid[:], f.FundingTxidBytes)
	case *lnrpc.ChannelPoint_FundingTxidStr:
		h, err := chainhash.NewHashFromStr(f.FundingTxidStr)
		if err != nil {
			return "invalid:" + f.FundingTxidStr
		}
		txid = *h
	}
	return fmt.Sprintf("%s:%d", txid, cp.OutputIndex)
}

// FundingTxid returns the channel point's funding transaction id.
func FundingTxid(cp *lnrpc.ChannelPoint) *chainhash.Hash {
	h, _ := chainhash.NewHashFromStr(strings.Split(ChanPointString(cp), ":")[0])
	return h
}

// Channel returns n's view of the channel at point, failing if absent.
func (n *Node) Channel(t testing.TB, cp *lnrpc.ChannelPoint) *lnrpc.Channel {
	t.Helper()
	point := ChanPointString(cp)
	res, err := n.LN.ListChannels(t.Context(), &lnrpc.ListChannelsRequest{})
	if err != nil {
		t.Fatalf("lnd %s: list channels: %v", n.Name, err)
	}
	for _, c := range res.Channels {
		if c.ChannelPoint == point {
			return c
		}
	}
	t.Fatalf("lnd %s has no channel %s", n.Name, point)
	return nil
}

// AddInvoice adds an invoice of sats on n and returns its BOLT11 string.
func (n *Node) AddInvoice(t testing.TB, sats int64, memo string) string {
	t.Helper()
	res, err := n.LN.AddInvoice(t.Context(), &lnrpc.Invoice{Value: sats, Memo: memo})
	if err != nil {
		t.Fatalf("lnd %s: add invoice: %v", n.Name, err)
	}
	return res.PaymentRequest
}
