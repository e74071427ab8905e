// Package harness runs real btcd and lnd processes on regtest, bound to
// 127.0.0.1 only, for Kosh's integration tests.
//
// A Harness owns one btcd node and a small in-memory wallet: btcd mines every
// block to a P2WPKH key the harness holds, and the harness signs and
// broadcasts spends of those coinbase outputs itself (btcd has no wallet). On
// top of that it starts any number of lnd nodes against the btcd node and
// offers the few conveniences tests need: funding a node, connecting peers,
// opening channels, paying invoices, and making reorgs — including one that
// drops a given transaction for good by double-spending one of its inputs in
// blocks the harness builds itself (btcd's generate would re-confirm it).
//
// The binaries come from bash itest/build-nodes.sh, which builds btcd and lnd
// at exactly the versions go.mod pins into <repo>/.build/bin. If they are
// missing the harness fails the test with that command; it never skips.
//
// Methods that block take a testing.TB first. The TB plays the role a
// context.Context plays elsewhere: every call derives its context from
// t.Context() (cancelled when the test ends) with a per-call timeout, and
// reports failure with t.Fatal. Long-lived resources are tied to the TB that
// created them with t.Cleanup. Start, the constructor behind New and Shared,
// takes a context and returns errors, for use from TestMain.
//
// Every process the harness starts is killed at t.Cleanup or Close, and is
// also started with a parent-death signal so that a crashed test binary
// leaves no orphans. Working directories live under one temporary directory;
// it is removed when everything passed and kept, with its log paths logged,
// when a test failed.
//
// Typical use, one harness per test binary:
//
//	func TestMain(m *testing.M) { harness.Main(m, harness.Config{}) }
//
//	func TestSomething(t *testing.T) {
//		h := harness.Shared(t)
//		alice, bob := h.NewNodes(t, "alice", "bob")...
//	}
package harness
