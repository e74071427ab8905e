package daemon_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/ratelimit"
	"github.com/kosh-reserve/kosh/store"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The rate-limit tests tell clients apart by their source address: Linux
// routes all of 127.0.0.0/8 to the loopback interface, so a connection can
// leave from 127.0.0.2, 127.0.0.3, ... as different hosts' would. The
// refill rates are tiny (one token in about 17 minutes), so that a slow
// test run cannot earn a token back between two requests.
const noRefill = 0.001

// limitedNode starts a daemon on SQLite with the given public limits.
func limitedNode(t *testing.T, rl ratelimit.Options) *node {
	t.Helper()
	cfg := newConfig(t, store.SQLite)
	if rl.MaxClients == 0 {
		rl.MaxClients = 100
	}
	cfg.RateLimit = rl
	return startNodeWith(t, cfg)
}

func sourceDialer(ip string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
}

// httpFrom returns an HTTPS client whose connections leave from ip.
func (n *node) httpFrom(ip string) *http.Client {
	tr := &http.Transport{TLSClientConfig: n.tls.Clone(), ForceAttemptHTTP2: true, DialContext: sourceDialer(ip).DialContext}
	n.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}
}

// grpcFrom returns a gRPC connection that leaves from ip.
func (n *node) grpcFrom(ip string) *grpc.ClientConn {
	n.t.Helper()
	d := sourceDialer(ip)
	conn, err := grpc.NewClient(n.d.RPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(n.tls.Clone())),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		}))
	if err != nil {
		n.t.Fatalf("dial gRPC from %s: %v", ip, err)
	}
	n.t.Cleanup(func() { conn.Close() })
	return conn
}

// requireLimited checks a REST refusal by the rate limit: 429, the
// gateway's JSON error naming the limit, a RetryInfo detail, and a
// Retry-After of whole seconds.
func (r restResponse) requireLimited(t *testing.T, what string, want ...string) {
	t.Helper()
	r.requireError(t, what, http.StatusTooManyRequests, append([]string{"retry in"}, want...)...)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After %q, want a whole number of seconds >= 1", what, r.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(r.Raw), "google.rpc.RetryInfo") {
		t.Errorf("%s: the body has no RetryInfo detail: %s", what, r.Raw)
	}
}

// requireExhausted checks a gRPC refusal by the rate limit.
func requireExhausted(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	requireCode(t, what, err, codes.ResourceExhausted, want...)
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.RetryDelay.AsDuration() >= time.Second {
			return
		}
	}
	if err != nil {
		t.Errorf("%s: no RetryInfo of a second or more in %v", what, status.Convert(err).Details())
	}
}

// TestRateLimitPerClient: a greedy client that spent its bucket on the page
// gets 429 there and on the public REST routes (through the gateway, which
// forwards the client's address) and ResourceExhausted on the public gRPC
// methods, while another client is still served; the greedy client's issuer
// and wallet calls, with a macaroon, are not counted. Neither a forwarded-for
// header from an untrusted client nor the gateway's metadata keys without
// its secret move a request to another bucket.
func TestRateLimitPerClient(t *testing.T) {
	n := limitedNode(t, ratelimit.Options{Global: 1000, GlobalBurst: 1000, Client: noRefill, ClientBurst: 3})
	n.fundedReserves()
	n.createAsset("KSH")
	acct, walletMac := n.createAccount("alice")
	n.mint("KSH", acct, 10)
	greedy, other := n.httpFrom("127.0.0.2"), n.httpFrom("127.0.0.3")

	for i := range 3 {
		if r := n.restVia(greedy, nil, "GET", "/", "", nil); r.Status != http.StatusOK {
			t.Fatalf("greedy page view %d: HTTP %d %s", i+1, r.Status, r.Raw)
		}
	}
	n.restVia(greedy, nil, "GET", "/", "", nil).requireLimited(t, "greedy 4th page view",
		"too many requests from 127.0.0.2")
	if r := n.restVia(other, nil, "GET", "/", "", nil); r.Status != http.StatusOK {
		t.Fatalf("the other client's page view: HTTP %d %s", r.Status, r.Raw)
	}
	n.restVia(greedy, http.Header{"X-Forwarded-For": {"127.0.0.50"}}, "GET", "/", "", nil).
		requireLimited(t, "greedy, claiming another address", "127.0.0.2")
	// Through the gateway: the bucket is the HTTP client's, not the
	// gateway's own connection's.
	n.restVia(greedy, nil, "GET", "/v1/public/reserves", "", nil).requireLimited(t, "greedy public REST", "127.0.0.2")
	n.restVia(greedy, http.Header{"Grpc-Metadata-Kosh-Gateway-Client": {"127.0.0.51"}, "Kosh-Gateway-Client": {"127.0.0.51"}},
		"GET", "/v1/public/reserves", "", nil).requireLimited(t, "greedy public REST with forged gateway headers", "127.0.0.2")
	n.restVia(other, nil, "GET", "/v1/public/reserves", "", nil).requireOK(t, "the other client's public REST")

	// Calls with a macaroon are never counted against the public budget.
	for i := range 10 {
		n.restVia(greedy, nil, "GET", "/v1/assets", n.admin, nil).requireOK(t, "greedy issuer REST "+strconv.Itoa(i))
		n.restVia(greedy, nil, "GET", "/v1/wallet/accounts/"+acct+"/balance", walletMac, nil).
			requireOK(t, "greedy wallet REST "+strconv.Itoa(i))
	}

	// gRPC from the greedy client's address: the same bucket.
	gconn, oconn := n.grpcFrom("127.0.0.2"), n.grpcFrom("127.0.0.3")
	_, err := healthpb.NewHealthClient(gconn).Check(ctx(t, ""), &healthpb.HealthCheckRequest{})
	requireExhausted(t, "greedy gRPC health check", err, "127.0.0.2")
	_, err = koshv1.NewPublicServiceClient(gconn).GetReserveStatus(ctx(t, ""), &koshv1.GetReserveStatusRequest{})
	requireExhausted(t, "greedy gRPC GetReserveStatus", err, "127.0.0.2")
	forged := metadata.AppendToOutgoingContext(ctx(t, ""), "kosh-gateway-token", strings.Repeat("00", 32),
		"kosh-gateway-client", "127.0.0.52", "x-forwarded-for", "127.0.0.53")
	_, err = koshv1.NewPublicServiceClient(gconn).GetReserveStatus(forged, &koshv1.GetReserveStatusRequest{})
	requireExhausted(t, "greedy gRPC with forged gateway metadata", err, "127.0.0.2")
	issuer, wallet := koshv1.NewIssuerServiceClient(gconn), koshv1.NewWalletServiceClient(gconn)
	for i := range 10 {
		if _, err := issuer.GetSupply(ctx(t, n.readonly), &koshv1.GetSupplyRequest{Asset: "KSH"}); err != nil {
			t.Fatalf("greedy issuer gRPC %d: %v", i, err)
		}
		if _, err := wallet.GetBalance(ctx(t, walletMac), &koshv1.GetBalanceRequest{AccountId: acct}); err != nil {
			t.Fatalf("greedy wallet gRPC %d: %v", i, err)
		}
	}
	// The other client spent two of its three tokens over HTTP.
	if _, err := koshv1.NewPublicServiceClient(oconn).GetReserveStatus(ctx(t, ""), &koshv1.GetReserveStatusRequest{}); err != nil {
		t.Fatalf("the other client's gRPC GetReserveStatus: %v", err)
	}
	_, err = healthpb.NewHealthClient(oconn).Check(ctx(t, ""), &healthpb.HealthCheckRequest{})
	requireExhausted(t, "the other client's 4th request", err, "127.0.0.3")

	// Eight refusals so far (four over HTTP, four over gRPC), all by the
	// client limit.
	m := n.restVia(n.httpFrom("127.0.0.9"), nil, "GET", "/metrics", "", nil)
	for _, want := range []string{`kosh_public_requests_limited_total{limit="client"} 8`,
		`kosh_public_requests_limited_total{limit="global"} 0`, `kosh_public_clients_tracked 3`} {
		if !strings.Contains(string(m.Raw), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestRateLimitRoutes: every public route is limited per client: the page,
// its assets and attestation files, /metrics, /openapi.json and the public
// REST routes. Each route is tried by a client of its own, which is served
// twice (whatever the route answers) and then refused.
func TestRateLimitRoutes(t *testing.T) {
	n := limitedNode(t, ratelimit.Options{Global: 1000, GlobalBurst: 1000, Client: noRefill, ClientBurst: 2})
	for i, path := range []string{
		"/",
		"/static/style.css",
		"/favicon.ico",
		"/attestations/" + strings.Repeat("ab", 32) + ".json",
		"/metrics",
		"/openapi.json",
		"/v1/public/reserves",
		"/v1/public/attestations",
		"/v1/public/attestations/latest",
	} {
		c := n.httpFrom("127.0.1." + strconv.Itoa(i+1))
		for j := range 2 {
			if r := n.restVia(c, nil, "GET", path, "", nil); r.Status == http.StatusTooManyRequests || r.Status >= 500 {
				t.Fatalf("GET %s, request %d: HTTP %d %s", path, j+1, r.Status, r.Raw)
			}
		}
		n.restVia(c, nil, "GET", path, "", nil).requireLimited(t, "GET "+path, "too many requests")
	}
}

// TestRateLimitGlobal: the global bucket bounds all clients together, and a
// client's own bucket keeps it from taking all of it: the first client gets
// its three, the second the two left, the third none; the refusals say the
// API is busy. Issuer calls still pass.
func TestRateLimitGlobal(t *testing.T) {
	n := limitedNode(t, ratelimit.Options{Global: noRefill, GlobalBurst: 5, Client: noRefill, ClientBurst: 3})
	c1, c2, c3 := n.httpFrom("127.0.0.2"), n.httpFrom("127.0.0.3"), n.httpFrom("127.0.0.4")
	for i := range 3 {
		if r := n.restVia(c1, nil, "GET", "/openapi.json", "", nil); r.Status != http.StatusOK {
			t.Fatalf("client 1, request %d: HTTP %d %s", i+1, r.Status, r.Raw)
		}
	}
	n.restVia(c1, nil, "GET", "/openapi.json", "", nil).requireLimited(t, "client 1, request 4", "too many requests from 127.0.0.2")
	for i := range 2 {
		if r := n.restVia(c2, nil, "GET", "/v1/public/reserves", "", nil); r.Status != http.StatusOK {
			t.Fatalf("client 2, request %d: HTTP %d %s", i+1, r.Status, r.Raw)
		}
	}
	n.restVia(c2, nil, "GET", "/v1/public/reserves", "", nil).requireLimited(t, "client 2, request 3", "busy")
	n.restVia(c3, nil, "GET", "/", "", nil).requireLimited(t, "client 3, request 1", "busy")
	_, err := koshv1.NewPublicServiceClient(n.grpcFrom("127.0.0.5")).GetReserveStatus(ctx(t, ""), &koshv1.GetReserveStatusRequest{})
	requireExhausted(t, "client 4 over gRPC", err, "busy")
	for i := range 5 {
		n.restVia(c3, nil, "GET", "/v1/assets", n.admin, nil).requireOK(t, "issuer REST "+strconv.Itoa(i))
	}
}

// TestRateLimitTrustedProxy: behind a trusted proxy, requests count against
// the client its X-Forwarded-For names (the right-most address that is not
// a trusted proxy), so one visitor's greed does not lock out the others
// behind the same proxy.
func TestRateLimitTrustedProxy(t *testing.T) {
	n := limitedNode(t, ratelimit.Options{Global: 1000, GlobalBurst: 1000, Client: noRefill, ClientBurst: 2,
		TrustedProxies: []string{"127.0.0.6", "10.0.0.0/8"}})
	proxy := n.httpFrom("127.0.0.6")
	greedy := http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.7", "10.1.2.3"}}
	for i := range 2 {
		if r := n.restVia(proxy, greedy, "GET", "/", "", nil); r.Status != http.StatusOK {
			t.Fatalf("greedy visitor %d: HTTP %d %s", i+1, r.Status, r.Raw)
		}
	}
	n.restVia(proxy, greedy, "GET", "/", "", nil).requireLimited(t, "greedy visitor", "too many requests from 203.0.113.7")
	n.restVia(proxy, greedy, "GET", "/v1/public/reserves", "", nil).requireLimited(t, "greedy visitor, REST", "203.0.113.7")
	other := http.Header{"X-Forwarded-For": {"203.0.113.8"}}
	n.restVia(proxy, other, "GET", "/v1/public/reserves", "", nil).requireOK(t, "another visitor behind the proxy")
	if r := n.restVia(proxy, nil, "GET", "/", "", nil); r.Status != http.StatusOK {
		t.Fatalf("the proxy itself: HTTP %d %s", r.Status, r.Raw)
	}
}

// TestRateLimitConfigErrors: limits that cannot work are refused at load,
// naming the option.
func TestRateLimitConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*ratelimit.Options)
		want string
	}{
		{"zero global", func(r *ratelimit.Options) { r.Global = 0 }, "--ratelimit.global 0"},
		{"negative client", func(r *ratelimit.Options) { r.Client = -1 }, "--ratelimit.client -1"},
		{"zero burst", func(r *ratelimit.Options) { r.ClientBurst = 0 }, "--ratelimit.clientburst"},
		{"client above global", func(r *ratelimit.Options) { r.Client = r.Global + 1 }, "above --ratelimit.global"},
		{"client burst above global", func(r *ratelimit.Options) { r.ClientBurst = r.GlobalBurst + 1 }, "above --ratelimit.global"},
		{"no clients", func(r *ratelimit.Options) { r.MaxClients = 0 }, "--ratelimit.maxclients 0"},
		{"bad proxy", func(r *ratelimit.Options) { r.TrustedProxies = []string{"proxy.example"} }, `--ratelimit.trustedproxy "proxy.example"`},
		{"negative delay", func(r *ratelimit.Options) { r.RefusalDelay = -time.Second }, "--ratelimit.refusaldelay -1s"},
		{"delay past a minute", func(r *ratelimit.Options) { r.RefusalDelay = time.Hour }, "--ratelimit.refusaldelay 1h0m0s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := newConfig(t, store.SQLite)
			c.edit(&cfg.RateLimit)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
	cfg := newConfig(t, store.SQLite)
	cfg.RateLimit.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("good rate-limit config refused: %v", err)
	}
}

// TestRateLimitRefusalDelay: a refusal is held for at least half the
// configured delay before it is sent, over HTTP and gRPC, so that a client
// repeating refused requests as fast as it is answered sends few; calls
// with a macaroon from the same client are not held.
func TestRateLimitRefusalDelay(t *testing.T) {
	const delay = 600 * time.Millisecond
	n := limitedNode(t, ratelimit.Options{Global: 1000, GlobalBurst: 1000, Client: noRefill, ClientBurst: 1,
		RefusalDelay: delay})
	c := n.httpFrom("127.0.0.2")
	if r := n.restVia(c, nil, "GET", "/openapi.json", "", nil); r.Status != http.StatusOK {
		t.Fatalf("first request: HTTP %d", r.Status)
	}
	t0 := time.Now()
	n.restVia(c, nil, "GET", "/openapi.json", "", nil).requireLimited(t, "second request", "127.0.0.2")
	if held := time.Since(t0); held < delay/2 {
		t.Errorf("the HTTP refusal came after %s, want at least %s", held, delay/2)
	}
	conn := n.grpcFrom("127.0.0.2")
	t0 = time.Now()
	_, err := koshv1.NewPublicServiceClient(conn).GetReserveStatus(ctx(t, ""), &koshv1.GetReserveStatusRequest{})
	requireExhausted(t, "gRPC refusal", err, "127.0.0.2")
	if held := time.Since(t0); held < delay/2 {
		t.Errorf("the gRPC refusal came after %s, want at least %s", held, delay/2)
	}
	// Not held: nothing was refused.
	if _, err := koshv1.NewIssuerServiceClient(conn).ListAssets(ctx(t, n.admin), &koshv1.ListAssetsRequest{}); err != nil {
		t.Fatalf("issuer call: %v", err)
	}
}
