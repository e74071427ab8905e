package verify

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/proofs/attest"
)

// The holder's defaults (docs/proofs.md §4.6 and §7). The page uses them as
// they are; koshverify takes each as a flag.
const (
	// DefaultMinCoverageBps is the holder's minimum coverage unless they
	// choose another: 1.00, every liability backed in full.
	DefaultMinCoverageBps = attest.BasisPoints
	// DefaultMaxPriceAge is how much older than the attestation a price or
	// one of its sources' quotes may be.
	DefaultMaxPriceAge = time.Hour
	// DefaultMaxBehind is how many blocks the attested block may be behind
	// the holder's own node's tip (koshverify with a node only).
	DefaultMaxBehind = 6
	// MaxMinCoverageBps bounds a holder's minimum coverage, as
	// min_coverage_bps is bounded for the issuer: 100.00.
	MaxMinCoverageBps = 1_000_000
)

// Policy is a holder's own standard for an attestation that verifies:
// what the issuer calls its policy (min_coverage_bps, the "backed" flag,
// its stale sources) is only shown as the issuer's declaration, and the
// holder's Policy decides (docs/proofs.md §4.6).
type Policy struct {
	// MinCoverageBps is the coverage the holder requires of every asset
	// with liabilities, in basis points (10000 = 1.00): counted reserves
	// over the worth of all liabilities at 1.00.
	MinCoverageBps int64
	// MaxPriceAge is how much older than the attestation's time a price,
	// and each quote of its sources, may be. A price (or quote) dated after
	// the attestation fails whatever the bound.
	MaxPriceAge time.Duration
	// MaxBehind is how many blocks the attested block may be behind the
	// holder's node's tip (Behind); 0 turns the check off, for checking
	// an attestation known to be old.
	MaxBehind int64
}

// DefaultPolicy returns the holder's defaults: coverage at least 1.00,
// prices at most an hour older than the attestation, at most 6 blocks
// behind the tip.
func DefaultPolicy() Policy {
	return Policy{MinCoverageBps: DefaultMinCoverageBps, MaxPriceAge: DefaultMaxPriceAge, MaxBehind: DefaultMaxBehind}
}

// Verdict is what a holder's Policy says of one attestation.
type Verdict struct {
	// Failures are the rules of the policy the attestation breaks, one
	// sentence each (ErrPolicy). Any failure fails the attestation.
	Failures attest.Problems
	// Warnings are what the holder must be told loudly but that does not
	// fail the attestation by itself (a price set by hand).
	Warnings []string
	// Declarations are what the issuer says of itself (its minimum coverage
	// per asset, whether it calls the liabilities backed, its stale
	// sources), to be shown as the issuer's word, never as a verdict.
	Declarations []string
	// CoverageBps is the coverage the holder's check computed: counted
	// reserves over the exact worth of all liabilities at 1.00, in basis
	// points rounded down; nil when nothing is outstanding or the figures
	// cannot be computed.
	CoverageBps *big.Int
	// Summary is one sentence saying what held, when nothing failed; ""
	// otherwise.
	Summary string
}

// Err returns the failures as an attest.Problems, or nil.
func (v *Verdict) Err() error { return v.Failures.Err() }

func (v *Verdict) fail(format string, args ...any) {
	v.Failures = append(v.Failures, fail(attest.ErrPolicy, format, args...))
}

// Check judges an attestation that verifies (Attestation) by the holder's
// policy, and reports what the issuer declares. The rules, in the order
// their failures are listed:
//
//  1. no channel counts with 0 confirmations at the attested block;
//  2. for each asset with a price: a price not marked manual lists its
//     oracle sources; the price's time, and each source quote's, is not
//     after the attestation's time nor more than MaxPriceAge before it
//     (a manual price is a warning, and its age is judged the same);
//  3. each asset with liabilities is covered at least MinCoverageBps by
//     the counted reserves, which back all assets together (recomputed
//     here, not read from the document).
//
// The browser verifier (web/static/verify.js, checkPolicy) applies the
// same rules with the same sentences; testdata/policy/vectors.json pins
// both.
func (p Policy) Check(a *attest.Attestation) Verdict {
	var v Verdict
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			if c.Counted > 0 && c.Confirmations < 1 {
				v.fail("channel %s of node %s counts %d sats with 0 confirmations at the attested block; your policy counts no unconfirmed channel",
					c.ChannelPoint, n.PubKey, c.Counted)
			}
		}
	}
	at, atErr := attest.ParseTime(a.Time)
	if atErr != nil {
		v.fail("the attestation's time %q cannot be read, so no price's age can be judged", a.Time)
	}
	for i := range a.Assets {
		as := &a.Assets[i]
		if as.Price == nil {
			continue
		}
		pr := as.Price
		if pr.Manual {
			v.Warnings = append(v.Warnings, fmt.Sprintf("the price of asset %s, %s %s per BTC, was set by hand by the issuer (manual), not taken from oracle sources",
				as.Code, decimal(&pr.Coefficient.Int, pr.Scale), pr.Currency))
		} else if len(pr.Sources) == 0 {
			v.fail("the price of asset %s is not marked manual but lists no oracle sources, so nothing shows where it came from", as.Code)
		}
		if atErr != nil {
			continue
		}
		what := "the price of asset " + as.Code
		p.checkAge(&v, what, what+" is dated", what+" is from", pr.Time, at, a.Time)
		for _, s := range pr.Sources {
			what := "price source " + s.Name + " of asset " + as.Code
			p.checkAge(&v, what, what+" is dated", what+" quotes from", s.Time, at, a.Time)
		}
	}
	v.CoverageBps = p.checkCoverage(&v, a)

	mins := make([]string, len(a.Assets))
	for i, as := range a.Assets {
		mins[i] = FormatRatio(big.NewInt(as.MinCoverageBps)) + " for " + as.Code
	}
	if len(mins) == 0 {
		mins = []string{"none (no assets)"}
	}
	v.Declarations = append(v.Declarations, "minimum coverage "+strings.Join(mins, ", "))
	backed := "backed"
	if !a.Coverage.Backed {
		backed = "NOT backed"
	}
	v.Declarations = append(v.Declarations, fmt.Sprintf("by those minimums the liabilities are %s (%d sats counted, %d sats required)",
		backed, a.Coverage.CountedReserves, a.Coverage.Required))
	stale := "none"
	if len(a.StaleSources) > 0 {
		stale = strings.Join(a.StaleSources, ", ")
	}
	v.Declarations = append(v.Declarations, "stale sources: "+stale)

	if len(v.Failures) == 0 {
		cov := "nothing is outstanding"
		if v.CoverageBps != nil {
			cov = "coverage " + FormatRatio(v.CoverageBps)
		}
		v.Summary = fmt.Sprintf("%s, your minimum being %s; every price shows its sources or is marked manual, and is at most %s older than the attestation",
			cov, FormatRatio(big.NewInt(p.MinCoverageBps)), FormatAge(int64(p.MaxPriceAge/time.Second)))
	}
	return v
}

// checkAge fails a time ts (of what) after the attestation's time at, or
// more than MaxPriceAge before it.
func (p Policy) checkAge(v *Verdict, what, dated, from, ts string, at time.Time, atText string) {
	t, err := attest.ParseTime(ts)
	if err != nil {
		v.fail("%s has time %q, which cannot be read, so its age cannot be judged", what, ts)
		return
	}
	age := at.Unix() - t.Unix() // exact, where a time.Duration would saturate
	switch {
	case age < 0:
		v.fail("%s %s, after the attestation's time %s", dated, ts, atText)
	case age > int64(p.MaxPriceAge/time.Second):
		v.fail("%s %s, %s before the attestation's time %s, older than your limit of %s",
			from, ts, FormatAge(age), atText, FormatAge(int64(p.MaxPriceAge/time.Second)))
	}
}

// checkCoverage recomputes the coverage (reserves counted by the document's
// counting rules, over the exact worth of all liabilities at 1.00) and
// fails each asset with liabilities when it is below the holder's
// minimum. It returns the coverage in basis points, rounded down, or nil.
func (p Policy) checkCoverage(v *Verdict, a *attest.Attestation) *big.Int {
	t, err := attest.ComputeTotals(a)
	if err != nil {
		v.fail("the coverage cannot be computed (%s)", err.Msg)
		return nil
	}
	worth := new(big.Rat)
	for i := range a.Assets {
		w, err := attest.RequiredSats(&a.Assets[i], attest.BasisPoints)
		if err != nil {
			v.fail("the coverage cannot be computed (%s)", err.Msg)
			return nil
		}
		worth.Add(worth, w)
	}
	if worth.Sign() == 0 {
		return nil
	}
	cov := new(big.Rat).SetInt64(int64(t.Counted))
	cov.Mul(cov, big.NewRat(attest.BasisPoints, 1)).Quo(cov, worth)
	bps := new(big.Int).Quo(cov.Num(), cov.Denom())
	if bps.Cmp(big.NewInt(p.MinCoverageBps)) < 0 {
		for _, as := range a.Assets {
			if as.Liabilities.Total > 0 {
				v.fail("asset %s is covered at %s by the reserves counted for all assets, below your minimum coverage of %s",
					as.Code, FormatRatio(bps), FormatRatio(big.NewInt(p.MinCoverageBps)))
			}
		}
	}
	return bps
}

// Behind fails an attestation whose block is more than MaxBehind blocks
// behind tip, the height of the holder's own node's best block; with
// MaxBehind 0 it never fails.
func (p Policy) Behind(a *attest.Attestation, tip int64) *attest.Error {
	if p.MaxBehind <= 0 {
		return nil
	}
	if n := tip - a.Block.Height; n > p.MaxBehind {
		return fail(attest.ErrPolicy, "the attested block %d is %d blocks behind your node's tip %d, more than your limit of %d: the attestation is not recent",
			a.Block.Height, n, tip, p.MaxBehind)
	}
	return nil
}

// ParseRatio reads a holder's minimum coverage written as a decimal ratio
// ("1", "1.00", "1.5", "0.9750": at most 4 decimals, 0 to 100) and
// returns it in basis points.
func ParseRatio(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 3 || dot && (frac == "" || len(frac) > 4) || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("%q is not a ratio such as 1.00 (digits, at most 4 decimals)", s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "0000")[:4], 10, 64)
	bps := w*attest.BasisPoints + f
	if bps > MaxMinCoverageBps {
		return 0, fmt.Errorf("%q is more than the largest minimum coverage, 100.00", s)
	}
	return bps, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatRatio writes basis points as a decimal ratio with 2 to 4
// decimals, rounded down: 10000 is "1.00", 15042 "1.5042", 9500 "0.95".
func FormatRatio(bps *big.Int) string {
	q, r := new(big.Int).QuoRem(bps, big.NewInt(attest.BasisPoints), new(big.Int))
	f := fmt.Sprintf("%04d", r.Int64())
	for len(f) > 2 && f[len(f)-1] == '0' {
		f = f[:len(f)-1]
	}
	return q.String() + "." + f
}

// FormatAge writes a number of seconds as hours, minutes and seconds,
// leaving out the parts that are 0: 3600 is "1h", 5400 "1h30m", 90
// "1m30s", 0 "0s".
func FormatAge(secs int64) string {
	if secs == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		n    int64
		unit string
	}{{secs / 3600, "h"}, {secs % 3600 / 60, "m"}, {secs % 60, "s"}} {
		if u.n > 0 {
			b.WriteString(strconv.FormatInt(u.n, 10) + u.unit)
		}
	}
	return b.String()
}

// decimal writes coef / 10^scale in decimal: 812345678 at scale 2 is
// "8123456.78".
func decimal(coef *big.Int, scale int) string {
	s := coef.String()
	if scale <= 0 {
		return s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return s[:len(s)-scale] + "." + s[len(s)-scale:]
}
