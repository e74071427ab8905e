// Package ratelimit limits what anyone can ask of koshd without a
// macaroon: the public gRPC methods and their REST routes, the public page
// and its files, /metrics and /openapi.json. Each client (IPv6 by /64) has
// a token bucket and all clients share a global one; issuer and wallet
// calls, which carry a macaroon, are never counted.
package ratelimit

import (
	"container/list"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kosh-reserve/kosh/perms"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Options limits what anyone can ask of koshd without a macaroon:
// the public gRPC methods (and their REST routes), the public page with its
// assets and attestation files, /metrics and /openapi.json. Each client
// (keyed by IP address, IPv6 by /64) has a token bucket, and all clients
// together share a global one; a request needs a token from both. Issuer
// and wallet calls, which carry a macaroon, are never counted.
type Options struct {
	Global         float64       `long:"global" description:"Requests per second the public surface serves, all clients together"`
	GlobalBurst    int           `long:"globalburst" description:"Requests the public surface serves at once, all clients together, after a quiet spell"`
	Client         float64       `long:"client" description:"Requests per second one client (IP address; IPv6 /64) is served"`
	ClientBurst    int           `long:"clientburst" description:"Requests one client is served at once after a quiet spell"`
	MaxClients     int           `long:"maxclients" description:"Clients whose buckets are remembered; past it the least recently seen is forgotten"`
	RefusalDelay   time.Duration `long:"refusaldelay" description:"How long a refusal is held before it is sent, so that a client repeating refused requests as fast as it is answered sends few (0: at once)"`
	TrustedProxies []string      `long:"trustedproxy" description:"Address or CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable)"`
}

// DefaultOptions returns the default limits.
func DefaultOptions() Options {
	return Options{Global: 50, GlobalBurst: 100, Client: 5, ClientBurst: 20, MaxClients: 10_000,
		RefusalDelay: time.Second}
}

const (
	// maxTrackedClients bounds --ratelimit.maxclients (about 200 bytes each).
	maxTrackedClients = 10_000_000
	// maxRefusalDelay bounds --ratelimit.refusaldelay.
	maxRefusalDelay = time.Minute
	// maxHeldRefusals bounds the refusals held at once (a goroutine and a
	// request's buffers each); past it refusals are sent at once.
	maxHeldRefusals = 2048
)

// Validate checks the [ratelimit] options for limits that cannot work.
func (c Options) Validate() error {
	switch {
	case !(c.Global > 0) || math.IsInf(c.Global, 0):
		return fmt.Errorf("--ratelimit.global %v: must be a positive number of requests per second", c.Global)
	case !(c.Client > 0) || math.IsInf(c.Client, 0):
		return fmt.Errorf("--ratelimit.client %v: must be a positive number of requests per second", c.Client)
	case c.GlobalBurst < 1 || c.ClientBurst < 1:
		return fmt.Errorf("--ratelimit.globalburst (%d) and --ratelimit.clientburst (%d) must be at least 1", c.GlobalBurst, c.ClientBurst)
	case c.Client > c.Global || c.ClientBurst > c.GlobalBurst:
		return fmt.Errorf("--ratelimit.client %v/s (burst %d) is above --ratelimit.global %v/s (burst %d): one client must not be allowed more than all of them together",
			c.Client, c.ClientBurst, c.Global, c.GlobalBurst)
	case c.MaxClients < 1 || c.MaxClients > maxTrackedClients:
		return fmt.Errorf("--ratelimit.maxclients %d: want 1 to %d", c.MaxClients, maxTrackedClients)
	case c.RefusalDelay < 0 || c.RefusalDelay > maxRefusalDelay:
		return fmt.Errorf("--ratelimit.refusaldelay %s: want 0 to %s", c.RefusalDelay, maxRefusalDelay)
	}
	_, err := parseProxies(c.TrustedProxies)
	return err
}

func parseProxies(specs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--ratelimit.trustedproxy %q: want an IP address or a CIDR prefix (127.0.0.1, 10.0.0.0/8)", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Metadata keys the REST gateway sets on its calls to the gRPC server: a
// secret only this process knows, and the client the HTTP request came
// from. A gRPC client cannot set them in a way the limiter believes
// without the secret, and the gateway forwards no client header under
// these names (its header matcher passes only the macaroon and the
// standard "grpcgateway-" headers).
const (
	mdGatewayToken = "kosh-gateway-token"
	mdGatewayPeer  = "kosh-gateway-client"
	// mdGatewayCounted says the HTTP layer already took the request's
	// token (the /v1/public/ routes are limited before the gateway, which
	// makes a refusal cheaper than a round trip to the gRPC server).
	mdGatewayCounted = "kosh-gateway-counted"
)

// countedKey marks a request context whose token the HTTP layer took.
type countedKey struct{}

// Limiter rate-limits the public surface per client and in all, so
// that nobody without a macaroon can starve the issuer and wallet APIs, and
// no single client can take the public budget from the others.
type Limiter struct {
	cfg     Options
	proxies []netip.Prefix
	// token authenticates the gateway's forwarded client address.
	token string
	now   func() time.Time

	// held counts refusals being held (see hold).
	held atomic.Int64

	mu      sync.Mutex
	global  bucket
	clients map[netip.Addr]*list.Element // of *clientBucket
	lru     list.List                    // front: most recently seen

	limited *prometheus.CounterVec
}

// bucket is a token bucket: tokens refill at a rate up to a burst.
type bucket struct {
	tokens float64
	last   time.Time
}

// refill adds the tokens earned since the last call.
func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d.Seconds()*rate)
	}
	b.last = now
}

// wait is how long until the bucket holds a whole token.
func (b *bucket) wait(rate float64) time.Duration {
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

type clientBucket struct {
	key netip.Addr
	bucket
}

// New returns a limiter; token is the secret by which the REST gateway,
// in this process, proves the client address it forwards.
func New(cfg Options, token string) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	proxies, _ := parseProxies(cfg.TrustedProxies)
	p := &Limiter{cfg: cfg, proxies: proxies, token: token, now: time.Now,
		clients: make(map[netip.Addr]*list.Element),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kosh_public_requests_limited_total",
			Help: "Public requests refused with 429/ResourceExhausted, by the limit they hit (client or global)."},
			[]string{"limit"}),
	}
	p.limited.WithLabelValues("client") // both series exist from the start
	p.limited.WithLabelValues("global")
	p.global = bucket{tokens: float64(cfg.GlobalBurst), last: p.now()}
	return p, nil
}

// Collectors are the limiter's metrics.
func (p *Limiter) Collectors() []prometheus.Collector {
	return []prometheus.Collector{p.limited, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kosh_public_clients_tracked", Help: "Clients whose public rate-limit buckets are remembered."},
		func() float64 { p.mu.Lock(); defer p.mu.Unlock(); return float64(len(p.clients)) })}
}

// errLimited is a refusal: which limit, and when to retry.
type errLimited struct {
	client     netip.Addr
	global     bool
	retryAfter time.Duration
	rate       float64
}

func (e *errLimited) Error() string {
	retry := RetrySeconds(e.retryAfter)
	if e.global {
		return fmt.Sprintf("the public API is busy (it serves %v requests per second in all); retry in %ds", e.rate, retry)
	}
	return fmt.Sprintf("too many requests from %s: the public API serves %v per second to one client; retry in %ds", e.client, e.rate, retry)
}

// RetrySeconds rounds a wait up to whole seconds, at least one (the unit of
// HTTP's Retry-After).
func RetrySeconds(d time.Duration) int64 {
	return max(1, int64(math.Ceil(d.Seconds())))
}

// status is the refusal as a gRPC status: ResourceExhausted with a
// RetryInfo detail, which the gateway turns into HTTP 429 and Retry-After.
func (e *errLimited) status() *status.Status {
	st := status.New(codes.ResourceExhausted, e.Error())
	if d, err := st.WithDetails(&errdetails.RetryInfo{
		RetryDelay: durationpb.New(time.Duration(RetrySeconds(e.retryAfter)) * time.Second)}); err == nil {
		return d
	}
	return st
}

// hold delays a refusal by about the configured delay (or until ctx ends),
// unless maxHeldRefusals are held already. A client that repeats a refused
// request as soon as it is answered, as flooding tools do, then sends one a
// delay instead of one a round trip, and the refusals it no longer sends
// cost koshd nothing: without the delay, answering them took the cores the
// issuer's calls need (bench/public). The delay is drawn from [d/2, 3d/2)
// so that clients refused together do not all come back together.
func (p *Limiter) hold(ctx context.Context) {
	d := p.cfg.RefusalDelay
	if d <= 0 {
		return
	}
	if p.held.Add(1) > maxHeldRefusals {
		p.held.Add(-1)
		return
	}
	defer p.held.Add(-1)
	t := time.NewTimer(d/2 + rand.N(d))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// allow takes a token for client from its bucket and from the global one,
// or from neither and says which was empty.
func (p *Limiter) allow(client netip.Addr) error {
	key := bucketKey(client)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var c *clientBucket
	if el, ok := p.clients[key]; ok {
		p.lru.MoveToFront(el)
		c = el.Value.(*clientBucket)
		c.refill(now, p.cfg.Client, p.cfg.ClientBurst)
	} else {
		// A client seen for the first time, or forgotten, starts full:
		// forgetting is never stricter than remembering.
		if len(p.clients) >= p.cfg.MaxClients {
			old := p.lru.Back()
			delete(p.clients, old.Value.(*clientBucket).key)
			p.lru.Remove(old)
		}
		c = &clientBucket{key: key, bucket: bucket{tokens: float64(p.cfg.ClientBurst), last: now}}
		p.clients[key] = p.lru.PushFront(c)
	}
	p.global.refill(now, p.cfg.Global, p.cfg.GlobalBurst)
	if c.tokens < 1 {
		p.limited.WithLabelValues("client").Inc()
		return &errLimited{client: client, retryAfter: c.wait(p.cfg.Client), rate: p.cfg.Client}
	}
	if p.global.tokens < 1 {
		p.limited.WithLabelValues("global").Inc()
		return &errLimited{client: client, global: true, retryAfter: p.global.wait(p.cfg.Global), rate: p.cfg.Global}
	}
	c.tokens--
	p.global.tokens--
	return nil
}

// bucketKey is the bucket a client address counts against: an IPv4
// address (IPv4-mapped IPv6 included) by itself, an IPv6 address by its
// /64, the smallest block a site is usually given.
func bucketKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a
}

// clientAddr is the client behind a connection from remote: remote itself,
// unless remote is a trusted proxy, in which case the right-most address of
// X-Forwarded-For that is not a trusted proxy (the last hop a trusted proxy
// saw; addresses further left are whatever the client claimed).
func (p *Limiter) clientAddr(remote netip.Addr, forwardedFor []string) netip.Addr {
	remote = remote.Unmap()
	if !p.trusted(remote) {
		return remote
	}
	client := remote
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		hops := strings.Split(forwardedFor[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return client // garbage: stop at the last address a trusted proxy vouched for
			}
			client = a.Unmap()
			if !p.trusted(client) {
				return client
			}
		}
	}
	return client
}

func (p *Limiter) trusted(a netip.Addr) bool {
	for _, pr := range p.proxies {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// httpClient is the client of an HTTP request.
func (p *Limiter) httpClient(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.IPv6Unspecified() // not a TCP peer; all such share one bucket
	}
	return p.clientAddr(ap.Addr(), r.Header.Values("X-Forwarded-For"))
}

// grpcClient is the client of a gRPC call: the HTTP client the gateway
// forwarded (only if the call carries the gateway's secret), or the peer.
func (p *Limiter) grpcClient(ctx context.Context) netip.Addr {
	md, _ := metadata.FromIncomingContext(ctx)
	if p.fromGateway(md) {
		if c := md.Get(mdGatewayPeer); len(c) == 1 {
			if a, err := netip.ParseAddr(c[0]); err == nil {
				return a
			}
		}
	}
	pr, ok := peer.FromContext(ctx)
	if !ok || pr.Addr == nil {
		return netip.IPv6Unspecified()
	}
	var remote netip.Addr
	if tcp, ok := pr.Addr.(*net.TCPAddr); ok {
		remote = tcp.AddrPort().Addr()
	} else if ap, err := netip.ParseAddrPort(pr.Addr.String()); err == nil {
		remote = ap.Addr()
	} else {
		return netip.IPv6Unspecified()
	}
	return p.clientAddr(remote, md.Get("x-forwarded-for"))
}

// GatewayMetadata is what the gateway adds to every call it makes: the
// secret and the HTTP client.
func (p *Limiter) GatewayMetadata(_ context.Context, r *http.Request) metadata.MD {
	md := metadata.Pairs(mdGatewayToken, p.token, mdGatewayPeer, p.httpClient(r).String())
	if counted, _ := r.Context().Value(countedKey{}).(bool); counted {
		md.Set(mdGatewayCounted, "1")
	}
	return md
}

// fromGateway reports whether a call carries the gateway's secret.
func (p *Limiter) fromGateway(md metadata.MD) bool {
	tok := md.Get(mdGatewayToken)
	return len(tok) == 1 && subtle.ConstantTimeCompare([]byte(tok[0]), []byte(p.token)) == 1
}

func (p *Limiter) check(ctx context.Context, method string) error {
	if !perms.Methods[method].Public {
		return nil
	}
	if md, _ := metadata.FromIncomingContext(ctx); p.fromGateway(md) && len(md.Get(mdGatewayCounted)) > 0 {
		return nil // the HTTP layer counted it
	}
	var lim *errLimited
	if err := p.allow(p.grpcClient(ctx)); errors.As(err, &lim) {
		p.hold(ctx)
		return lim.status().Err()
	}
	return nil
}

// Unary is the gRPC unary interceptor that limits public methods.
func (p *Limiter) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := p.check(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

// Stream is the gRPC stream interceptor that limits public methods.
func (p *Limiter) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := p.check(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

// Handler limits an HTTP route; refusals are written by refuse (HTTP 429
// with a JSON body like the gateway's errors, and Retry-After).
func (p *Limiter) Handler(next http.Handler, refuse func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var lim *errLimited
		if err := p.allow(p.httpClient(r)); errors.As(err, &lim) {
			p.hold(r.Context())
			refuse(w, r, lim.status().Err())
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), countedKey{}, true)))
	})
}
