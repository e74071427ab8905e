package itest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/txscript"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// koshSnapshot is the reserve snapshot koshd serves.
type koshSnapshot = koshv1.ReserveSnapshot

// koshNode is a koshd running in this process against the harness's btcd
// and lnd nodes, with clients that pin its TLS certificate.
type koshNode struct {
	t      testing.TB
	cfg    daemon.Config
	d      *daemon.Daemon
	conn   *grpc.ClientConn
	http   *http.Client
	issuer koshv1.IssuerServiceClient
	admin  string
}

// koshConfig returns a koshd configuration on a fresh data directory and
// ephemeral loopback ports, watching the harness's btcd over its websocket,
// with fast polling so tests do not wait for defaults.
func koshConfig(t testing.TB, h *harness.Harness) daemon.Config {
	b := h.Btcd()
	cfg := daemon.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.RPCListen = "127.0.0.1:0"
	cfg.RESTListen = "127.0.0.1:0"
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.Chain.Backend = "btcd"
	cfg.Chain.RPCHost = b.RPCAddr
	cfg.Chain.RPCUser = b.RPCUser
	cfg.Chain.RPCPass = b.RPCPass
	cfg.Chain.RPCCert = b.CertPath
	cfg.Chain.MinConf = 3
	cfg.Chain.PollInterval = 100 * time.Millisecond
	cfg.Lnd.PollInterval = 200 * time.Millisecond
	return cfg
}

// lndSpec is the --lnd.node value for a harness node, with its read-only
// macaroon, and its admin macaroon as the proof macaroon so that the node
// proves control of its wallet outputs (walletrpc FinalizePsbt).
func lndSpec(n *lndnode.Node) string {
	return fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s,proofmacaroon=%s", n.Name, n.RPCAddr, n.TLSCertPath,
		n.ReadonlyMacaroonPath, n.AdminMacaroonPath)
}

// proveChain has koshd export a proof of control over every watched
// on-chain output, signs it as a hardware wallet would from the PSBT's own
// fields with the wallets' master keys (controltest.SignPSBT: a signer
// written for Kosh's tests; TestProofOfControl signs with Electrum and
// lnd too), imports it, and waits until the outputs count.
func (k *koshNode) proveChain(t testing.TB, wallets ...*descWallet) *koshv1.ImportControlProofResponse {
	return k.proveChainExcept(t, nil, wallets...)
}

// proveChainExcept is proveChain leaving out the outputs at skip (outputs
// nobody in wallets can sign for).
func (k *koshNode) proveChainExcept(t testing.TB, skip []string, wallets ...*descWallet) *koshv1.ImportControlProofResponse {
	t.Helper()
	req := &koshv1.ExportControlProofRequest{All: true}
	if len(skip) > 0 {
		req.All = false
		for _, u := range k.reserves().Utxos {
			if u.Source == reserve.ChainSourceName && !slices.Contains(skip, u.Outpoint) {
				req.Outpoints = append(req.Outpoints, u.Outpoint)
			}
		}
	}
	exp, err := k.issuer.ExportControlProof(k.ctx(), req)
	if err != nil {
		t.Fatalf("export proof: %v", err)
	}
	p, err := proving.DecodePSBT([]byte(exp.Psbt))
	if err != nil {
		t.Fatal(err)
	}
	var masters []*hdkeychain.ExtendedKey
	for _, w := range wallets {
		masters = append(masters, w.master)
	}
	if _, err := ct.SignPSBT(p, txscript.SigHashAll, masters...); err != nil {
		t.Fatal(err)
	}
	signed, err := proving.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := k.issuer.ImportControlProof(k.ctx(), &koshv1.ImportControlProofRequest{Psbts: []string{signed}})
	if err != nil {
		t.Fatalf("import proof: %v", err)
	}
	return imp
}

// startKosh starts koshd with cfg; it is stopped when the test ends.
func startKosh(t testing.TB, cfg daemon.Config) *koshNode {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("koshd", t.Name())
	}
	d, err := daemon.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start koshd: %v", err)
	}
	k := &koshNode{t: t, cfg: d.Config(), d: d}
	pem, err := os.ReadFile(k.cfg.TLSCertPath())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if k.conn, err = grpc.NewClient(d.RPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg))); err != nil {
		t.Fatal(err)
	}
	k.http = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	k.issuer = koshv1.NewIssuerServiceClient(k.conn)
	mac, err := os.ReadFile(k.cfg.MacaroonPath("admin"))
	if err != nil {
		t.Fatal(err)
	}
	k.admin = hex.EncodeToString(mac)
	t.Cleanup(k.stop)
	return k
}

func (k *koshNode) stop() {
	if k.d == nil {
		return
	}
	k.conn.Close()
	k.http.CloseIdleConnections()
	if err := k.d.Stop(); err != nil {
		k.t.Errorf("stop koshd: %v", err)
	}
	k.d = nil
}

func (k *koshNode) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	k.t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(c, "macaroon", k.admin)
}

// reserves returns the issuer's view of the live reserve snapshot.
func (k *koshNode) reserves() *koshv1.ReserveSnapshot {
	k.t.Helper()
	r, err := k.issuer.GetReserves(k.ctx(), &koshv1.GetReservesRequest{})
	if err != nil {
		k.t.Fatalf("GetReserves: %v", err)
	}
	return r.Snapshot
}

// waitReserves polls the snapshot until check passes.
func (k *koshNode) waitReserves(what string, timeout time.Duration, check func(s *koshv1.ReserveSnapshot) error) *koshv1.ReserveSnapshot {
	k.t.Helper()
	var snap *koshv1.ReserveSnapshot
	deadline := time.Now().Add(timeout)
	for {
		snap = k.reserves()
		err := check(snap)
		if err == nil {
			return snap
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("%s: after %s: %v\nsnapshot: %s", what, timeout, err, dumpJSON(snap))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// source returns the named source of a snapshot, or nil.
func source(s *koshv1.ReserveSnapshot, name string) *koshv1.ReserveSource {
	for _, src := range s.Sources {
		if src.Name == name {
			return src
		}
	}
	return nil
}

// class returns the amount of class in source, and whether it is listed.
func class(src *koshv1.ReserveSource, name string) (int64, bool) {
	if src == nil {
		return 0, false
	}
	for _, c := range src.Classes {
		if c.Name == name {
			return c.Amount, true
		}
	}
	return 0, false
}

// chainAt checks the chain source is at height with the given counted
// (confirmed) and unconfirmed amounts and that the snapshot is usable.
func chainAt(height, counted, unconfirmed int64) func(*koshv1.ReserveSnapshot) error {
	return func(s *koshv1.ReserveSnapshot) error {
		src := source(s, reserve.ChainSourceName)
		if src == nil {
			return fmt.Errorf("no chain source")
		}
		conf, _ := class(src, "onchain_confirmed")
		unconf, _ := class(src, "onchain_unconfirmed")
		if src.Height != height || src.Counted != counted || conf != counted || unconf != unconfirmed {
			return fmt.Errorf("chain at %d counted %d (confirmed class %d) unconfirmed %d; want %d, %d, %d",
				src.Height, src.Counted, conf, unconf, height, counted, unconfirmed)
		}
		if !s.Usable {
			return fmt.Errorf("snapshot unusable: %s", s.Problem)
		}
		return nil
	}
}

// chainWatchedAt checks the chain source at height watches confirmed
// outputs worth confirmed (proven or not: what the scan found) and
// unconfirmed ones worth unconfirmed.
func chainWatchedAt(height, confirmed, unconfirmed int64) func(*koshv1.ReserveSnapshot) error {
	return func(s *koshv1.ReserveSnapshot) error {
		src := source(s, reserve.ChainSourceName)
		if src == nil {
			return fmt.Errorf("no chain source")
		}
		proven, _ := class(src, "onchain_confirmed")
		unproven, _ := class(src, "onchain_unproven")
		unconf, _ := class(src, "onchain_unconfirmed")
		if src.Height != height || proven+unproven != confirmed || unconf != unconfirmed {
			return fmt.Errorf("chain at %d watches %d confirmed (%d proven) and %d unconfirmed; want %d, %d, %d",
				src.Height, proven+unproven, proven, unconf, height, confirmed, unconfirmed)
		}
		if !s.Usable {
			return fmt.Errorf("snapshot unusable: %s", s.Problem)
		}
		return nil
	}
}

// createAsset creates a sat-pegged asset at the default policy (1.00).
func (k *koshNode) createAsset(code string) {
	k.t.Helper()
	if _, err := k.issuer.CreateAsset(k.ctx(), &koshv1.CreateAssetRequest{Code: code, Name: code + " token",
		Peg: koshv1.Peg_PEG_SAT}); err != nil {
		k.t.Fatalf("create asset %s: %v", code, err)
	}
}

// createAccount returns a new account's id.
func (k *koshNode) createAccount(label string) string {
	k.t.Helper()
	r, err := k.issuer.CreateAccount(k.ctx(), &koshv1.CreateAccountRequest{Label: label,
		IdempotencyKey: label + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
	if err != nil {
		k.t.Fatalf("create account %s: %v", label, err)
	}
	return r.Account.Id
}

// mint mints amount of asset to account with a fresh idempotency key.
func (k *koshNode) mint(asset, account string, amount int64) error {
	_, err := k.issuer.Mint(k.ctx(), &koshv1.MintRequest{Asset: asset, AccountId: account, Amount: amount,
		IdempotencyKey: "mint-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
	return err
}

// metric reads one unlabelled sample from koshd's /metrics.
func (k *koshNode) metric(name string) float64 {
	k.t.Helper()
	resp, err := k.http.Get("https://" + k.d.RESTAddr() + "/metrics")
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		k.t.Fatalf("metric %s not on /metrics", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		k.t.Fatal(err)
	}
	return v
}

// publicReserves fetches the public reserve status over REST, unauthenticated.
func (k *koshNode) publicReserves() map[string]any {
	k.t.Helper()
	resp, err := k.http.Get("https://" + k.d.RESTAddr() + "/v1/public/reserves")
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		k.t.Fatalf("GET /v1/public/reserves: %s: %s", resp.Status, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		k.t.Fatalf("public reserves: %v: %s", err, body)
	}
	return out
}

func dumpJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// tipHeight is btcd's best height.
func tipHeight(t testing.TB, h *harness.Harness) int64 {
	t.Helper()
	_, height, err := h.Client().GetBestBlock()
	if err != nil {
		t.Fatal(err)
	}
	return int64(height)
}

// containsAll reports whether s contains every part.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// startKoshErr starts koshd and returns the start error, stopping it at
// once if it did start.
func startKoshErr(cfg daemon.Config) (*daemon.Daemon, error) {
	d, err := daemon.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		_ = d.Stop()
	}
	return d, err
}

func addChecksum(desc string) string { return descriptor.AddChecksum(desc) }

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
