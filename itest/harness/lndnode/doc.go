// Package lndnode runs one lnd node on regtest for Kosh's integration
// harness.
//
// New prepares a Node from a Config: a fresh --lnddir, three free
// 127.0.0.1 listeners (gRPC, REST, P2P) and lnd's command line against a
// btcd backend. StartContext (or Start, for tests) launches lnd and waits
// until it is active and synced to the backend's tip, then connects LN and
// Router as lncli does: TLS pinned to lnd's own certificate and the admin
// macaroon on every call. Stop, Kill and Restart model a clean shutdown, a
// crash and a reboot on the same directory and ports.
//
// The package knows one node only; what involves the chain or several
// nodes (funding, peers, channels, payments) is itest/harness's.
package lndnode
