package rpcserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sig"
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

// SetAttestations gives the server the attestation service and the issuer
// key that signs balance receipts. Without them Attest and the attestation
// reads fail with Unavailable and responses carry no receipts.
func (s *Server) SetAttestations(a Attestations, key *btcec.PrivateKey) {
	s.attestations = a
	if key != nil {
		s.receiptSigner = receipts.New(sig.NewSigner(key))
	}
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
		return nil, status.Error(codes.Aborted, err.Error())
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
// (none without a key). Receipts are derived from the stored entry, so a
// replayed request gets the same figures.
func (s *Server) receipts(e ledger.Entry, accounts ...string) ([]*koshv1.Receipt, error) {
	items := make([]receiptOf, 0, len(accounts))
	for _, acct := range accounts {
		if acct != "" {
			items = append(items, receiptOf{e, acct})
		}
	}
	return s.signReceipts(items)
}

// receiptOf names one receipt: an account's balance after an entry.
type receiptOf struct {
	e    ledger.Entry
	acct string
}

// signReceipts signs the receipts of items together (one batch, or more
// shared with concurrent calls; see package receipts) and returns them in
// order. Without an issuer key it returns none.
func (s *Server) signReceipts(items []receiptOf) ([]*koshv1.Receipt, error) {
	if s.receiptSigner == nil || len(items) == 0 {
		return nil, nil
	}
	rs := make([]*receipt.Receipt, len(items))
	for i, it := range items {
		var bal int64
		switch it.acct {
		case it.e.CreditAccountID:
			bal = it.e.CreditBalanceAfter
		case it.e.DebitAccountID:
			bal = it.e.DebitBalanceAfter
		default:
			return nil, fmt.Errorf("receipt for %s: entry %d does not touch it", it.acct, it.e.Seq)
		}
		rs[i] = &receipt.Receipt{Asset: it.e.Asset, Account: it.acct, Balance: attest.Amount(bal),
			Seq: attest.Amount(it.e.Seq), Time: it.e.CreatedAt.UTC().Format(attest.TimeLayout)}
	}
	// A replayed request gets a receipt of the same figures, freshly
	// signed.
	if err := s.receiptSigner.Sign(rs...); err != nil {
		return nil, fmt.Errorf("sign receipts: %w", err)
	}
	out := make([]*koshv1.Receipt, len(rs))
	for i, r := range rs {
		doc, err := r.Marshal()
		if err != nil {
			return nil, err
		}
		out[i] = &koshv1.Receipt{AccountId: r.Account, Asset: r.Asset, Balance: int64(r.Balance), Sequence: int64(r.Seq),
			Document: string(doc)}
	}
	return out, nil
}
