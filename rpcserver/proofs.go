package rpcserver

import (
	"context"
	"errors"

	"github.com/btcsuite/btcd/btcutil/psbt"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ProofKeeper exports and imports proofs of control (reserve.Service).
type ProofKeeper interface {
	ExportProof(outpoints []string, all bool) (*psbt.Packet, control.Challenge, []proving.Output, error)
	ImportProof(ctx context.Context, packets []*psbt.Packet) (proving.ImportResult, error)
}

// proofStatus maps proof errors to statuses a person can act on.
func (s *Server) proofStatus(err error) error {
	switch {
	case errors.Is(err, reserve.ErrNoProofs), errors.Is(err, proving.ErrRefused):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return s.toStatus(err)
}

// ExportControlProof implements IssuerService.
func (s *Server) ExportControlProof(ctx context.Context, req *koshv1.ExportControlProofRequest) (*koshv1.ExportControlProofResponse, error) {
	if req.All && len(req.Outpoints) > 0 {
		return nil, status.Error(codes.InvalidArgument, "give outpoints or all, not both")
	}
	keeper, ok := s.reserves.(ProofKeeper)
	if !ok {
		return nil, status.Error(codes.Unavailable, "proofs of control are not available on this koshd")
	}
	p, ch, outs, err := keeper.ExportProof(req.Outpoints, req.All)
	if err != nil {
		return nil, s.proofStatus(err)
	}
	b64, err := proving.Encode(p)
	if err != nil {
		return nil, s.toStatus(err)
	}
	resp := &koshv1.ExportControlProofResponse{Psbt: b64, Message: ch.Message(), Height: ch.Height, BlockHash: ch.Hash}
	for _, o := range outs {
		resp.Outpoints = append(resp.Outpoints, o.OutPoint.String())
		resp.Value += o.Value
	}
	return resp, nil
}

// ImportControlProof implements IssuerService.
func (s *Server) ImportControlProof(ctx context.Context, req *koshv1.ImportControlProofRequest) (*koshv1.ImportControlProofResponse, error) {
	if len(req.Psbts) == 0 {
		return nil, status.Error(codes.InvalidArgument, "psbts is empty: give the signed PSBT (base64), or the final transaction (hex)")
	}
	keeper, ok := s.reserves.(ProofKeeper)
	if !ok {
		return nil, status.Error(codes.Unavailable, "proofs of control are not available on this koshd")
	}
	var packets []*psbt.Packet
	for i, b := range req.Psbts {
		p, err := proving.DecodePSBT([]byte(b))
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "psbts[%d]: %v", i, err)
		}
		packets = append(packets, p)
	}
	res, err := keeper.ImportProof(ctx, packets)
	if err != nil {
		return nil, s.proofStatus(err)
	}
	return &koshv1.ImportControlProofResponse{Outpoints: res.Outputs, Height: res.Proof.Challenge.Height,
		BlockHash: res.Proof.Challenge.Hash, ProofId: res.Proof.ID}, nil
}
