package attest

import (
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strings"
)

// SatsPerBTC is the number of sats in one bitcoin.
const SatsPerBTC = 100_000_000

// Fill sorts every list into its canonical order and computes every derived
// figure from the listed items, the counting rules and the assets:
// Reserves.Totals, Coverage and Stale (from StaleSources). It fails when a
// sum overflows int64 or a fiat asset with liabilities has no price.
func (a *Attestation) Fill() error {
	sortLists(a)
	t, err := ComputeTotals(a)
	if err != nil {
		return err
	}
	a.Reserves.Totals = t
	c, err := ComputeCoverage(t.Counted, a.Assets)
	if err != nil {
		return err
	}
	a.Coverage = c
	a.Stale = len(a.StaleSources) > 0
	return nil
}

func sortLists(a *Attestation) {
	sortProofs(a)
	slices.SortFunc(a.Reserves.Onchain, func(x, y UTXO) int { return CompareOutpoints(x.Outpoint, y.Outpoint) })
	slices.SortFunc(a.Reserves.Lightning, func(x, y Node) int { return strings.Compare(x.PubKey, y.PubKey) })
	for i := range a.Reserves.Lightning {
		slices.SortFunc(a.Reserves.Lightning[i].Channels, func(x, y Channel) int {
			return CompareOutpoints(x.ChannelPoint, y.ChannelPoint)
		})
	}
	slices.SortFunc(a.Assets, func(x, y Asset) int { return strings.Compare(x.Code, y.Code) })
	slices.Sort(a.StaleSources)
	slices.SortFunc(a.IssuerAccounts, func(x, y IssuerAccount) int { return CompareIssuerAccounts(&x, &y) })
}

// CompareOutpoints orders "txid:vout" strings by txid (as text), then by
// vout numerically. Malformed strings sort by text.
func CompareOutpoints(x, y string) int {
	tx, vx, okx := SplitOutpoint(x)
	ty, vy, oky := SplitOutpoint(y)
	if !okx || !oky {
		return strings.Compare(x, y)
	}
	if c := strings.Compare(tx, ty); c != 0 {
		return c
	}
	switch {
	case vx < vy:
		return -1
	case vx > vy:
		return 1
	}
	return 0
}

// ComputeTotals sums the listed reserves with checked arithmetic and applies
// the counting rules.
func ComputeTotals(a *Attestation) (Totals, *Error) {
	var t Totals
	var listed, eligible int64
	var ok bool
	for _, u := range a.Reserves.Onchain {
		if listed, ok = add(listed, int64(u.Value)); !ok {
			return t, fail(ErrOverflow, "the on-chain outputs add up to more than 2^63-1 sats")
		}
		if a.utxoEligible(&u) {
			if eligible, ok = add(eligible, int64(u.Value)); !ok {
				return t, fail(ErrOverflow, "the eligible on-chain outputs add up to more than 2^63-1 sats")
			}
		}
	}
	t.Onchain = OnchainTotals{Listed: Amount(listed), Eligible: Amount(eligible),
		Counted: Amount(applyRule(eligible, a.Counting.Onchain))}

	var capacity, local, counted, claimed int64
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			if capacity, ok = add(capacity, int64(c.Capacity)); !ok {
				return t, fail(ErrOverflow, "the channel capacities add up to more than 2^63-1 sats")
			}
			if local, ok = add(local, int64(c.LocalBalance)); !ok {
				return t, fail(ErrOverflow, "the local balances add up to more than 2^63-1 sats")
			}
			sum := &counted
			if a.channelClass(&c) == ClassLightningClaimed {
				sum = &claimed
			}
			if *sum, ok = add(*sum, int64(c.Counted)); !ok {
				return t, fail(ErrOverflow, "the counted channel amounts add up to more than 2^63-1 sats")
			}
		}
	}
	t.Lightning = LightningTotals{Capacity: Amount(capacity), LocalBalance: Amount(local),
		Eligible: Amount(counted), Counted: Amount(applyRule(counted, a.Counting.Lightning))}
	total, ok := add(int64(t.Onchain.Counted), int64(t.Lightning.Counted))
	if !ok {
		return t, fail(ErrOverflow, "the counted reserves add up to more than 2^63-1 sats")
	}
	if a.Version >= 2 {
		var rule ClassRule
		if a.Counting.LightningClaimed != nil {
			rule = *a.Counting.LightningClaimed
		}
		t.LightningClaimed = &ClaimedTotals{Eligible: Amount(claimed), Counted: Amount(applyRule(claimed, rule))}
		if total, ok = add(total, int64(t.LightningClaimed.Counted)); !ok {
			return t, fail(ErrOverflow, "the counted reserves add up to more than 2^63-1 sats")
		}
	}
	t.Counted = Amount(total)
	return t, nil
}

// applyRule returns what an eligible class total counts under rule r. A
// haircut outside 0..10000 counts nothing (proofs/verify reports it
// separately).
func applyRule(eligible int64, r ClassRule) int64 {
	if !r.Counts || r.HaircutBps < 0 || r.HaircutBps > BasisPoints {
		return 0
	}
	return haircut(eligible, r.HaircutBps)
}

var (
	bigBps  = big.NewInt(BasisPoints)
	bigSats = big.NewInt(SatsPerBTC)
)

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// Rat returns the price of one bitcoin as an exact rational: Coefficient /
// 10^Scale units of Currency.
func (pr *Price) Rat() *big.Rat { return new(big.Rat).SetFrac(&pr.Coefficient.Int, pow10(pr.Scale)) }

// Rat returns the source's price of one bitcoin as an exact rational:
// Coefficient / 10^Scale.
func (s *PriceSource) Rat() *big.Rat { return new(big.Rat).SetFrac(&s.Coefficient.Int, pow10(s.Scale)) }

// RequiredSats returns, as an exact rational, the sats that total base units
// of asset need at bps basis points of coverage: total × bps / 10000 for a
// sat peg; total / 10^decimals currency units at Coefficient / 10^Scale per
// BTC, in sats, times bps / 10000, for a fiat peg. It is nil (and ok) for a
// fiat asset with no liabilities.
func RequiredSats(asset *Asset, bps int64) (*big.Rat, *Error) {
	num := new(big.Int).Mul(big.NewInt(int64(asset.Liabilities.Total)), big.NewInt(bps))
	den := new(big.Int).Set(bigBps)
	switch asset.Peg {
	case PegSat:
	case PegFiat:
		if asset.Liabilities.Total == 0 && asset.Price == nil {
			return new(big.Rat), nil
		}
		p := asset.Price
		if p == nil || p.Coefficient.Sign() <= 0 {
			return nil, fail(ErrCoverage, "asset %s is pegged to %s and has liabilities but no usable price", asset.Code, asset.Currency)
		}
		if p.Scale < 0 || p.Scale > 18 || asset.Decimals < 0 || asset.Decimals > 18 {
			return nil, fail(ErrMalformed, "asset %s has a price scale or decimals outside 0 to 18", asset.Code)
		}
		num.Mul(num, bigSats)
		num.Mul(num, pow10(p.Scale))
		den.Mul(den, pow10(asset.Decimals))
		den.Mul(den, &p.Coefficient.Int)
	default:
		return nil, fail(ErrMalformed, "asset %s has an unknown peg %q", asset.Code, asset.Peg)
	}
	return new(big.Rat).SetFrac(num, den), nil
}

// CeilRat rounds r up to an integer: the rounding against the issuer that
// coverage and price spreads use.
func CeilRat(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// ComputeCoverage values every asset's liabilities against counted reserves
// exactly (big rationals) and rounds against the issuer: Required and
// Backing up, Bps down.
func ComputeCoverage(reserves Amount, assets []Asset) (Coverage, *Error) {
	c := Coverage{CountedReserves: reserves}
	need, back := new(big.Rat), new(big.Rat)
	for i := range assets {
		r, err := RequiredSats(&assets[i], assets[i].MinCoverageBps)
		if err != nil {
			return c, err
		}
		b, err := RequiredSats(&assets[i], BasisPoints)
		if err != nil {
			return c, err
		}
		need.Add(need, r)
		back.Add(back, b)
	}
	req, bk := CeilRat(need), CeilRat(back)
	if !req.IsInt64() || !bk.IsInt64() {
		return c, fail(ErrOverflow, "the liabilities are worth more than 2^63-1 sats")
	}
	c.Required, c.Backing = Amount(req.Int64()), Amount(bk.Int64())
	if back.Sign() > 0 {
		cov := new(big.Rat).Quo(new(big.Rat).SetInt64(int64(reserves)), back)
		cov.Mul(cov, new(big.Rat).SetInt64(BasisPoints))
		c.Bps = NewCoverageBps(new(big.Int).Quo(cov.Num(), cov.Denom()))
	}
	c.Backed = int64(reserves) >= req.Int64()
	return c, nil
}

// add returns a+b, or ok=false when the sum leaves [0, 2^63-1].
func add(a, b int64) (int64, bool) {
	if a < 0 || b < 0 {
		return 0, false
	}
	s, carry := bits.Add64(uint64(a), uint64(b), 0)
	if carry != 0 || s > math.MaxInt64 {
		return 0, false
	}
	return int64(s), true
}

// haircut returns floor(x × (10000 − bps) / 10000), computed exactly:
// the counted part of x after a haircut of bps basis points, rounded
// against the issuer.
func haircut(x int64, bps int64) int64 {
	hi, lo := bits.Mul64(uint64(x), uint64(BasisPoints-bps))
	q, _ := bits.Div64(hi, lo, BasisPoints)
	return int64(q) // <= x, fits
}
