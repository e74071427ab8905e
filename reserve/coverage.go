package reserve

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/money"
)

// Price is the price of one bitcoin in a fiat currency, in fixed point:
// Coefficient / 10^Scale whole units of the currency (e.g. rupees) per BTC
// (Value, a money.Price), with where it came from. Never a float.
type Price struct {
	Currency    string
	Coefficient *big.Int
	Scale       uint8
	Time        time.Time
	// Manual is true when an issuer set the price by hand.
	Manual bool
	// Sources are the oracle quotes the price is the median of (none for a
	// manual price); SpreadBps is their largest deviation from it.
	Sources   []PriceSource
	SpreadBps int64
}

// PriceSource is one oracle source's quote behind a price.
type PriceSource struct {
	Name        string
	Coefficient *big.Int
	Scale       uint8
	Time        time.Time
}

// Value returns the price's value, Coefficient / 10^Scale, as a
// money.Price sharing p's coefficient.
func (p Price) Value() money.Price { return money.Price{Coefficient: p.Coefficient, Scale: p.Scale} }

// String renders the price as a decimal, e.g. "6543210.12 INR/BTC".
func (p Price) String() string {
	if p.Coefficient == nil {
		return "no price"
	}
	return p.Value().String() + " " + p.Currency + "/BTC"
}

// Prices gives the current usable price of a currency, from memory (it is
// called inside a mint's database transaction). An error says, in words a
// person can act on, why no usable price exists (stale, too few sources).
type Prices interface {
	Price(currency string) (Price, error)
}

// ErrNoOracle means a fiat-pegged asset exists but no price oracle is
// configured.
var ErrNoOracle = errors.New("no price oracle is configured: a fiat-pegged asset needs [oracle] sources to be valued against the reserves")

// RequiredSats returns, exactly, the sats of reserves that supply units of
// asset a need at coverage bps (basis points): supply × bps / 10000 for a
// sat-pegged asset; for a fiat-pegged one the supply's value in sats at
// price p (money.UnitsInSats), times bps / 10000. It is a rational:
// callers decide how to round (always against the issuer: up).
func RequiredSats(a ledger.AssetSupply, bps int64, p *Price) (*big.Rat, error) {
	share := big.NewRat(bps, ledger.BasisPoints)
	switch a.Peg {
	case ledger.PegSat:
		return share.Mul(share, new(big.Rat).SetInt64(a.Supply)), nil
	case ledger.PegFiat:
		if p == nil || p.Coefficient == nil || p.Coefficient.Sign() <= 0 {
			return nil, fmt.Errorf("no usable %s price to value %s", a.Currency, a.Code)
		}
		v, err := money.UnitsInSats(a.Supply, p.Value(), a.Decimals)
		if err != nil {
			return nil, fmt.Errorf("value %s: %w", a.Code, err)
		}
		return v.Mul(v, share), nil
	}
	return nil, fmt.Errorf("asset %s has an unknown peg %d", a.Code, a.Peg)
}

// ValueInUnits values sats of reserves in base units of a fiat asset at
// price p, rounded down (against the issuer): money.SatsInUnits, floored.
// For a sat-pegged asset it is sats.
func ValueInUnits(sats int64, a ledger.AssetSupply, p *Price) (*big.Int, error) {
	if a.Peg == ledger.PegSat {
		return big.NewInt(sats), nil
	}
	if p == nil || p.Coefficient == nil || p.Coefficient.Sign() <= 0 {
		return nil, fmt.Errorf("no usable %s price to value the reserves", a.Currency)
	}
	v, err := money.SatsInUnits(sats, p.Value(), a.Decimals)
	if err != nil {
		return nil, fmt.Errorf("value the reserves in %s: %w", a.Code, err)
	}
	return money.Round(v, money.Floor), nil
}

// Coverage is the reserves against the whole outstanding supply.
type Coverage struct {
	// Reserves is the counted reserves in sats.
	Reserves int64
	// Required is the sats the outstanding supply needs at each asset's
	// policy minimum, rounded up.
	Required *big.Int
	// Backing is the sats the outstanding supply is worth at 1.00x,
	// rounded up.
	Backing *big.Int
	// CoverageBps is Reserves / Backing in basis points, rounded down
	// (0 when nothing is outstanding).
	CoverageBps int64
	// Prices used, by currency.
	Prices map[string]Price
}

// Below reports whether the counted reserves miss what the outstanding
// supply needs at every asset's policy minimum. The reserves are one pool,
// so this holds for every asset alike.
func (c Coverage) Below() bool {
	return c.Backing != nil && c.Backing.Sign() > 0 && c.Required.Cmp(big.NewInt(c.Reserves)) > 0
}

// Warning reports whether coverage is not Below but under an asset's
// warning level (0: the asset has none).
func (c Coverage) Warning(warnBps int64) bool {
	return !c.Below() && warnBps > 0 && c.Backing != nil && c.Backing.Sign() > 0 && c.CoverageBps < warnBps
}

// BackingSats is what an asset's supply is worth in sats at 1.00x (at p for
// a fiat peg), rounded up.
func BackingSats(a ledger.AssetSupply, p *Price) (*big.Int, error) {
	r, err := RequiredSats(a, ledger.BasisPoints, p)
	if err != nil {
		return nil, err
	}
	return money.Round(r, money.Ceil), nil
}

// Compute values the outstanding supply of every asset against reserves at
// the given prices. It fails if a fiat-pegged asset with supply has no
// usable price.
func Compute(reserves int64, assets []ledger.AssetSupply, prices Prices) (Coverage, error) {
	c := Coverage{Reserves: reserves, Prices: map[string]Price{}}
	need, back := new(big.Rat), new(big.Rat)
	for _, a := range assets {
		var p *Price
		if a.Peg == ledger.PegFiat {
			if prices == nil {
				if a.Supply == 0 {
					continue
				}
				return c, ErrNoOracle
			}
			pr, err := prices.Price(a.Currency)
			if err != nil {
				if a.Supply == 0 {
					continue
				}
				return c, fmt.Errorf("cannot value %s: %w", a.Code, err)
			}
			p = &pr
			c.Prices[a.Currency] = pr
		}
		r, err := RequiredSats(a, a.MinCoverageBps, p)
		if err != nil {
			return c, err
		}
		need.Add(need, r)
		b, err := RequiredSats(a, ledger.BasisPoints, p)
		if err != nil {
			return c, err
		}
		back.Add(back, b)
	}
	c.Required, c.Backing = money.Round(need, money.Ceil), money.Round(back, money.Ceil)
	if back.Sign() > 0 {
		cov := new(big.Rat).Quo(new(big.Rat).SetInt64(reserves*1), back)
		cov.Mul(cov, new(big.Rat).SetInt64(ledger.BasisPoints))
		q := new(big.Int).Quo(cov.Num(), cov.Denom())
		if q.IsInt64() {
			c.CoverageBps = q.Int64()
		} else {
			c.CoverageBps = 1<<63 - 1
		}
	}
	return c, nil
}
