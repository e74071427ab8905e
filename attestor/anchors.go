package attestor

import (
	"context"
	"fmt"

	"github.com/kosh-reserve/kosh/proofs/attest"
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
