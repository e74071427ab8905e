// Package itest holds Kosh's integration tests, run against real btcd and lnd
// processes on regtest through the harness in itest/harness.
//
// Build the nodes once, then run:
//
//	bash itest/build-nodes.sh && go test ./itest/... -count=1 -v
package itest
