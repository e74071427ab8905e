// Command liabilities measures both liability tree formats (proofs/sumtree)
// side by side at issuer scale, next to the raw SHA-256 rate of the same
// machine measured in the same run:
//
//	go run ./bench/liabilities -accounts 1000000,10000000
//
// For each account count it measures version 1 (Build, one leaf per
// account) and version 2 (Build2 with the default 2 shares per balance and
// windows of 2^10 positions, each account with a journal sequence), each in
// a child process of its own (the same program, re-run with a hidden flag),
// so that one format's peak memory does not carry into the other's. The
// accounts are the same in both: ids "acct-0000000001"…, held in one
// backing string so the input costs no per-account allocation, and random
// balances. Each child builds the tree, measuring the raw rate again just
// before and just after the build, generates every proof in its binary
// form on every core (the work of handing each holder their proof:
// ProofWriter.EachProof over ranges of positions, ShareTree.EachProofIn
// over ranges of windows), keeping a sample of about -verify proofs (those
// whose salt falls below a threshold), and verifies the sample from its
// binary form on one core.
//
// Columns: wall-clock seconds of the build and of all proofs; the peak Go
// heap (sampled every 5 ms from runtime/metrics, input included) and the
// peak resident set of the child (getrusage); the proof size in bytes, mean
// and longest over every proof generated (a version 1 proof is always 6 +
// 40·height bytes; a version 2 share-set multiproof varies with how far
// apart its shares lie); the mean verification time; the raw rate of
// one-block SHA-256 hashes on all cores measured just before and just
// after the build (b/a); the SHA-256 compressions the build performs per
// second; and their ratio to the mean of the two raw rates. The ratio can
// exceed 100%: the trees run the compression function themselves after a
// precomputed tag state (proofs/internal/sha256blocks), with none of
// Sum256's per-call work, and two independent messages at a time, whose
// SHA-NI rounds overlap. The header names the block function in use
// (SHA-NI or generic).
//
// Then a targets line per format for the largest account count (issue 4:
// 10M accounts built in 4 s on 2 cores, in 2 GiB of peak RSS, proofs of at
// most 1,500 bytes, a version 2 share set's longest, verification in 50 µs),
// with each measured value and pass or FAIL. On a shared machine the build
// time moves with the load, so the line also gives the build time at a
// reference raw rate: the build's compressions over the measured ratio
// times the reference rate ("2.9 s at ref" means the build would take 2.9 s
// on a machine whose raw rate is the reference). The reference is -rawref
// (M hashes/s) or, by default, the highest raw rate measured in the run;
// it assumes the build slows with the load as the raw rate does, which
// holds for the hashing but less for memory stalls. The load average
// before and after is printed.
//
// -formats 1 or -formats 2 measures one format; -cpuprofile FILE writes a
// CPU profile of each child to FILE.v<version>.<accounts>.
package main
