// Package strictjson reads Kosh's JSON documents (inclusion proofs and
// bundles, receipts, attestations) strictly, so that one document has one
// meaning in every verifier.
//
// encoding/json is lenient where a proof format must not be: it matches
// member names without regard to case, keeps the last of two members with
// the same name, fills a missing member with its zero value and reads 4.0
// or 4e0 into an integer. JavaScript's JSON.parse keeps the last duplicate
// too, but compares names exactly. A document that two verifiers read
// differently can verify in one and fail in the other, or verify in both
// with different meanings. Check refuses every such document before a
// verifier decodes it, so that the decoder that follows (encoding/json into
// the document's struct) only ever sees text with one reading.
//
// Check works in two phases, each stopping at its first failure:
//
//  1. Reading (ErrSyntax): the bytes are valid UTF-8 and one RFC 8259 JSON
//     value with nothing after it; no string holds a lone UTF-16 surrogate
//     escape; no object has two members of the same name (compared after
//     unescaping); nesting is at most MaxDepth. The parser is jcs.Parse,
//     the one that reads what is canonicalized, with one exception: a
//     number beyond the range of a double is read (Int then refuses it).
//  2. Shape (ErrShape), walking the value in document order against a
//     Shape: every member name is one the shape lists, exactly (case
//     counts); an optional member that is present is not "" or []; every
//     value has its JSON type (no null anywhere; an Int is a number
//     written as an integer: digits with an optional minus sign, no
//     fraction, exponent or leading zero, not -0, at most 2^53 − 1 in
//     magnitude, so that JavaScript reads it exactly); and, when an object
//     ends, every required member is present (the first missing one in
//     byte order of the names is reported).
//
// The messages are one sentence fragment each, with byte offsets (reading)
// or member paths such as "proof.siblings[1].sum" (shape). The browser
// verifier (web/static/verify.js, "strict JSON reading") implements the
// same two phases with the same messages; testdata/strict/documents.json
// holds documents that pin them.
package strictjson
