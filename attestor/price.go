package attestor

import (
	"context"
	"fmt"
	"math/big"

	"github.com/kosh-reserve/kosh/proofs/attest"
)

// AttestedPrice is the price of one bitcoin in a currency as the newest
// attestation signed it: Coefficient / 10^Scale units of the currency.
type AttestedPrice struct {
	Coefficient *big.Int
	Scale       int
	// Seq and ID name the attestation that states the price.
	Seq int64
	ID  string
}

// AttestedPrice returns currency's price in the newest attestation: what
// fiat-pegged redemptions are paid at.
func (s *Service) AttestedPrice(ctx context.Context, currency string) (AttestedPrice, error) {
	row, err := s.Latest(ctx)
	if err != nil {
		return AttestedPrice{}, err
	}
	doc, err := attest.Parse([]byte(row.Document))
	if err != nil {
		return AttestedPrice{}, fmt.Errorf("attestation %d: %w", row.Seq, err)
	}
	for _, as := range doc.Assets {
		if p := as.Price; p != nil && p.Currency == currency {
			return AttestedPrice{Coefficient: new(big.Int).Set(&p.Coefficient.Int), Scale: p.Scale,
				Seq: row.Seq, ID: row.ID}, nil
		}
	}
	return AttestedPrice{}, fmt.Errorf("attestation %d states no %s price", row.Seq, currency)
}
