package verify

import (
	"encoding/hex"
	"errors"
	"math/big"
	"slices"
	"strconv"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/failure"
	"github.com/kosh-reserve/kosh/proofs/field"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// Document parses published bytes and verifies the attestation. It
// returns the parsed document (nil if it cannot be parsed) and nil, or a
// Problems listing every failure found.
func Document(b []byte) (*attest.Attestation, error) {
	a, err := attest.Parse(b)
	if err != nil {
		var e *attest.Error
		if errors.As(err, &e) {
			return nil, attest.Problems{e}
		}
		return nil, err
	}
	return a, Attestation(a)
}

// Attestation checks a parsed attestation: the shape of every field, every sum
// and counted total against the listed items and counting rules, the
// coverage arithmetic, the proofs of control, the inclusion of every
// issuer-held account it lists, each Lightning node's signature and the
// issuer's signature. It returns nil or a Problems with one sentence per failure.
// It does not contact any node; on-chain checks are separate.
func Attestation(a *attest.Attestation) error {
	var p attest.Problems
	p = checkShape(a, p)
	p = checkShapeV2(a, p)
	p = checkShapeV3(a, p)
	p = checkSums(a, p)
	p = checkProofs(a, p)
	p = checkIssuerAccounts(a, p)
	p = checkNodeSignatures(a, p)
	p = checkSignature(a, p)
	return p.Err()
}

func checkShape(a *attest.Attestation, p attest.Problems) attest.Problems {
	if a.Seq < 1 {
		p = append(p, fail(attest.ErrMalformed, "the attestation sequence number %d is not positive", a.Seq))
	}
	if _, err := sig.ParseKey(a.IssuerKey); err != nil {
		p = append(p, fail(attest.ErrMalformed, "the issuer key %q is not a BIP-340 x-only public key in 64 lower-case hex digits", a.IssuerKey))
	}
	if _, err := attest.ParseTime(a.Time); err != nil {
		p = append(p, err.(*attest.Error))
	}
	switch {
	case a.Prev == "" && a.Seq != 1:
		p = append(p, fail(attest.ErrChain, "attestation %d names no predecessor, but only the first attestation may do so", a.Seq))
	case a.Prev != "" && !field.IsLowerHex(a.Prev, 64):
		p = append(p, fail(attest.ErrMalformed, "the previous attestation hash %q is not 64 lower-case hex digits", a.Prev))
	case a.Prev != "" && a.Seq == 1:
		p = append(p, fail(attest.ErrChain, "the first attestation names a predecessor %s", a.Prev))
	}
	if a.Block.Height < 0 {
		p = append(p, fail(attest.ErrMalformed, "the block height %d is negative", a.Block.Height))
	}
	if !field.IsLowerHex(a.Block.Hash, 64) {
		p = append(p, fail(attest.ErrMalformed, "the block hash %q is not 64 lower-case hex digits", a.Block.Hash))
	}
	if a.Counting.MinConfirmations < 0 {
		p = append(p, fail(attest.ErrMalformed, "the minimum confirmations %d is negative", a.Counting.MinConfirmations))
	}
	for _, c := range []struct {
		name string
		r    attest.ClassRule
	}{{attest.ClassOnchain, a.Counting.Onchain}, {attest.ClassLightning, a.Counting.Lightning}} {
		if c.r.HaircutBps < 0 || c.r.HaircutBps > attest.BasisPoints {
			p = append(p, fail(attest.ErrMalformed, "the %s haircut of %d basis points is outside 0 to 10000", c.name, c.r.HaircutBps))
		}
	}

	// Every outpoint (reserve output or channel funding output) may appear
	// once: an output counted twice would inflate the reserves.
	seen := map[string]string{}
	once := func(op, what string) {
		if prev, ok := seen[op]; ok {
			p = append(p, fail(attest.ErrSum, "outpoint %s is listed both as %s and as %s", op, prev, what))
			return
		}
		seen[op] = what
	}
	for i, u := range a.Reserves.Onchain {
		if _, _, ok := attest.SplitOutpoint(u.Outpoint); !ok {
			p = append(p, fail(attest.ErrMalformed, "on-chain output %d has outpoint %q, not txid:vout", i, u.Outpoint))
			continue
		}
		if i > 0 && attest.CompareOutpoints(a.Reserves.Onchain[i-1].Outpoint, u.Outpoint) >= 0 {
			p = append(p, fail(attest.ErrMalformed, "on-chain output %s is out of order or repeated (outputs must be sorted by txid, then vout)", u.Outpoint))
		}
		once(u.Outpoint, "an on-chain output")
		if u.Value <= 0 {
			p = append(p, fail(attest.ErrMalformed, "on-chain output %s has no value", u.Outpoint))
		}
		if u.Confirmations < 1 || u.Confirmations > a.Block.Height+1 {
			p = append(p, fail(attest.ErrMalformed, "on-chain output %s has %d confirmations, impossible at block height %d", u.Outpoint, u.Confirmations, a.Block.Height))
		}
		if u.Source == "" {
			p = append(p, fail(attest.ErrMalformed, "on-chain output %s names no source", u.Outpoint))
		}
	}
	for i, n := range a.Reserves.Lightning {
		if k, err := hex.DecodeString(n.PubKey); err != nil || !field.IsLowerHex(n.PubKey, 66) {
			p = append(p, fail(attest.ErrMalformed, "Lightning node %q has key %q, not 66 lower-case hex digits", n.Name, n.PubKey))
		} else if _, err := btcec.ParsePubKey(k); err != nil {
			p = append(p, fail(attest.ErrMalformed, "Lightning node %q has key %s, which is not a secp256k1 public key", n.Name, n.PubKey))
		}
		if i > 0 && a.Reserves.Lightning[i-1].PubKey >= n.PubKey {
			p = append(p, fail(attest.ErrMalformed, "Lightning node %s is out of order or repeated (nodes must be sorted by key)", n.PubKey))
		}
		for j, c := range n.Channels {
			if _, _, ok := attest.SplitOutpoint(c.ChannelPoint); !ok {
				p = append(p, fail(attest.ErrMalformed, "a channel of node %s has channel point %q, not txid:vout", n.PubKey, c.ChannelPoint))
				continue
			}
			if j > 0 && attest.CompareOutpoints(n.Channels[j-1].ChannelPoint, c.ChannelPoint) >= 0 {
				p = append(p, fail(attest.ErrMalformed, "channel %s is out of order or repeated (channels must be sorted by channel point)", c.ChannelPoint))
			}
			once(c.ChannelPoint, "a channel of node "+n.PubKey)
			if c.Capacity <= 0 {
				p = append(p, fail(attest.ErrMalformed, "channel %s has no capacity", c.ChannelPoint))
			}
			if c.LocalBalance > c.Capacity {
				p = append(p, fail(attest.ErrSum, "channel %s claims a local balance of %d sats, more than its capacity of %d sats", c.ChannelPoint, c.LocalBalance, c.Capacity))
			}
			if c.Counted > c.LocalBalance {
				p = append(p, fail(attest.ErrSum, "channel %s counts %d sats, more than its local balance of %d sats", c.ChannelPoint, c.Counted, c.LocalBalance))
			}
			if c.Confirmations < 0 || c.Confirmations > a.Block.Height+1 {
				p = append(p, fail(attest.ErrMalformed, "channel %s has %d confirmations, impossible at block height %d", c.ChannelPoint, c.Confirmations, a.Block.Height))
			}
			if c.Counted > 0 && a.Counting.MinConfirmations < 1 {
				p = append(p, fail(attest.ErrSum, "channel %s counts %d sats under a minimum of %d confirmations; a counted channel needs at least 1", c.ChannelPoint, c.Counted, a.Counting.MinConfirmations))
			}
			if c.Counted > 0 && c.Confirmations < a.Counting.MinConfirmations {
				p = append(p, fail(attest.ErrSum, "channel %s counts %d sats with %d confirmations, fewer than the %d the counting rules require", c.ChannelPoint, c.Counted, c.Confirmations, a.Counting.MinConfirmations))
			}
			if c.Counted > 0 && n.Signature == "" {
				p = append(p, fail(attest.ErrSum, "channel %s counts %d sats although its node %s did not sign the attestation", c.ChannelPoint, c.Counted, n.PubKey))
			}
		}
	}
	for i, as := range a.Assets {
		p = checkAsset(&as, p)
		if i > 0 && a.Assets[i-1].Code >= as.Code {
			p = append(p, fail(attest.ErrMalformed, "asset %s is out of order or repeated (assets must be sorted by code)", as.Code))
		}
	}
	if a.Stale != (len(a.StaleSources) > 0) {
		if a.Stale {
			p = append(p, fail(attest.ErrMalformed, "the attestation is marked stale but names no stale source"))
		} else {
			p = append(p, fail(attest.ErrMalformed, "the attestation names stale sources but is not marked stale"))
		}
	}
	for i, s := range a.StaleSources {
		if s == "" || i > 0 && a.StaleSources[i-1] >= s {
			p = append(p, fail(attest.ErrMalformed, "the stale sources are not distinct non-empty names in sorted order"))
			break
		}
	}
	return p
}

func checkAsset(as *attest.Asset, p attest.Problems) attest.Problems {
	if as.Code == "" || len(as.Code) > sumtree.MaxAssetCodeLen {
		p = append(p, fail(attest.ErrMalformed, "an asset code is not 1 to %d bytes long", sumtree.MaxAssetCodeLen))
	}
	if as.Decimals < 0 || as.Decimals > 18 {
		p = append(p, fail(attest.ErrMalformed, "asset %s has %d decimals, outside 0 to 18", as.Code, as.Decimals))
	}
	switch as.Peg {
	case attest.PegSat:
		if as.Currency != "" || as.Price != nil {
			p = append(p, fail(attest.ErrMalformed, "sat-pegged asset %s names a currency or price", as.Code))
		}
	case attest.PegFiat:
		if !isCurrencyCode(as.Currency) {
			p = append(p, fail(attest.ErrMalformed, "fiat-pegged asset %s has currency %q, not a three-letter ISO 4217 code", as.Code, as.Currency))
		}
		if pr := as.Price; pr != nil {
			if pr.Currency != as.Currency {
				p = append(p, fail(attest.ErrMalformed, "asset %s is pegged to %s but priced in %s", as.Code, as.Currency, pr.Currency))
			}
			if pr.Coefficient.Sign() <= 0 {
				p = append(p, fail(attest.ErrMalformed, "the price of asset %s is not positive", as.Code))
			}
			if pr.Scale < 0 || pr.Scale > 18 {
				p = append(p, fail(attest.ErrMalformed, "the price of asset %s has scale %d, outside 0 to 18", as.Code, pr.Scale))
			}
			if _, err := attest.ParseTime(pr.Time); err != nil {
				p = append(p, fail(attest.ErrMalformed, "the price of asset %s has time %q, not of the form 2006-01-02T15:04:05Z", as.Code, pr.Time))
			}
			p = checkSources(pr, as.Code, p)
		}
	default:
		p = append(p, fail(attest.ErrMalformed, "asset %s has peg %q, neither %q nor %q", as.Code, as.Peg, attest.PegSat, attest.PegFiat))
	}
	if as.MinCoverageBps < 0 || as.MinCoverageBps > 1_000_000 {
		p = append(p, fail(attest.ErrMalformed, "asset %s has a minimum coverage of %d basis points, outside 0 to 1000000", as.Code, as.MinCoverageBps))
	}
	l := as.Liabilities
	if !field.IsLowerHex(l.Root, 64) {
		p = append(p, fail(attest.ErrMalformed, "the liability root of asset %s is not 64 lower-case hex digits", as.Code))
	}
	if l.Height < 0 || l.Height > sumtree.MaxHeight {
		p = append(p, fail(attest.ErrMalformed, "the liability tree of asset %s has height %d, outside 0 to %d", as.Code, l.Height, sumtree.MaxHeight))
	} else if l.Shares == 0 && uint64(l.Accounts) > 1<<l.Height {
		p = append(p, fail(attest.ErrMalformed, "asset %s claims %d accounts, more than a tree of height %d holds", as.Code, l.Accounts, l.Height))
	}
	if l.Accounts == 0 && l.Total != 0 {
		p = append(p, fail(attest.ErrSum, "asset %s has no accounts but a liability total of %d", as.Code, l.Total))
	}
	return p
}

func checkSums(a *attest.Attestation, p attest.Problems) attest.Problems {
	want, err := attest.ComputeTotals(a)
	if err != nil {
		return append(p, err)
	}
	got := a.Reserves.Totals
	check := func(what string, stated, computed attest.Amount, items string) {
		if stated != computed {
			p = append(p, fail(attest.ErrSum, "the %s is %d sats but %s %d sats", what, stated, items, computed))
		}
	}
	check("on-chain reserve total", got.Onchain.Listed, want.Onchain.Listed, "the listed outputs add up to")
	eligibleItems := "the outputs with at least " + strconv.FormatInt(a.Counting.MinConfirmations, 10) + " confirmations add up to"
	if a.Version >= 2 {
		eligibleItems = "the outputs with at least " + strconv.FormatInt(a.Counting.MinConfirmations, 10) +
			" confirmations and a proof of control within " + strconv.FormatInt(a.ProofMaxAge(), 10) + " blocks add up to"
	}
	check("eligible on-chain total", got.Onchain.Eligible, want.Onchain.Eligible, eligibleItems)
	check("counted on-chain total", got.Onchain.Counted, want.Onchain.Counted, "the counting rules give")
	check("Lightning capacity total", got.Lightning.Capacity, want.Lightning.Capacity, "the listed channel capacities add up to")
	check("Lightning local balance total", got.Lightning.LocalBalance, want.Lightning.LocalBalance, "the listed local balances add up to")
	if a.Version >= 2 {
		check("eligible Lightning total", got.Lightning.Eligible, want.Lightning.Eligible, "the announced channels' counted amounts add up to")
	} else {
		check("eligible Lightning total", got.Lightning.Eligible, want.Lightning.Eligible, "the channels' counted amounts add up to")
	}
	check("counted Lightning total", got.Lightning.Counted, want.Lightning.Counted, "the counting rules give")
	if gc, wc := got.LightningClaimed, want.LightningClaimed; gc != nil && wc != nil {
		check("eligible claimed-channel total", gc.Eligible, wc.Eligible, "the claimed channels' counted amounts add up to")
		check("counted claimed-channel total", gc.Counted, wc.Counted, "the counting rules give")
	}
	check("counted reserve total", got.Counted, want.Counted, "the counted classes add up to")

	cov, cerr := attest.ComputeCoverage(want.Counted, a.Assets)
	if cerr != nil {
		return append(p, cerr)
	}
	c := a.Coverage
	if c.CountedReserves != got.Counted {
		p = append(p, fail(attest.ErrCoverage, "the coverage is computed on %d sats of reserves but the counted reserve total is %d sats", c.CountedReserves, got.Counted))
	}
	if c.Required != cov.Required {
		p = append(p, fail(attest.ErrCoverage, "the required reserves are stated as %d sats but the liabilities at each asset's minimum coverage need %d sats", c.Required, cov.Required))
	}
	if c.Backing != cov.Backing {
		p = append(p, fail(attest.ErrCoverage, "the liabilities are stated to be worth %d sats but they are worth %d sats", c.Backing, cov.Backing))
	}
	if c.Bps.Cmp(&cov.Bps.Int) != 0 {
		p = append(p, fail(attest.ErrCoverage, "the coverage is stated as %s basis points but the reserves and liabilities give %s", c.Bps.String(), cov.Bps.String()))
	}
	if c.Backed != cov.Backed {
		if c.Backed {
			p = append(p, fail(attest.ErrCoverage, "the attestation says the liabilities are backed, but %d sats of counted reserves are less than the %d sats required", want.Counted, cov.Required))
		} else {
			p = append(p, fail(attest.ErrCoverage, "the attestation says the liabilities are not backed, but %d sats of counted reserves meet the %d sats required", want.Counted, cov.Required))
		}
	}
	return p
}

func checkNodeSignatures(a *attest.Attestation, p attest.Problems) attest.Problems {
	msg, err := a.NodeMessage()
	if err != nil {
		return append(p, wrap(attest.ErrMalformed, err, "the node message cannot be computed (%v)", err))
	}
	for _, n := range a.Reserves.Lightning {
		if n.Signature == "" {
			continue
		}
		if err := sig.VerifyNodeMessage(msg, n.Signature, n.PubKey); err != nil {
			p = append(p, wrap(attest.ErrSignature, err, "the signature of Lightning node %q (%s) does not verify over this attestation: %v", n.Name, n.PubKey, err))
		}
	}
	return p
}

func checkSignature(a *attest.Attestation, p attest.Problems) attest.Problems {
	key, err := sig.ParseKey(a.IssuerKey)
	if err != nil {
		return p // reported by checkShape
	}
	s, err := sig.ParseSignature(a.Signature)
	if err != nil {
		return append(p, fail(attest.ErrSignature, "the issuer signature is missing or is not 128 lower-case hex digits"))
	}
	h, err := a.Hash()
	if err != nil {
		return append(p, wrap(attest.ErrMalformed, err, "the attestation hash cannot be computed (%v)", err))
	}
	if err := sig.Verify(key, h, s); err != nil {
		return append(p, wrap(attest.ErrSignature, err, "the issuer signature does not verify under issuer key %s", a.IssuerKey))
	}
	return p
}

// checkSources checks a price against the sources it lists: each source is
// well formed, the price is the lower median of the sources' prices and
// SpreadBps is the largest deviation of a source from it, rounded up. A
// manual price lists no sources.
func checkSources(pr *attest.Price, code string, p attest.Problems) attest.Problems {
	if pr.SpreadBps < 0 {
		p = append(p, fail(attest.ErrMalformed, "the price of asset %s has a negative spread", code))
	}
	if len(pr.Sources) == 0 {
		if pr.SpreadBps != 0 {
			p = append(p, fail(attest.ErrMalformed, "the price of asset %s states a spread but lists no sources", code))
		}
		return p
	}
	if pr.Manual {
		return append(p, fail(attest.ErrMalformed, "the manual price of asset %s lists oracle sources", code))
	}
	vals := make([]*big.Rat, 0, len(pr.Sources))
	for i, s := range pr.Sources {
		switch {
		case s.Name == "" || i > 0 && pr.Sources[i-1].Name >= s.Name:
			return append(p, fail(attest.ErrMalformed, "the price sources of asset %s are not distinct non-empty names in sorted order", code))
		case s.Coefficient.Sign() <= 0 || s.Scale < 0 || s.Scale > 18:
			return append(p, fail(attest.ErrMalformed, "price source %s of asset %s has no positive price with a scale of 0 to 18", s.Name, code))
		}
		if _, err := attest.ParseTime(s.Time); err != nil {
			return append(p, fail(attest.ErrMalformed, "price source %s of asset %s has time %q, not of the form 2006-01-02T15:04:05Z", s.Name, code, s.Time))
		}
		vals = append(vals, s.Rat())
	}
	if pr.Coefficient.Sign() <= 0 || pr.Scale < 0 || pr.Scale > 18 {
		return p // reported above
	}
	price := pr.Rat()
	sorted := slices.Clone(vals)
	slices.SortFunc(sorted, func(a, b *big.Rat) int { return a.Cmp(b) })
	if med := sorted[(len(sorted)-1)/2]; med.Cmp(price) != 0 {
		p = append(p, fail(attest.ErrSum, "the price of asset %s is %s, but the lower median of its %d sources is %s",
			code, price.FloatString(pr.Scale), len(vals), med.FloatString(18)))
	}
	var spread int64
	for _, v := range vals {
		d := new(big.Rat).Sub(v, price)
		d.Abs(d).Mul(d, big.NewRat(attest.BasisPoints, 1)).Quo(d, price)
		c := attest.CeilRat(d)
		if !c.IsInt64() {
			return append(p, fail(attest.ErrMalformed, "a price source of asset %s deviates beyond any spread", code))
		}
		spread = max(spread, c.Int64())
	}
	if spread != pr.SpreadBps {
		p = append(p, fail(attest.ErrSum, "the price of asset %s states a spread of %d basis points, but its sources deviate by up to %d", code, pr.SpreadBps, spread))
	}
	return p
}

// isCurrencyCode reports whether s has the form of an ISO 4217 code: three
// capital letters A to Z.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func fail(kind error, format string, args ...any) *attest.Error {
	return failure.New(kind, format, args...)
}

func wrap(kind error, err error, format string, args ...any) *attest.Error {
	return failure.Wrap(kind, err, format, args...)
}
