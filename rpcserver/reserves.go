package rpcserver

import (
	"context"
	"encoding/hex"
	"fmt"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// Reserves is what the handlers read of the reserve side.
type Reserves interface {
	// Snapshot is the monitor's live picture.
	Snapshot() reserve.Snapshot
	// Details are the chain watcher's UTXOs and each node's channels.
	Details() (chain.Snapshot, []lightning.Report)
	// Prices values fiat-pegged assets (nil: no oracle).
	Prices() reserve.Prices
	// Proofs keeps the proofs of control (nil: none kept).
	Proofs() *proving.Book
}

// GetReserves implements IssuerService.
func (s *Server) GetReserves(ctx context.Context, _ *koshv1.GetReservesRequest) (*koshv1.GetReservesResponse, error) {
	snap, err := s.reserveSnapshot(ctx, true)
	if err != nil {
		return nil, s.toStatus(err)
	}
	return &koshv1.GetReservesResponse{Snapshot: snap}, nil
}

// Public returns the PublicService implementation.
func (s *Server) Public() koshv1.PublicServiceServer { return &publicServer{s: s} }

type publicServer struct {
	koshv1.UnimplementedPublicServiceServer
	s *Server
}

// GetReserveStatus implements PublicService. Poll errors are left out: they
// can name internal hosts.
func (p *publicServer) GetReserveStatus(ctx context.Context, _ *koshv1.GetReserveStatusRequest) (*koshv1.GetReserveStatusResponse, error) {
	snap, err := p.s.reserveSnapshot(ctx, false)
	if err != nil {
		return nil, p.s.toStatus(err)
	}
	return &koshv1.GetReserveStatusResponse{Snapshot: snap}, nil
}

func (s *Server) reserveSnapshot(ctx context.Context, withErrors bool) (*koshv1.ReserveSnapshot, error) {
	if s.reserves == nil {
		return nil, fmt.Errorf("%w: reserves are not available", ledger.ErrNotFound)
	}
	snap := s.reserves.Snapshot()
	out := &koshv1.ReserveSnapshot{Time: ts(snap.Time), Counted: snap.Counted, Usable: snap.Usable(),
		Stale: snap.Stale(), Problem: snap.Problem}
	if !withErrors && snap.Problem != "" {
		out.Problem = "reserves cannot be vouched for right now (a source is missing or stale)"
	}
	for _, src := range snap.Sources {
		ps := &koshv1.ReserveSource{Name: src.Name, Kind: src.Kind, Counted: src.Counted, Height: src.Height,
			BlockHash: src.Hash, Pubkey: src.PubKey, MaxAgeSeconds: int64(src.MaxAge.Seconds()), Stale: src.Stale}
		if !src.LastSeen.IsZero() {
			ps.LastSeen = ts(src.LastSeen)
		}
		if withErrors {
			ps.LastError = src.LastError
		}
		for _, c := range src.Classes {
			ps.Classes = append(ps.Classes, &koshv1.ReserveClass{Name: c.Name, Amount: c.Amount, Counted: c.Counted})
		}
		out.Sources = append(out.Sources, ps)
	}
	chainSnap, lns := s.reserves.Details()
	book := s.reserves.Proofs()
	for _, u := range chainSnap.UTXOs {
		ru := &koshv1.ReserveUtxo{Outpoint: u.OutPoint.String(), Value: u.Value, Source: reserve.ChainSourceName,
			Height: u.Height, Confirmations: chainSnap.Height - u.Height + 1, OutputDescriptor: u.Descriptor,
			DerivationIndex: u.Index, Script: hex.EncodeToString(u.PkScript)}
		st := proving.Status{Why: "no proof of control"}
		if book != nil {
			st = book.Status(ru.Outpoint, chainSnap.Height)
		}
		if st.Proof != nil {
			ru.ProofHeight = st.Proof.Challenge.Height
		}
		switch {
		case ru.Confirmations < chainSnap.MinConf:
			ru.Why = fmt.Sprintf("%d confirmations, fewer than %d", ru.Confirmations, chainSnap.MinConf)
		case !st.Counts:
			ru.Why = st.Why
		default:
			ru.Counted = true
		}
		out.Utxos = append(out.Utxos, ru)
	}
	for _, r := range lns {
		for _, w := range r.Wallet {
			out.Utxos = append(out.Utxos, &koshv1.ReserveUtxo{Outpoint: w.Outpoint, Value: w.Value, Source: r.Name,
				Height: w.FundingHeight, Confirmations: int64(r.BlockHeight) - w.FundingHeight + 1,
				Script: hex.EncodeToString(w.PkScript), Counted: w.Counted, Why: w.Why})
		}
		for _, c := range r.Channels {
			out.Channels = append(out.Channels, &koshv1.LightningChannel{Node: r.Name, ChannelPoint: c.ChannelPoint,
				Capacity: c.Capacity, Active: c.Active, LocalBalance: c.LocalBalance, Reserve: c.Reserve,
				Unsettled: c.Unsettled, Verified: c.Verified, Counted: c.Counted, Why: c.Why,
				Announced: c.Announced, ShortChannelId: c.ShortChannelID})
		}
	}
	assets, err := s.ledger.Assets(ctx)
	if err != nil {
		return nil, err
	}
	supplies := ledger.Supplies(assets)
	prices := s.reserves.Prices()
	cov, covErr := reserve.Compute(snap.Counted, supplies, prices)
	for i, a := range assets {
		ac := &koshv1.AssetCoverage{Asset: a.Code, Supply: a.Supply, MinCoverageBps: a.MinCoverageBps,
			Currency: a.Currency, WarnCoverageBps: a.WarnCoverageBps}
		var price *reserve.Price
		if a.Peg == ledger.PegFiat && prices != nil {
			if p, err := prices.Price(a.Currency); err == nil {
				price = &p
				ac.Price, ac.PriceManual = p.String(), p.Manual
			} else {
				ac.Problem = err.Error()
			}
		}
		if v, err := reserve.ValueInUnits(snap.Counted, supplies[i], price); err == nil && v.IsInt64() {
			ac.ReservesValue = v.Int64()
		}
		switch {
		case !snap.Usable():
			ac.Status = "unknown"
			if ac.Problem == "" {
				ac.Problem = out.Problem
			}
		case covErr != nil:
			ac.Status = "unknown"
			if ac.Problem == "" {
				ac.Problem = covErr.Error()
			}
		default:
			ac.CoverageBps = cov.CoverageBps
			switch {
			case cov.Below():
				ac.Status = "under-backed"
			case cov.Warning(a.WarnCoverageBps):
				ac.Status = "warning"
			default:
				ac.Status = "backed"
			}
		}
		out.Assets = append(out.Assets, ac)
	}
	return out, nil
}
