package rpcserver

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/kosh-reserve/kosh/leader"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/receipts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Attestations makes and serves attestations.
type Attestations interface {
	// Attest makes one now; attestor.ErrBusy if one is being made.
	Attest(ctx context.Context) (attestor.Published, error)
	// Service reads attestations and builds inclusion proofs.
	Service() *attestor.Service
}

// ReceiptStats counts the receipts signed and the signatures made for
// them (zero without an issuer key).
func (s *Server) ReceiptStats() receipts.Stats {
	if s.receiptSigner == nil {
		return receipts.Stats{}
	}
	return s.receiptSigner.Stats()
}

func (s *Server) attestSvc() (*attestor.Service, error) {
	if s.attestations == nil {
		return nil, status.Error(codes.Unavailable, "attestations are not enabled on this koshd")
	}
	return s.attestations.Service(), nil
}

// Attest implements IssuerService.
func (s *Server) Attest(ctx context.Context, _ *koshv1.AttestRequest) (*koshv1.AttestResponse, error) {
	if s.attestations == nil {
		return nil, status.Error(codes.Unavailable, "attestations are not enabled on this koshd")
	}
	p, err := s.attestations.Attest(ctx)
	switch {
	case err == nil:
		return &koshv1.AttestResponse{Attestation: attestationToProto(p, true)}, nil
	case errors.Is(err, attestor.ErrBusy):
		return nil, status.Error(codes.Aborted, "another attestation is being made; try again when it is published")
	case errors.Is(err, leader.ErrNotLeader):
		return nil, status.Errorf(codes.Unavailable, "%v", err)
	case errors.Is(err, ledger.ErrNotFound), errors.Is(err, ledger.ErrInvalidArgument),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, s.toStatus(err)
	}
	// What stops an attestation (no block reported yet, a fiat asset with
	// liabilities and never a price) is something the operator must see.
	s.log.Error("attestation failed", "err", err)
	return nil, status.Errorf(codes.FailedPrecondition, "the attestation could not be made: %v", err)
}

func attestationToProto(p attestor.Published, withDoc bool) *koshv1.Attestation {
	a := &koshv1.Attestation{Id: p.ID, Sequence: p.Seq, PreviousId: p.PrevID, Height: p.Height, BlockHash: p.BlockHash,
		Time: ts(time.UnixMilli(p.CreatedAt)), Stale: p.Stale}
	if withDoc {
		a.Document = p.Document
	}
	return a
}

// GetLatestAttestation implements PublicService.
func (p *publicServer) GetLatestAttestation(ctx context.Context, _ *koshv1.GetLatestAttestationRequest) (*koshv1.GetLatestAttestationResponse, error) {
	svc, err := p.s.attestSvc()
	if err != nil {
		return nil, err
	}
	a, err := svc.Latest(ctx)
	if err != nil {
		return nil, p.s.toStatus(err)
	}
	return &koshv1.GetLatestAttestationResponse{Attestation: attestationToProto(a, true)}, nil
}

// GetAttestation implements PublicService.
func (p *publicServer) GetAttestation(ctx context.Context, req *koshv1.GetAttestationRequest) (*koshv1.GetAttestationResponse, error) {
	svc, err := p.s.attestSvc()
	if err != nil {
		return nil, err
	}
	a, err := svc.ByID(ctx, req.Id)
	if err != nil {
		return nil, p.s.toStatus(err)
	}
	return &koshv1.GetAttestationResponse{Attestation: attestationToProto(a, true)}, nil
}

// ListAttestations implements PublicService.
func (p *publicServer) ListAttestations(ctx context.Context, req *koshv1.ListAttestationsRequest) (*koshv1.ListAttestationsResponse, error) {
	svc, err := p.s.attestSvc()
	if err != nil {
		return nil, err
	}
	if req.BeforeSequence < 0 {
		return nil, status.Error(codes.InvalidArgument, "before_sequence must not be negative")
	}
	if req.Limit > 500 {
		return nil, status.Errorf(codes.InvalidArgument, "limit %d is above the maximum of 500", req.Limit)
	}
	rows, err := svc.List(ctx, req.BeforeSequence, int(req.Limit))
	if err != nil {
		return nil, p.s.toStatus(err)
	}
	out := &koshv1.ListAttestationsResponse{}
	for _, r := range rows {
		out.Attestations = append(out.Attestations, attestationToProto(r, false))
	}
	limit := int(req.Limit)
	if limit == 0 {
		limit = 50
	}
	if len(rows) == limit && rows[len(rows)-1].Seq > 1 {
		out.NextBeforeSequence = rows[len(rows)-1].Seq
	}
	return out, nil
}

// GetInclusionProof implements WalletService.
func (w *walletServer) GetInclusionProof(ctx context.Context, req *koshv1.GetInclusionProofRequest) (*koshv1.GetInclusionProofResponse, error) {
	if err := w.account(ctx, req.AccountId); err != nil {
		return nil, err
	}
	if err := ledger.ValidateAssetCode(req.Asset); err != nil {
		return nil, w.s.toStatus(err)
	}
	svc, err := w.s.attestSvc()
	if err != nil {
		return nil, err
	}
	b, err := svc.Bundle(ctx, req.AttestationId, req.Asset, req.AccountId)
	if errors.Is(err, ledger.ErrNotFound) {
		// Absent from a version 3 tree: the issuer's signed statement of
		// it, which a receipt can contradict (docs/proofs.md 5.1).
		st, aerr := svc.Absence(ctx, req.AttestationId, req.Asset, req.AccountId)
		if aerr == nil {
			doc, merr := st.Marshal()
			if merr != nil {
				return nil, w.s.toStatus(merr)
			}
			return &koshv1.GetInclusionProofResponse{Absence: string(doc)}, nil
		}
	}
	if err != nil {
		return nil, w.s.toStatus(err)
	}
	doc, err := json.Marshal(b)
	if err != nil {
		return nil, w.s.toStatus(err)
	}
	return &koshv1.GetInclusionProofResponse{Bundle: string(doc)}, nil
}

// receipts signs a receipt of each named account's balance after entry e
// (none without a key); see receipts.Signer.Compose.
func (s *Server) receipts(e ledger.Entry, accounts ...string) ([]*koshv1.Receipt, error) {
	return s.signReceipts(receipts.After(e, accounts...))
}

// signReceipts signs the receipts items name together and returns them in
// order, for the response. Without an issuer key it returns none.
func (s *Server) signReceipts(items []receipts.Of) ([]*koshv1.Receipt, error) {
	if s.receiptSigner == nil || len(items) == 0 {
		return nil, nil
	}
	rs, err := s.receiptSigner.Compose(items...)
	if err != nil {
		return nil, err
	}
	out := make([]*koshv1.Receipt, len(rs))
	for i, r := range rs {
		out[i] = &koshv1.Receipt{AccountId: r.Account, Asset: r.Asset, Balance: int64(r.Balance), Sequence: int64(r.Seq),
			Document: string(r.Document)}
	}
	return out, nil
}
