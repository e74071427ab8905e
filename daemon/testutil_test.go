package daemon_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// node is a koshd started for one test, with a gRPC connection and an HTTPS
// client that both pin the daemon's own self-signed certificate.
type node struct {
	t    testing.TB
	d    *daemon.Daemon
	cfg  daemon.Config
	conn *grpc.ClientConn
	http *http.Client
	tls  *tls.Config // pins the daemon's certificate

	issuer koshv1.IssuerServiceClient
	wallet koshv1.WalletServiceClient

	// Hex-encoded macaroons the daemon baked on first start.
	admin, readonly, minter string

	stopped atomic.Bool
}

// newConfig returns a configuration for a fresh data directory on
// ephemeral loopback ports and the given store backend.
func newConfig(t testing.TB, backend store.Backend) daemon.Config {
	t.Helper()
	cfg := daemon.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.RPCListen = "127.0.0.1:0"
	cfg.RESTListen = "127.0.0.1:0"
	cfg.ShutdownTimeout = 20 * time.Second
	cfg.DB.Backend = string(backend)
	if backend == store.Postgres {
		cfg.DB.PostgresDSN = storetest.Config(t, store.Postgres).PostgresDSN
	}
	return cfg
}

// startNode starts a daemon on a fresh data directory of the given backend.
func startNode(t testing.TB, backend store.Backend) *node {
	t.Helper()
	return startNodeWith(t, newConfig(t, backend))
}

// startNodeWith starts a daemon with cfg and stops it when the test ends.
func startNodeWith(t testing.TB, cfg daemon.Config) *node {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() && os.Getenv("KOSH_TEST_LOG") != "" {
		log = slog.Default()
	}
	d, err := daemon.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start koshd: %v", err)
	}
	n := &node{t: t, d: d, cfg: d.Config()}
	t.Cleanup(func() { n.stop() })

	pem, err := os.ReadFile(n.cfg.TLSCertPath())
	if err != nil {
		t.Fatalf("read tls.cert: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("tls.cert %s holds no PEM certificate", n.cfg.TLSCertPath())
	}
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	n.tls = tlsCfg
	n.conn, err = grpc.NewClient(d.RPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	if err != nil {
		t.Fatalf("dial gRPC: %v", err)
	}
	n.http = &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsCfg.Clone(), ForceAttemptHTTP2: true}}
	n.issuer = koshv1.NewIssuerServiceClient(n.conn)
	n.wallet = koshv1.NewWalletServiceClient(n.conn)
	n.admin = n.macaroonFile("admin")
	n.readonly = n.macaroonFile("readonly")
	n.minter = n.macaroonFile("minter")
	return n
}

// stop stops the daemon once and closes the client connections.
func (n *node) stop() {
	if n.stopped.Swap(true) {
		return
	}
	n.conn.Close()
	n.http.CloseIdleConnections()
	if err := n.d.Stop(); err != nil {
		n.t.Errorf("stop koshd: %v", err)
	}
}

// macaroonFile reads <datadir>/<network>/<name>.macaroon (binary) and
// returns it hex-encoded, as clients send it.
func (n *node) macaroonFile(name string) string {
	n.t.Helper()
	b, err := os.ReadFile(n.cfg.MacaroonPath(name))
	if err != nil {
		n.t.Fatalf("read %s macaroon: %v", name, err)
	}
	return hex.EncodeToString(b)
}

// ctx returns a context that sends mac (if not empty) as gRPC metadata.
func ctx(t testing.TB, mac string) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if mac == "" {
		return c
	}
	return metadata.AppendToOutgoingContext(c, "macaroon", mac)
}

// restResponse is a REST reply: status, raw body and the body decoded as a
// JSON object (nil if it is not one).
type restResponse struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// rest calls the REST gateway. body, if not nil, is sent as-is when it is
// a string or []byte and JSON-encoded otherwise.
func (n *node) rest(method, path, mac string, body any) restResponse {
	n.t.Helper()
	return n.restVia(n.http, nil, method, path, mac, body)
}

// restVia is rest through client c, with the extra request headers hdr.
func (n *node) restVia(c *http.Client, hdr http.Header, method, path, mac string, body any) restResponse {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			n.t.Fatalf("encode request: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, "https://"+n.d.RESTAddr()+path, rd)
	if err != nil {
		n.t.Fatalf("build request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if mac != "" {
		req.Header.Set("Grpc-Metadata-macaroon", mac)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := restResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		r.JSON = obj
	}
	return r
}

// requireOK fails unless the reply is 200 with a JSON object.
func (r restResponse) requireOK(t testing.TB, what string) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK || r.JSON == nil {
		t.Fatalf("%s: got HTTP %d %s, want 200 with JSON", what, r.Status, r.Raw)
	}
	return r.JSON
}

// requireError checks an error reply: the HTTP status, a JSON body with a
// numeric "code" and a "message" containing every substring in want.
func (r restResponse) requireError(t testing.TB, what string, httpStatus int, want ...string) {
	t.Helper()
	if r.Status != httpStatus {
		t.Errorf("%s: got HTTP %d %s, want %d", what, r.Status, r.Raw, httpStatus)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: error reply has Content-Type %q, want application/json (body %s)", what, ct, r.Raw)
	}
	if r.JSON == nil {
		t.Errorf("%s: error reply is not a JSON object: %s", what, r.Raw)
		return
	}
	if _, ok := r.JSON["code"].(float64); !ok {
		t.Errorf("%s: error JSON has no numeric \"code\": %s", what, r.Raw)
	}
	msg, ok := r.JSON["message"].(string)
	if !ok || msg == "" {
		t.Errorf("%s: error JSON has no \"message\": %s", what, r.Raw)
		return
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: message %q does not contain %q", what, msg, w)
		}
	}
}

// requireCode fails unless err is a gRPC status with code and a message
// containing every substring in want.
func requireCode(t testing.TB, what string, err error, code codes.Code, want ...string) {
	t.Helper()
	st, ok := status.FromError(err)
	if err == nil || !ok {
		t.Errorf("%s: got error %v, want %s", what, err, code)
		return
	}
	if st.Code() != code {
		t.Errorf("%s: got %s (%q), want %s", what, st.Code(), st.Message(), code)
		return
	}
	for _, w := range want {
		if !strings.Contains(st.Message(), w) {
			t.Errorf("%s: message %q does not contain %q", what, st.Message(), w)
		}
	}
}

// keySeq makes idempotency keys unique within the test binary.
var keySeq atomic.Int64

// newKey returns a fresh idempotency key.
func newKey(prefix string) string { return fmt.Sprintf("%s-%d", prefix, keySeq.Add(1)) }

// fundedReserves registers a reserve source that can back any supply.
func (n *node) fundedReserves() {
	n.t.Helper()
	n.d.Reserves().Register("test-source", time.Hour)
	if err := n.d.Reserves().Report("test-source", math.MaxInt64); err != nil {
		n.t.Fatalf("report reserves: %v", err)
	}
}

// createAsset defines a PEG_SAT asset with the admin macaroon.
func (n *node) createAsset(code string) {
	n.t.Helper()
	_, err := n.issuer.CreateAsset(ctx(n.t, n.admin), &koshv1.CreateAssetRequest{
		Code: code, Name: "Test " + code, Decimals: 0, Peg: koshv1.Peg_PEG_SAT})
	if err != nil {
		n.t.Fatalf("create asset %s: %v", code, err)
	}
}

// createAccount opens an account and returns its id and wallet macaroon.
func (n *node) createAccount(label string) (id, walletMac string) {
	n.t.Helper()
	resp, err := n.issuer.CreateAccount(ctx(n.t, n.admin), &koshv1.CreateAccountRequest{Label: label})
	if err != nil {
		n.t.Fatalf("create account %s: %v", label, err)
	}
	if resp.WalletMacaroon == "" {
		n.t.Fatalf("create account %s: no wallet macaroon", label)
	}
	return resp.Account.Id, resp.WalletMacaroon
}

// mint mints amount of asset to account with the admin macaroon.
func (n *node) mint(asset, account string, amount int64) *koshv1.JournalEntry {
	n.t.Helper()
	resp, err := n.issuer.Mint(ctx(n.t, n.admin), &koshv1.MintRequest{Asset: asset, AccountId: account,
		Amount: amount, IdempotencyKey: newKey("mint")})
	if err != nil {
		n.t.Fatalf("mint %d %s to %s: %v", amount, asset, account, err)
	}
	return resp.Entry
}

// supply returns GetSupply for asset and fails if it is not consistent.
func (n *node) supply(asset string) *koshv1.GetSupplyResponse {
	n.t.Helper()
	s, err := n.issuer.GetSupply(ctx(n.t, n.readonly), &koshv1.GetSupplyRequest{Asset: asset})
	if err != nil {
		n.t.Fatalf("get supply of %s: %v", asset, err)
	}
	if !s.Consistent || s.Supply != s.BalancesTotal || s.Supply != s.JournalTotal {
		n.t.Fatalf("supply of %s is inconsistent: %v", asset, s)
	}
	return s
}

// forEachBackend runs fn as a subtest on SQLite and on PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, backend store.Backend)) {
	for _, b := range storetest.Backends {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}
