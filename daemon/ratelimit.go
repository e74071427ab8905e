package daemon

import (
	"context"

	"github.com/kosh-reserve/kosh/perms"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// publicLimiter rate-limits the public (unauthenticated) methods, which
// anyone can call, so that they cannot starve the issuer and wallet APIs.
type publicLimiter struct{ lim *rate.Limiter }

func newPublicLimiter(perSecond float64, burst int) *publicLimiter {
	return &publicLimiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

func (p *publicLimiter) allow(method string) error {
	if !perms.Methods[method].Public || p.lim.Allow() {
		return nil
	}
	return status.Error(codes.ResourceExhausted, "the public API is busy; retry in a second")
}

func (p *publicLimiter) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := p.allow(info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (p *publicLimiter) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := p.allow(info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}
