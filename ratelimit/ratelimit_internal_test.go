package ratelimit

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// fakeClock is a limiter's clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestLimiter(t *testing.T, cfg Options) (*Limiter, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	p, err := New(cfg, "secret")
	if err != nil {
		t.Fatal(err)
	}
	p.now = clock.now
	p.global.last = clock.t
	return p, clock
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// refusal returns the limit that refused, "" if none did.
func refusal(err error) string {
	var lim *errLimited
	switch {
	case err == nil:
		return ""
	case !errors.As(err, &lim):
		return "error: " + err.Error()
	case lim.global:
		return "global"
	}
	return "client"
}

// TestLimiterBuckets: a client gets its burst, then one request per 1/rate;
// the wait it is told is the time to its next token; the global bucket
// refuses once all clients together spent it.
func TestLimiterBuckets(t *testing.T) {
	p, clock := newTestLimiter(t, Options{Global: 10, GlobalBurst: 6, Client: 2, ClientBurst: 4, MaxClients: 10})
	a, b := addr("192.0.2.1"), addr("192.0.2.2")
	for i := range 4 {
		if got := refusal(p.allow(a)); got != "" {
			t.Fatalf("request %d of the burst: refused by %s", i+1, got)
		}
	}
	err := p.allow(a)
	var lim *errLimited
	if !errors.As(err, &lim) || lim.global || lim.retryAfter != 500*time.Millisecond {
		t.Fatalf("after the burst: %v, want a client refusal with a 500ms wait", err)
	}
	clock.t = clock.t.Add(500 * time.Millisecond)
	if got := refusal(p.allow(a)); got != "" {
		t.Fatalf("after 500ms at 2/s: refused by %s", got)
	}
	if got := refusal(p.allow(a)); got != "client" {
		t.Fatalf("the token earned is spent: %q, want client", got)
	}
	// The global bucket: 6, less a's 4, plus 5 earned in 500ms at 10/s
	// (capped at 6), less a's fifth: 5 left. b takes 4 of them.
	for i := range 4 {
		if got := refusal(p.allow(b)); got != "" {
			t.Fatalf("b's request %d: refused by %s", i+1, got)
		}
	}
	if got := refusal(p.allow(b)); got != "client" {
		t.Fatalf("b past its burst: %q, want client", got)
	}
	c := addr("192.0.2.3")
	if got := refusal(p.allow(c)); got != "" {
		t.Fatalf("c's first request, the last global token: refused by %s", got)
	}
	if got := refusal(p.allow(c)); got != "global" {
		t.Fatalf("c once the global bucket is empty: %q, want global", got)
	}
}

// TestLimiterForgetsLeastRecent: memory is bounded by MaxClients; the
// client forgotten is the one seen least recently, and it comes back with
// a full bucket.
func TestLimiterForgetsLeastRecent(t *testing.T) {
	p, _ := newTestLimiter(t, Options{Global: 1000, GlobalBurst: 1000, Client: 0.001, ClientBurst: 1, MaxClients: 3})
	ip := func(i int) netip.Addr { return addr("198.51.100." + strconv.Itoa(i)) }
	for i := 1; i <= 3; i++ {
		if got := refusal(p.allow(ip(i))); got != "" {
			t.Fatalf("client %d: %s", i, got)
		}
	}
	// Client 1 is seen again (and refused): now 2 is the least recent.
	if got := refusal(p.allow(ip(1))); got != "client" {
		t.Fatalf("client 1 again: %q", got)
	}
	if got := refusal(p.allow(ip(4))); got != "" {
		t.Fatalf("client 4: %s", got)
	}
	if len(p.clients) != 3 || p.lru.Len() != 3 {
		t.Fatalf("%d clients remembered (%d in the list), want 3", len(p.clients), p.lru.Len())
	}
	if _, ok := p.clients[ip(2)]; ok {
		t.Fatal("client 2, the least recently seen, is still remembered")
	}
	if got := refusal(p.allow(ip(2))); got != "" {
		t.Fatalf("client 2, forgotten, is refused: %s", got)
	}
	// Coming back made room by forgetting 3; 1, seen more recently, is
	// remembered with its empty bucket.
	if _, ok := p.clients[ip(3)]; ok {
		t.Fatal("client 3 is still remembered")
	}
	if got := refusal(p.allow(ip(1))); got != "client" {
		t.Fatalf("client 1, remembered: %q, want client", got)
	}
}

// TestLimiterClientAddr: IPv6 clients share a bucket per /64 and
// IPv4-mapped addresses count as IPv4; X-Forwarded-For is believed only
// from a trusted proxy, and then only up to the first address that is not
// a trusted proxy, reading from the right.
func TestLimiterClientAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::"},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::"},
	} {
		if got := bucketKey(addr(c.in)); got != addr(c.want) {
			t.Errorf("bucketKey(%s) = %s, want %s", c.in, got, c.want)
		}
	}

	p, _ := newTestLimiter(t, Options{Global: 10, GlobalBurst: 10, Client: 1, ClientBurst: 1, MaxClients: 10,
		TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1"}})
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.1", []string{"203.0.113.5"}, "192.0.2.1"},                     // not a proxy: header ignored
		{"127.0.0.1", nil, "127.0.0.1"},                                         // proxy, no header: the proxy
		{"127.0.0.1", []string{"203.0.113.5"}, "203.0.113.5"},                   // one hop
		{"127.0.0.1", []string{"6.6.6.6, 203.0.113.5"}, "203.0.113.5"},          // the client's own claim is ignored
		{"127.0.0.1", []string{"203.0.113.5, 10.1.1.1"}, "203.0.113.5"},         // through two trusted proxies
		{"127.0.0.1", []string{"203.0.113.5", "10.1.1.1"}, "203.0.113.5"},       // in two headers
		{"127.0.0.1", []string{"junk, 10.1.1.1"}, "10.1.1.1"},                   // garbage: the last vouched-for hop
		{"::ffff:127.0.0.1", []string{"2001:db8::5"}, "2001:db8::5"},            // mapped proxy address
		{"127.0.0.1", []string{"10.2.2.2, 10.1.1.1"}, "10.2.2.2"},               // all proxies: the left-most
		{"127.0.0.2", []string{"203.0.113.5"}, "127.0.0.2"},                     // a loopback that is not listed
		{"127.0.0.1", []string{" 203.0.113.5 , 10.1.1.1 "}, "203.0.113.5"},      // spaces
		{"127.0.0.1", []string{"[2001:db8::5]:443"}, "127.0.0.1"},               // not an address: stop at the proxy
		{"10.9.9.9", []string{"198.51.100.20, 198.51.100.21"}, "198.51.100.21"}, // right-most untrusted
	} {
		if got := p.clientAddr(addr(c.remote), c.xff); got != addr(c.want) {
			t.Errorf("clientAddr(%s, %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

// TestLimiterGatewayCalls: a public call from the gateway counts against
// the HTTP client it forwards, or not at all if the HTTP layer counted it
// already; without the gateway's secret neither claim is believed and the
// call counts against its peer.
func TestLimiterGatewayCalls(t *testing.T) {
	p, _ := newTestLimiter(t, Options{Global: 1000, GlobalBurst: 1000, Client: 0.001, ClientBurst: 1, MaxClients: 10})
	const public = "/kosh.v1.PublicService/GetReserveStatus"
	call := func(peerAddr string, kv ...string) error {
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(peerAddr))})
		return p.check(metadata.NewIncomingContext(ctx, metadata.Pairs(kv...)), public)
	}
	gw := "127.0.0.1:5000"
	// Counted by the HTTP layer: free, however often.
	for range 3 {
		if err := call(gw, mdGatewayToken, "secret", mdGatewayPeer, "192.0.2.1", mdGatewayCounted, "1"); err != nil {
			t.Fatalf("a call the HTTP layer counted: %v", err)
		}
	}
	// Not counted yet: against the forwarded client.
	if err := call(gw, mdGatewayToken, "secret", mdGatewayPeer, "192.0.2.1"); err != nil {
		t.Fatalf("192.0.2.1's first call through the gateway: %v", err)
	}
	if err := call(gw, mdGatewayToken, "secret", mdGatewayPeer, "192.0.2.1"); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("192.0.2.1's second call through the gateway: %v, want ResourceExhausted", err)
	}
	if err := call(gw, mdGatewayToken, "secret", mdGatewayPeer, "192.0.2.2"); err != nil {
		t.Fatalf("192.0.2.2's first call through the gateway: %v", err)
	}
	// A wrong secret: both claims ignored, the peer pays.
	if err := call("198.51.100.9:4000", mdGatewayToken, "guess", mdGatewayPeer, "192.0.2.3", mdGatewayCounted, "1"); err != nil {
		t.Fatalf("the forger's first call: %v", err)
	}
	err := call("198.51.100.9:4000", mdGatewayToken, "guess", mdGatewayPeer, "192.0.2.4", mdGatewayCounted, "1")
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "198.51.100.9") {
		t.Fatalf("the forger's second call: %v, want ResourceExhausted naming 198.51.100.9", err)
	}
	// Methods with a macaroon are never counted.
	for range 3 {
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort("198.51.100.9:4000"))})
		if err := p.check(ctx, "/kosh.v1.IssuerService/GetSupply"); err != nil {
			t.Fatalf("an issuer method: %v", err)
		}
	}
}
