package benchkosh

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/daemon"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

const (
	// StartBalance is what Seed mints to every account: far more than a run
	// can move out of one account at one unit per transfer, so "insufficient
	// funds" cannot happen and every failed transfer is a real failure.
	StartBalance = 1_000_000_000
	// syntheticReserves is what the synthetic reserve source reports, in sats.
	syntheticReserves = 1 << 62
	// syntheticSource names the synthetic reserve source.
	syntheticSource = "bench-synthetic"
)

// Config returns koshd's default configuration with its data directory
// under dir, its gRPC and REST listeners on free loopback ports and its
// logs at warn. The caller may change it before Start.
func Config(dir string) daemon.Config {
	cfg := daemon.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "koshd")
	cfg.RPCListen = "127.0.0.1:0"
	cfg.RESTListen = "127.0.0.1:0"
	cfg.DebugLevel = "warn"
	return cfg
}

// Kosh is a running in-process koshd with admin gRPC clients.
type Kosh struct {
	// Daemon is the running koshd.
	Daemon *daemon.Daemon
	// TLS trusts koshd's certificate; clone it for each client built on it.
	TLS *tls.Config

	conns   []*grpc.ClientConn
	clients []koshv1.IssuerServiceClient
}

// macaroonCreds sends the admin macaroon hex-encoded in the "macaroon"
// metadata key with every call, as koshcli does.
type macaroonCreds string

func (m macaroonCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"macaroon": string(m)}, nil
}

func (macaroonCreds) RequireTransportSecurity() bool { return true }

// Start starts koshd with cfg (see Config), logging warnings to stderr,
// registers a synthetic reserve source reporting an enormous balance, and
// dials conns TLS connections to its gRPC listener with the admin
// macaroon.
func Start(ctx context.Context, cfg daemon.Config, conns int) (*Kosh, error) {
	if conns < 1 {
		return nil, fmt.Errorf("%d gRPC connections: want at least 1", conns)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := daemon.Start(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("start koshd: %w", err)
	}
	k := &Kosh{Daemon: d}
	if err := k.connect(conns); err != nil {
		return nil, errors.Join(err, k.Stop())
	}
	return k, nil
}

// connect reports the synthetic reserves, reads koshd's certificate and
// admin macaroon and dials n connections.
func (k *Kosh) connect(n int) error {
	d := k.Daemon
	d.Reserves().Register(syntheticSource, 24*time.Hour)
	if err := d.Reserves().Report(syntheticSource, syntheticReserves); err != nil {
		return fmt.Errorf("report synthetic reserves: %w", err)
	}
	dc := d.Config()
	pem, err := os.ReadFile(dc.TLSCertPath())
	if err != nil {
		return fmt.Errorf("read tls.cert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no certificate", dc.TLSCertPath())
	}
	k.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	mac, err := os.ReadFile(dc.MacaroonPath("admin"))
	if err != nil {
		return fmt.Errorf("read admin macaroon: %w", err)
	}
	for range n {
		conn, err := grpc.NewClient(d.RPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(k.TLS.Clone())),
			grpc.WithPerRPCCredentials(macaroonCreds(hex.EncodeToString(mac))))
		if err != nil {
			return fmt.Errorf("dial koshd at %s: %w", d.RPCAddr(), err)
		}
		conn.Connect()
		k.conns = append(k.conns, conn)
		k.clients = append(k.clients, koshv1.NewIssuerServiceClient(conn))
	}
	return nil
}

// Stop closes the connections and stops koshd.
func (k *Kosh) Stop() error {
	for _, c := range k.conns {
		c.Close()
	}
	if err := k.Daemon.Stop(); err != nil {
		return fmt.Errorf("stop koshd: %w", err)
	}
	return nil
}

// Client returns the admin client on connection i modulo the number of
// connections, so that workers numbered 0, 1, ... spread over them.
func (k *Kosh) Client(i int) koshv1.IssuerServiceClient { return k.clients[i%len(k.clients)] }

// Seed creates the sat-pegged asset code (fully covered), then n accounts,
// then mints StartBalance of the asset to each, with up to workers calls in
// flight. It returns the account IDs in creation order: account i is
// labelled bench-i.
func (k *Kosh) Seed(ctx context.Context, code string, n, workers int) ([]string, error) {
	_, err := k.Client(0).CreateAsset(ctx, &koshv1.CreateAssetRequest{
		Code: code, Name: "Benchmark token", Decimals: 0, Peg: koshv1.Peg_PEG_SAT, MinCoverageBps: 10_000,
	})
	if err != nil {
		return nil, fmt.Errorf("create asset %s: %w", code, err)
	}
	accounts := make([]string, n)
	err = parallel(ctx, n, workers, func(ctx context.Context, i int) error {
		resp, err := k.Client(i).CreateAccount(ctx, &koshv1.CreateAccountRequest{
			Label: "bench-" + strconv.Itoa(i), IdempotencyKey: "bench-account-" + strconv.Itoa(i),
		})
		if err != nil {
			return fmt.Errorf("create account %d: %w", i, err)
		}
		accounts[i] = resp.Account.GetId()
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = parallel(ctx, n, workers, func(ctx context.Context, i int) error {
		_, err := k.Client(i).Mint(ctx, &koshv1.MintRequest{
			Asset: code, AccountId: accounts[i], Amount: StartBalance,
			IdempotencyKey: "bench-mint-" + strconv.Itoa(i), Memo: "benchmark starting balance",
		})
		if err != nil {
			return fmt.Errorf("mint to account %d: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return accounts, nil
}

// parallel calls fn(i) for i in [0, n) on up to workers goroutines and
// returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idx := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for i := range idx {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idx)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}
