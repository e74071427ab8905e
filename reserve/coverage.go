package reserve

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
)

// SatsPerBTC is the number of satoshis in one bitcoin.
const SatsPerBTC = 100_000_000

// Price is the price of one bitcoin in a fiat currency, in fixed point:
// Coefficient / 10^Scale whole units of the currency (e.g. rupees) per BTC.
// Never a float.
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

// String renders the price as a decimal, e.g. "6543210.12 INR/BTC".
func (p Price) String() string {
	if p.Coefficient == nil {
		return "no price"
	}
	r := new(big.Rat).SetFrac(p.Coefficient, pow10(int(p.Scale)))
	return r.FloatString(int(p.Scale)) + " " + p.Currency + "/BTC"
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

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// RequiredSats returns, exactly, the sats of reserves that supply units of
// asset a need at coverage bps (basis points): supply × bps / 10000 for a
// sat-pegged asset; for a fiat-pegged one the supply's value in bitcoin at
// price p, i.e. supply / 10^decimals currency units ÷ (coefficient /
// 10^scale) × 10^8, times bps / 10000. It is a rational: callers decide how
// to round (always against the issuer: up).
func RequiredSats(a ledger.AssetSupply, bps int64, p *Price) (*big.Rat, error) {
	num := new(big.Int).Mul(big.NewInt(a.Supply), big.NewInt(bps))
	den := big.NewInt(ledger.BasisPoints)
	switch a.Peg {
	case ledger.PegSat:
	case ledger.PegFiat:
		if p == nil || p.Coefficient == nil || p.Coefficient.Sign() <= 0 {
			return nil, fmt.Errorf("no usable %s price to value %s", a.Currency, a.Code)
		}
		num.Mul(num, big.NewInt(SatsPerBTC))
		num.Mul(num, pow10(int(p.Scale)))
		den.Mul(den, pow10(int(a.Decimals)))
		den.Mul(den, p.Coefficient)
	default:
		return nil, fmt.Errorf("asset %s has an unknown peg %d", a.Code, a.Peg)
	}
	return new(big.Rat).SetFrac(num, den), nil
}

// ValueInUnits values sats of reserves in base units of a fiat asset at
// price p, rounded down (against the issuer): floor(sats × coefficient ×
// 10^decimals / (10^8 × 10^scale)). For a sat-pegged asset it is sats.
func ValueInUnits(sats int64, a ledger.AssetSupply, p *Price) (*big.Int, error) {
	if a.Peg == ledger.PegSat {
		return big.NewInt(sats), nil
	}
	if p == nil || p.Coefficient == nil || p.Coefficient.Sign() <= 0 {
		return nil, fmt.Errorf("no usable %s price to value the reserves", a.Currency)
	}
	num := new(big.Int).Mul(big.NewInt(sats), p.Coefficient)
	num.Mul(num, pow10(int(a.Decimals)))
	den := new(big.Int).Mul(big.NewInt(SatsPerBTC), pow10(int(p.Scale)))
	return num.Quo(num, den), nil
}

// ceilRat rounds a non-negative rational up to an integer.
func ceilRat(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
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
	return ceilRat(r), nil
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
	c.Required, c.Backing = ceilRat(need), ceilRat(back)
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
