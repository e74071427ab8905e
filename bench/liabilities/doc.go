// Command liabilities measures the liability tree (proofs/sumtree) at
// issuer scale, next to the raw SHA-256 rate of the same machine measured in
// the same run:
//
//	go run ./bench/liabilities -accounts 1000000,10000000
//
// For each account count it builds the tree of one asset with random
// balances (ids "acct-0000000001"…, held in one backing string so the input
// costs no per-account allocation), then generates every inclusion proof in
// its binary form (the work of handing each holder their proof), then
// verifies a sample of proofs. It prints wall-clock seconds for the build
// and for all proofs, the peak Go heap (sampled every 5 ms from
// runtime.MemStats, input included) and the peak resident set of the
// process (getrusage), the proof size, the mean verification time, the
// SHA-256 compressions the build performs per second and the raw rate of
// one-block SHA-256 hashes on all cores, and the ratio of the two.
//
// Targets (issue 4): 10M accounts built in under 4 s on 2 cores, under
// 2 GiB, proofs under 1.5 KB, verification under 50 µs.
package main
