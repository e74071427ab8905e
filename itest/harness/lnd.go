package harness

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

	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// lndStartTimeout bounds one lnd start (wallet creation, chain sync).
const lndStartTimeout = 90 * time.Second

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

	h     *Harness
	proc  *process
	mu    sync.Mutex
	conn  *grpc.ClientConn
	state lnrpc.StateClient
}

// LogPath is lnd's own log file.
func (n *Node) LogPath() string {
	return filepath.Join(n.Dir, "logs", "bitcoin", "regtest", "lnd.log")
}

// String is the node's name.
func (n *Node) String() string { return n.Name }

// Running reports whether the lnd process is up.
func (n *Node) Running() bool { return n.proc.running() }

// NewNode starts one lnd node; see NewNodes.
func (h *Harness) NewNode(t testing.TB, name string, extraArgs ...string) *Node {
	t.Helper()
	return h.newNodes(t, []string{name}, extraArgs)[0]
}

// NewNodes starts one lnd node per name, in parallel, and waits until each is
// synced to btcd's tip. The nodes are stopped at t.Cleanup (and on Close);
// their directories are removed then unless the test failed.
func (h *Harness) NewNodes(t testing.TB, names ...string) []*Node {
	t.Helper()
	return h.newNodes(t, names, nil)
}

func (h *Harness) newNodes(t testing.TB, names []string, extraArgs []string) []*Node {
	t.Helper()
	nodes := make([]*Node, len(names))
	for i, name := range names {
		n, err := h.prepareNode(name, extraArgs)
		if err != nil {
			t.Fatalf("prepare lnd %s: %v", name, err)
		}
		nodes[i] = n
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if t.Failed() {
				t.Logf("lnd %s logs: %s, %s", n.Name, n.proc.logPath, n.LogPath())
			}
		}
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				if err := n.shutdown(); err != nil {
					t.Errorf("stop lnd %s: %v", n.Name, err)
				}
			})
		}
		wg.Wait()
		if !t.Failed() {
			for _, n := range nodes {
				os.RemoveAll(n.Dir)
			}
		}
	})

	t0 := time.Now()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), lndStartTimeout)
			defer cancel()
			errs[i] = n.start(ctx)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("start lnd nodes: %v", err)
	}
	t.Logf("harness: started lnd %v in %s", names, time.Since(t0).Round(time.Millisecond))
	return nodes
}

func (h *Harness) prepareNode(name string, extraArgs []string) (*Node, error) {
	addrs, err := freeAddrs(3)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(h.dir, "lnd-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("make lnd dir: %w", err)
	}
	chainDir := filepath.Join(dir, "data", "chain", "bitcoin", "regtest")
	n := &Node{
		Name:                 name,
		Dir:                  dir,
		RPCAddr:              addrs[0],
		RESTAddr:             addrs[1],
		P2PAddr:              addrs[2],
		TLSCertPath:          filepath.Join(dir, "tls.cert"),
		AdminMacaroonPath:    filepath.Join(chainDir, "admin.macaroon"),
		ReadonlyMacaroonPath: filepath.Join(chainDir, "readonly.macaroon"),
		h:                    h,
	}
	args := []string{
		"--lnddir=" + dir,
		"--alias=" + name,
		"--noseedbackup",
		"--nobootstrap",
		"--bitcoin.regtest",
		"--bitcoin.node=btcd",
		"--btcd.rpchost=" + h.rpcAddr,
		"--btcd.rpcuser=" + h.rpcUser,
		"--btcd.rpcpass=" + h.rpcPass,
		"--btcd.rpccert=" + h.rpcCert,
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
	args = append(args, h.cfg.LndArgs...)
	args = append(args, extraArgs...)
	n.proc = &process{
		name:    "lnd-" + name,
		bin:     h.lndBinary,
		args:    args,
		logPath: filepath.Join(dir, "lnd.stdout.log"),
	}
	h.nodesMu.Lock()
	h.nodes = append(h.nodes, n)
	h.nodesMu.Unlock()
	return n, nil
}

// start launches lnd and waits until it answers GetInfo synced to chain at
// btcd's height.
func (n *Node) start(ctx context.Context) error {
	if err := n.proc.start(); err != nil {
		return err
	}
	if err := n.waitReady(ctx); err != nil {
		return fmt.Errorf("lnd %s (logs %s, %s): %w", n.Name, n.proc.logPath, n.LogPath(), err)
	}
	return nil
}

func (n *Node) waitReady(ctx context.Context) error {
	exited := n.proc.exited()
	var lastErr error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return fmt.Errorf("exited during start-up:\n%s", tailFile(n.proc.logPath, 3000))
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
		_, height, err := n.h.client.GetBestBlock()
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

// shutdown stops lnd gracefully (SIGINT), killing it after 20 s.
func (n *Node) shutdown() error {
	n.closeConn()
	return n.proc.stop(20 * time.Second)
}

// Stop shuts lnd down gracefully and waits for it to exit.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	if err := n.shutdown(); err != nil {
		t.Fatalf("stop lnd %s: %v", n.Name, err)
	}
}

// Kill ends lnd with SIGKILL, as a crash would.
func (n *Node) Kill(t testing.TB) {
	t.Helper()
	n.closeConn()
	if err := n.proc.kill(); err != nil {
		t.Fatalf("kill lnd %s: %v", n.Name, err)
	}
}

// Start starts a stopped or killed node again with the same directory, ports
// and flags, and waits until it is synced; LN and Router are reconnected.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), lndStartTimeout)
	defer cancel()
	t0 := time.Now()
	if err := n.start(ctx); err != nil {
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
