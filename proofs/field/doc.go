// Package field holds the JSON field encodings shared by Kosh's signed
// documents (attestations, receipts, inclusion bundles): Amount, a
// non-negative int64 in base units written as a canonical decimal string;
// BigInt, a non-negative integer of any size written the same way;
// TimeLayout and ParseTime for times; IsLowerHex for fixed-length hex.
//
// Decimal strings rather than JSON numbers, because JavaScript numbers lose
// precision above 2^53 and the browser verifier must read the same bytes.
// It imports only the standard library and proofs/failure.
package field
