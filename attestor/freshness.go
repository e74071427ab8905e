package attestor

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/lightning"
)

// Anchors is where the attestor finds the newest confirmed bitcoin anchor
// (docs/proofs.md 4.14); store/anchordb implements it.
type Anchors interface {
	// LatestConfirmedAnchor returns the newest confirmed anchor, or false
	// when none is confirmed.
	LatestConfirmedAnchor(ctx context.Context) (attest.AnchorRef, bool, error)
}

// anchor is the anchor the next attestation lists: the newest confirmed
// one, or, when a reorganisation has taken every confirmed anchor back,
// the one the previous attestation listed (an anchored chain never drops
// its anchor).
func (s *Service) anchor(ctx context.Context, prevDoc []byte) (*attest.AnchorRef, error) {
	if s.cfg.Anchors == nil {
		return nil, nil
	}
	r, ok, err := s.cfg.Anchors.LatestConfirmedAnchor(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the newest confirmed anchor: %w", err)
	}
	if ok {
		return &r, nil
	}
	if len(prevDoc) == 0 {
		return nil, nil
	}
	prev, err := attest.Parse(prevDoc)
	if err != nil {
		return nil, fmt.Errorf("read the previous attestation: %w", err)
	}
	return prev.Anchor, nil
}

// MempoolChecker is what a ReserveSource with a chain backend also does
// (reserve.Service): say which listed outputs a mempool transaction spends.
type MempoolChecker interface {
	SpentInMempool(ctx context.Context, utxos map[wire.OutPoint]int64) (reserve.Moved, error)
}

// ErrReservesMoved means no attestation was made because the reserves have
// moved since the block they were read at, and the previous attestation is
// already of that block: a second one would state outputs that are being
// spent as the reserves of now.
var ErrReservesMoved = errors.New("the reserves moved since the attested block")

// checkMoved refuses a second attestation of the block prev attested when a
// transaction in the chain backend's mempool spends a listed output
// (docs/proofs.md 4.5): the next attestation waits for the next block.
func (s *Service) checkMoved(ctx context.Context, prev Published, in Inputs) error {
	mc, ok := s.cfg.Reserves.(MempoolChecker)
	if !ok || prev.Seq == 0 || in.Chain.Hash == "" || in.Chain.Hash != prev.BlockHash {
		return nil
	}
	utxos := make(map[wire.OutPoint]int64, len(in.Chain.UTXOs))
	for _, u := range in.Chain.UTXOs {
		utxos[u.OutPoint] = u.Value
	}
	m, err := mc.SpentInMempool(ctx, utxos)
	if err != nil {
		return fmt.Errorf("check the reserves for spends since block %d: %w", in.Chain.Height, err)
	}
	if m.Outputs > 0 {
		return fmt.Errorf("%w: attestation %d already states block %d, and %d of its outputs (%d sats) are spent by transactions waiting in the mempool; the next attestation waits for the next block",
			ErrReservesMoved, prev.Seq, in.Chain.Height, m.Outputs, m.Sats)
	}
	return nil
}

// OutputChecker is what a ReserveSource with a chain backend also does
// (reserve.Service): say which outputs are unspent at the backend's tip.
type OutputChecker interface {
	UnspentNow(ctx context.Context, ops []wire.OutPoint) (map[wire.OutPoint]bool, error)
}

// pruneSpent drops from the Lightning nodes' reports the wallet outputs
// and channels whose outputs are no longer unspent at the chain's tip. A
// node's report is as old as its last poll: a wallet output the node spent
// since (a payout, an anchor) or a channel closed since would otherwise be
// stated as unspent at the attested block. Dropping one that was still
// unspent at the attested block only understates the reserves.
func (s *Service) pruneSpent(ctx context.Context, in *Inputs) error {
	oc, ok := s.cfg.Reserves.(OutputChecker)
	if !ok || len(in.Lightning) == 0 {
		return nil
	}
	var ops []wire.OutPoint
	parse := func(str string) (wire.OutPoint, bool) {
		op, err := wire.NewOutPointFromString(str)
		if err != nil {
			return wire.OutPoint{}, false
		}
		return *op, true
	}
	for _, r := range in.Lightning {
		for _, w := range r.Wallet {
			if op, ok := parse(w.Outpoint); ok {
				ops = append(ops, op)
			}
		}
		for _, c := range r.Channels {
			if op, ok := parse(c.ChannelPoint); ok {
				ops = append(ops, op)
			}
		}
	}
	if len(ops) == 0 {
		return nil
	}
	unspent, err := oc.UnspentNow(ctx, ops)
	if err != nil {
		return fmt.Errorf("check the Lightning nodes' outputs at the chain's tip: %w", err)
	}
	gone := func(str string) bool {
		op, ok := parse(str)
		return ok && !unspent[op]
	}
	reports := make([]lightning.Report, len(in.Lightning))
	for i, r := range in.Lightning {
		wallet := r.Wallet[:0:0]
		for _, w := range r.Wallet {
			if gone(w.Outpoint) {
				s.cfg.Log.Info("not listing a Lightning node's wallet output spent since its last poll", "node", r.Name, "outpoint", w.Outpoint, "sats", w.Value)
				continue
			}
			wallet = append(wallet, w)
		}
		channels := r.Channels[:0:0]
		for _, c := range r.Channels {
			if gone(c.ChannelPoint) {
				s.cfg.Log.Info("not listing a channel closed since the node's last poll", "node", r.Name, "channel_point", c.ChannelPoint)
				continue
			}
			channels = append(channels, c)
		}
		r.Wallet, r.Channels = wallet, channels
		reports[i] = r
	}
	in.Lightning = reports
	return nil
}
