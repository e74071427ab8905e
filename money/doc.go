// Package money owns Kosh's money arithmetic: the fixed-point Price of one
// bitcoin in a currency, powers of ten, rounding of exact rationals, and
// conversions between sats and an asset's base units. It depends on the
// standard library only; oracle, reserve, payments and web use it, and
// nothing here knows of them.
//
// # Prices
//
// A Price is fixed point, never a float: Coefficient / 10^Scale whole
// currency units per BTC, the coefficient-and-scale form of Taproot Assets'
// price oracle RPC. ParsePrice accepts the JSON number grammar without a
// sign ("6543210.12", "6.54321012e6"), from a JSON number or a JSON string;
// it rejects empty text, signs, NaN, Infinity, zero, more than MaxDigits
// (30) significant digits, more than MaxScale (18) decimal places and
// exponents beyond ±100, with an error wrapping ErrInvalidPrice.
//
// # Conversions and rounding
//
// With an asset of d decimals (INR paise: d = 2) and price c / 10^s:
//
//	SatsInUnits: units = sats × c × 10^d / (10^8 × 10^s)
//	UnitsInSats: sats  = units × 10^8 × 10^s / (10^d × c)
//
// Both are exact rationals (math/big), rounded once, at the end, by Round in
// the direction the caller names — there is no default Rounding, so every
// call site states it. The rule is: always against the issuer.
//
//   - Reserves valued in asset units (what the issuer holds): Floor. The
//     reserves' value shown and checked over gRPC and on the public page,
//     and the units a redemption takes for its sats, are floored.
//   - Liabilities converted to the sats that must back them (what the
//     issuer owes): Ceil. Required and backing sats are summed exactly over
//     the assets and rounded up once.
//
// So coverage is never overstated by rounding, by even one base unit or
// one sat. SatsToUnits and UnitsToSats are the checked forms with an int64
// result: negative amounts, decimals above MaxDecimals, a price that is not
// positive or has a scale above MaxScale, and results beyond int64
// (ErrOverflow) are errors.
//
// # The verifier's copy
//
// The attestation verifier (proofs/attest, proofs/verify) must stay
// importable without the server, so it keeps its own copy of the units-to-sats rule, of rounding up
// and of a source's deviation from a price (DeviationBps, the spread). The
// two are pinned together by testdata/money/vectors.json, which the tests of
// both packages read: zero, the int64 limits, rounding boundaries, overflow
// and refused inputs.
package money
