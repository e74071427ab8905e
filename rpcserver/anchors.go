package rpcserver

import (
	"context"
	"errors"
	"github.com/kosh-reserve/kosh/leader"
	"time"

	"github.com/kosh-reserve/kosh/anchorer"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/schedule"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Anchors makes anchors on demand and lists them.
type Anchors interface {
	// Anchor makes one now (anchorer.Runner.Anchor).
	Anchor(ctx context.Context) (anchorer.Record, error)
	// List pages through anchors, newest first.
	List(ctx context.Context, before int64, limit int) ([]anchorer.Record, error)
}

// Anchor implements IssuerService.
func (s *Server) Anchor(ctx context.Context, _ *koshv1.AnchorRequest) (*koshv1.AnchorResponse, error) {
	if s.anchors == nil {
		return nil, status.Error(codes.FailedPrecondition, "anchoring is not configured on this koshd (set --anchor.lnd)")
	}
	r, err := s.anchors.Anchor(ctx)
	switch {
	case err == nil:
		return &koshv1.AnchorResponse{Anchor: anchorToProto(r)}, nil
	case errors.Is(err, schedule.ErrBusy):
		return nil, status.Error(codes.Aborted, "an anchor is being made; try again when it is published")
	case errors.Is(err, leader.ErrNotLeader):
		return nil, status.Errorf(codes.Unavailable, "%v", err)
	case errors.Is(err, anchorer.ErrNothingToAnchor), errors.Is(err, anchorer.ErrPending):
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, status.FromContextError(err).Err()
	}
	s.log.Error("anchor failed", "err", err)
	return nil, status.Errorf(codes.FailedPrecondition, "the anchor could not be made: %v", err)
}

// ListAnchors implements PublicService.
func (p *publicServer) ListAnchors(ctx context.Context, req *koshv1.ListAnchorsRequest) (*koshv1.ListAnchorsResponse, error) {
	if req.BeforeSeq < 0 {
		return nil, status.Error(codes.InvalidArgument, "before_seq must not be negative")
	}
	out := &koshv1.ListAnchorsResponse{}
	if p.s.anchors == nil {
		return out, nil
	}
	limit := int(req.Limit)
	if limit == 0 {
		limit = 50
	}
	if limit > 500 {
		return nil, status.Error(codes.InvalidArgument, "limit must be at most 500")
	}
	rs, err := p.s.anchors.List(ctx, req.BeforeSeq, limit+1)
	if err != nil {
		return nil, p.s.toStatus(err)
	}
	if len(rs) > limit {
		rs = rs[:limit]
		out.NextBeforeSeq = rs[limit-1].Seq
	}
	for _, r := range rs {
		out.Anchors = append(out.Anchors, anchorToProto(r))
	}
	return out, nil
}

func anchorToProto(r anchorer.Record) *koshv1.AnchorTx {
	return &koshv1.AnchorTx{Seq: r.Seq, AttestationSeq: r.AttestationSeq, AttestationId: r.AttestationID, Txid: r.Txid,
		State: string(r.State), Height: r.Height, BlockHash: r.BlockHash, PrevTxid: r.PrevTxid, FeeSats: r.FeeSats,
		Vbytes: r.Vbytes, CreatedAt: timestamppb.New(time.UnixMilli(r.CreatedAt))}
}
