package attestor

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/kosh-reserve/kosh/proofs/attest"
)

// AttestedPrice is the price of one bitcoin in a currency as an
// attestation signed it: Coefficient / 10^Scale units of the currency.
type AttestedPrice struct {
	Currency    string
	Coefficient *big.Int
	Scale       int
	// Seq and ID name the attestation that states the price (set by
	// Service.AttestedPrice).
	Seq int64
	ID  string
}

// AttestedPrice returns currency's price in the newest attestation, as
// stored with it: what fiat-pegged redemptions are paid at.
func (s *Service) AttestedPrice(ctx context.Context, currency string) (AttestedPrice, error) {
	row, err := s.Latest(ctx)
	if err != nil {
		return AttestedPrice{}, err
	}
	prices, err := s.cfg.DB.AttestedPrices(ctx, row.Seq)
	if err != nil {
		return AttestedPrice{}, fmt.Errorf("prices of attestation %d: %w", row.Seq, err)
	}
	for _, p := range prices {
		if p.Currency == currency {
			p.Seq, p.ID = row.Seq, row.ID
			return p, nil
		}
	}
	return AttestedPrice{}, fmt.Errorf("attestation %d states no %s price", row.Seq, currency)
}

// FillPrices stores the prices of the newest attestation if it was stored
// before prices were (read once from its signed document), so that
// AttestedPrice answers for it. koshd calls it at start.
func (s *Service) FillPrices(ctx context.Context) error {
	row, err := s.cfg.DB.LatestAttestation(ctx)
	if errors.Is(err, ErrNotStored) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the newest attestation: %w", err)
	}
	stored, err := s.cfg.DB.AttestedPrices(ctx, row.Seq)
	if err != nil {
		return fmt.Errorf("prices of attestation %d: %w", row.Seq, err)
	}
	if len(stored) > 0 {
		return nil
	}
	doc, err := attest.Parse([]byte(row.Document))
	if err != nil {
		return fmt.Errorf("attestation %d: %w", row.Seq, err)
	}
	prices := statedPrices(doc)
	if len(prices) == 0 {
		return nil
	}
	if err := s.cfg.DB.InsertAttestedPrices(ctx, row.Seq, prices); err != nil {
		return err
	}
	s.cfg.Log.Info("stored the prices of an attestation made before prices were stored", "seq", row.Seq,
		"currencies", len(prices))
	return nil
}
