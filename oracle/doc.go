// Package oracle prices bitcoin in a fiat currency (e.g. INR per BTC) for
// fiat-pegged assets: it polls HTTP(S) JSON price sources and aggregates
// their prices into a Quote. It depends on the standard library and money
// only, and knows nothing of the ledger, the reserves or gRPC.
//
// Prices are money.Price values (fixed point, never a float), parsed from a
// source's JSON number or string with money.ParsePrice; converting between
// sats and asset base units, and its rounding rules, are money's too.
//
// # Sources
//
// A Source GETs one URL (http or https; redirects are not followed) within
// a timeout, requires status 200, a JSON Content-Type (application/json or
// application/*+json), a body of at most MaxBodyBytes holding exactly one
// JSON value (no duplicate object members, nesting at most 64), and finds
// the price with an RFC 6901 JSON pointer (ParsePointer, implemented here:
// "~0" and "~1" escapes, array indexes without leading zeros, errors
// naming the missing token). An optional Exponent scales the quoted
// number (-2 for cents). An optional time pointer reads the quote's own
// time (Unix seconds or RFC 3339), so a source that keeps answering an old
// quote goes stale; without it the price is timed at arrival. A time more than MaxFutureSkew ahead is
// refused, and a quote older than the one a source last gave is ignored.
//
// # Aggregation
//
// An Oracle polls every source each Interval (Run) and keeps each source's
// last good price and time; a failed fetch keeps the previous price, which
// then ages out. Current computes a Quote from memory:
//
//  1. A manual price (SetManual) that has not expired wins: the quote is
//     that price, marked Manual with who set it and until when.
//  2. A source is fresh when its last price is at most MaxAge old. With
//     fewer than MinSources fresh sources the quote is Stale, and Reason
//     names every source that is not fresh and why, e.g. "only 1 of 3
//     sources is fresh (min 2): source b: connection refused; source c:
//     last price 12m ago (max age 5m)".
//  3. The median M of the fresh prices is taken. A fresh source agrees when
//     |p − M| × 10000 ≤ MaxSpreadBps × M, exactly. Sources that do not
//     agree are excluded. If fewer than MinSources agree, or the agreeing
//     sources are not a strict majority of the fresh ones, the quote is
//     Stale (the reason lists each outlier and its distance).
//  4. Otherwise the price is the median of the agreeing prices; those
//     sources are marked Contributing, and SpreadBps is the largest
//     deviation of a contributing price from the quoted price (rounded
//     up). A verifier given the contributing prices can recompute the
//     price exactly.
//
// The median of n prices is the lower middle: the element at index
// (n−1)/2 of the prices sorted ascending by exact value. For an even count
// it is the smaller of the two middle prices — no division, no rounding,
// always a price some source quoted, and the choice that values reserves
// lower (against the issuer).
//
// A lying source therefore never moves the price beyond the spread: every
// contributing price, the quoted one included, lies within MaxSpreadBps of
// the median of the fresh prices, and a liar outside it is excluded. While
// liars are fewer than honest sources whose prices lie within the spread of
// the lowest honest price, every honest source contributes, the quote is
// not stale on the liars' account, and the quoted price lies between the
// lowest and highest honest price (the median of the fresh prices does,
// hence every honest price agrees with it; then fewer than half of the
// agreeing prices, the liars, can sit below or above the lower median of
// the agreeing set). When liars are as many as the honest sources and all
// quote outside the spread, no side reaches a strict majority and the
// quote goes stale rather than pick one. Set MinSources above half the
// sources so that moving the price takes a colluding majority.
// TestAggregateLiarsProperty checks these claims on random prices.
package oracle
