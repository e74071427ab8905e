// Package jcs implements the JSON Canonicalization Scheme of RFC 8785.
//
// Kosh signs attestations and receipts over the canonical form of their JSON
// text, so that a verifier written in any language (the koshverify tool, the
// in-browser verifier of the public page, an auditor's script) can re-create
// the exact bytes that were hashed without sharing Kosh's Go structs.
// Canonicalize takes any JSON text and returns its canonical form; IsCanonical
// tells whether a byte string already is canonical, which a verifier checks
// before hashing a file it downloaded.
//
// The canonical form is the RFC 8785 one, byte for byte:
//
//   - no whitespace between tokens;
//   - object members sorted by their names compared as arrays of UTF-16 code
//     units (not by UTF-8 bytes or code points: U+1F600 sorts before U+FB33);
//   - strings written as UTF-8, escaping only '"', '\\' and the control
//     characters U+0000 to U+001F, the latter as \b \t \n \f \r when such a
//     short form exists and as \u00xx (lower-case hex) otherwise; no Unicode
//     normalization;
//   - numbers written as ECMAScript's Number.prototype.toString writes an
//     IEEE-754 double: integers below 1e21 as plain digits, the shortest
//     decimal that reads back as the same double, exponents as "1e+21" and
//     "1e-7", and -0 as "0";
//   - literals null, true and false unchanged.
//
// Input is parsed strictly as I-JSON (RFC 7493): invalid UTF-8, lone
// surrogates (escaped or raw), duplicate member names, numbers that overflow a
// double, and anything that is not RFC 8259 JSON are errors, never repaired.
// Nesting deeper than MaxDepth is refused so that hostile input cannot exhaust
// the stack.
//
// Parse returns the value so read, object members in document order and
// numbers as written, for readers that judge a document's shape (package
// strictjson) rather than write it anew; its errors, *SyntaxError, name the
// rule broken so that such a reader can word them its own way.
//
// Amounts in Kosh documents are decimal strings, not JSON numbers: an amount
// is an int64 count of base units (sats, paise), and int64 values above 2^53
// cannot be represented exactly by the IEEE-754 doubles that RFC 8785 (and
// every JavaScript verifier) uses for numbers. Writing "amount":"2100000000000000"
// keeps every document inside I-JSON and every sum exact. The canonicalizer
// still serializes numbers exactly as RFC 8785 requires, so documents from
// other producers canonicalize the same here as in any conforming
// implementation.
package jcs
