// Package gateway is koshd's HTTP surface: the grpc-gateway REST API
// (which calls the gRPC server over loopback TLS, so every REST call
// passes the same interceptors), strict JSON decoding, the OpenAPI
// document, /metrics and the public page, with the public routes rate
// limited.
package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/ratelimit"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// Config is what the HTTP surface serves.
type Config struct {
	// RPCAddr is the gRPC server's address; TLSCertPath its certificate.
	RPCAddr, TLSCertPath string
	// Limiter rate-limits the public routes.
	Limiter *ratelimit.Limiter
	// MaxRequestBytes bounds request bodies (413 above it).
	MaxRequestBytes int64
	// OpenAPI is the document served at /openapi.json.
	OpenAPI []byte
	// Metrics serves /metrics; Page the public page, its assets and the
	// attestation files.
	Metrics, Page http.Handler
}

// New builds the HTTP handler and returns it with its gRPC connection, for
// the caller to close at shutdown: the grpc-gateway (which calls the
// gRPC server over loopback TLS, so every REST call passes the same
// interceptors), the OpenAPI document, /metrics and the public page. The
// public REST routes (/v1/public/), the page, /openapi.json and /metrics
// are rate limited here, per client and in all; a public method the
// gateway serves on any other path is limited by the gRPC interceptor,
// against the HTTP client the gateway forwards with its secret.
func New(ctx context.Context, cfg Config) (http.Handler, *grpc.ClientConn, error) {
	conn, err := dial(cfg)
	if err != nil {
		return nil, nil, err
	}
	h, err := handler(ctx, cfg, conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return h, conn, nil
}

// dial connects the gateway to the gRPC server over loopback TLS.
func dial(cfg Config) (*grpc.ClientConn, error) {
	creds, err := credentials.NewClientTLSFromFile(cfg.TLSCertPath, "")
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate for the gateway: %w", err)
	}
	conn, err := grpc.NewClient(cfg.RPCAddr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, fmt.Errorf("dial gRPC for the gateway: %w", err)
	}
	return conn, nil
}

// handler builds the routes over the gateway's connection.
func handler(ctx context.Context, cfg Config, conn *grpc.ClientConn) (http.Handler, error) {
	gw := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(macaroonHeaderMatcher),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithMetadata(cfg.Limiter.GatewayMetadata),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, strictJSON{&runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
	)
	if err := koshv1.RegisterIssuerServiceHandler(ctx, gw, conn); err != nil {
		return nil, fmt.Errorf("register issuer gateway: %w", err)
	}
	if err := koshv1.RegisterWalletServiceHandler(ctx, gw, conn); err != nil {
		return nil, fmt.Errorf("register wallet gateway: %w", err)
	}
	if err := koshv1.RegisterPublicServiceHandler(ctx, gw, conn); err != nil {
		return nil, fmt.Errorf("register public gateway: %w", err)
	}
	mux := http.NewServeMux()
	// The gateway also answers every path nothing else serves, so that an
	// unknown route gets the same JSON error shape as the API's own errors.
	mux.Handle("/", limitBody(gw, cfg.MaxRequestBytes))
	// Over the limit: 429 with Retry-After and the gateway's JSON error.
	refuse := func(w http.ResponseWriter, r *http.Request, err error) {
		_, out := runtime.MarshalerForRequest(gw, r)
		runtime.HTTPError(r.Context(), gw, out, w, r, err)
	}
	limit := func(h http.Handler) http.Handler { return cfg.Limiter.Handler(h, refuse) }
	// The public REST routes are counted here, before the gateway, so that
	// a refusal costs no call to the gRPC server; the gateway tells the
	// gRPC limiter so, which then counts only public calls on other paths.
	mux.Handle("/v1/public/", limit(limitBody(gw, cfg.MaxRequestBytes)))
	mux.Handle("GET /openapi.json", limit(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(cfg.OpenAPI)
	})))
	mux.Handle("GET /metrics", limit(cfg.Metrics))
	// The public proof-of-reserves page, its assets and the signed
	// attestation files it links to.
	for _, pattern := range []string{"GET /{$}", "GET /static/", "GET /attestations/", "GET /favicon.ico"} {
		mux.Handle(pattern, limit(cfg.Page))
	}
	return mux, nil
}

// errorHandler is the gateway's default error handler, plus a Retry-After
// header on a refusal that says when to retry (the rate limit's
// ResourceExhausted with a RetryInfo detail; the body keeps the detail).
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if st, ok := status.FromError(err); ok && st.Code() == codes.ResourceExhausted {
		for _, det := range st.Details() {
			if ri, ok := det.(*errdetails.RetryInfo); ok && ri.RetryDelay != nil {
				w.Header().Set("Retry-After", strconv.FormatInt(ratelimit.RetrySeconds(ri.RetryDelay.AsDuration()), 10))
			}
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// macaroonHeaderMatcher forwards the macaroon header, as lnd's REST API
// takes it, and nothing else a client could use to forge metadata.
func macaroonHeaderMatcher(key string) (string, bool) {
	if textproto.CanonicalMIMEHeaderKey(key) == "Grpc-Metadata-Macaroon" {
		return "macaroon", true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// routingErrorHandler is the gateway's default, except that a known path
// called with the wrong method is 405 Method Not Allowed (the default
// answers 501, which says the server supports no such method at all).
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler,
	w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus == http.StatusMethodNotAllowed {
		runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus,
			Err: status.Errorf(codes.Unimplemented, "Method Not Allowed: %s is not served on %s", r.Method, r.URL.Path)})
		return
	}
	runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
}

// limitBody refuses request bodies over max bytes with 413 and a JSON body
// shaped like the gateway's own errors. A body of unknown length (chunked)
// is read up to the limit first, so it is refused the same way.
func limitBody(next http.Handler, max int64) http.Handler {
	tooLarge := func(w http.ResponseWriter, size string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		fmt.Fprintf(w, `{"code":8,"message":"request body is %s bytes; the limit is %d","details":[]}`, size, max)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			tooLarge(w, strconv.FormatInt(r.ContentLength, 10))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		if r.ContentLength < 0 {
			b, err := io.ReadAll(r.Body)
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				tooLarge(w, "more than "+strconv.FormatInt(max, 10))
				return
			}
			if err != nil {
				// The client went away mid-body; nobody reads a reply.
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}
		next.ServeHTTP(w, r)
	})
}
