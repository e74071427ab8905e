// Package sumtree builds Kosh's Merkle-sum liability tree and verifies
// inclusion proofs against it.
//
// One tree covers one asset in one attestation. Every leaf is an account:
// its balance and a salted commitment to its id, so the public tree shows no
// identities. Every inner node commits to both children's hashes and both
// children's sums (the form that resists the Hu–Zhang–Guo attack on Maxwell
// trees), and every sum is checked against MaxSum = 2^63-1, so a negative or
// wrapped total can be neither built nor verified. Leaves are shuffled per
// attestation; empty positions are filled by opaque padding subtrees of sum
// zero, so a tree of height H costs about 2n hashes for n accounts, not 2^H.
//
// The issuer calls Build with the attestation's secret seed, publishes
// Root (hash, total, height, count) in the attestation and hands each holder
// their Proof and Salt. A holder, koshverify or the page calls
// VerifyInclusion. The verifier part of the package imports only the
// standard library and proofs/taghash.
//
// The byte-level format is specified in docs/proofs.md; the test vectors in
// testdata/sumtree/vectors.json pin it for every implementation.
package sumtree
