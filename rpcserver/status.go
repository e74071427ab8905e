package rpcserver

import (
	"context"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// StatusSource answers GetStatus: the leadership and the database as this
// koshd sees them (package daemon keeps them).
type StatusSource interface {
	Status(ctx context.Context) *koshv1.GetStatusResponse
}

// GetStatus implements PublicService.
func (p *publicServer) GetStatus(ctx context.Context, _ *koshv1.GetStatusRequest) (*koshv1.GetStatusResponse, error) {
	if p.s.status == nil {
		return nil, status.Error(codes.Unavailable, "status is not available on this koshd")
	}
	return p.s.status.Status(ctx), nil
}
