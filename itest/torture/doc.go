// Command torture kills a real koshd with SIGKILL under concurrent load,
// round after round, on each store, and checks that nothing acknowledged was
// lost and nothing was applied twice:
//
//	go run ./itest/torture -rounds 20            # make torture
//	go run ./itest/torture -rounds 3             # what make test runs
//
// It builds koshd as shipped into .build/torture, starts a regtest btcd
// through itest/harness (built by itest/build-nodes.sh), and points koshd at
// a reserve wallet of its own (50 BTC to a wpkh descriptor whose key the run
// holds), which it proves with a BIP-127 proof of control (koshd's exported
// PSBT, signed by controltest.SignPSBT, imported) so that mints pass the
// coverage gate. For each store (-stores: SQLite on
// a fresh data directory; PostgreSQL in a fresh database
// kosh_torture_<random> on the server at -dsn, dropped afterwards) it
// creates an asset and -accounts accounts, mints a starting balance to each,
// then runs -rounds rounds of:
//
//  1. load: -clients concurrent clients send transfers (90%), mints and
//     burns over gRPC with the admin macaroon, each with a unique
//     idempotency key, one call in flight each; every answer is recorded:
//     an acknowledged entry, a definite refusal, or an unknown outcome (the
//     connection cut, a timeout, a server error);
//  2. after a random time (-minload to -maxload) the clients stop sending
//     and koshd is killed with SIGKILL, cutting the calls in flight;
//  3. restart: koshd is started again on the same data; with probability
//     -restartkill it is first killed again at a random moment of its
//     start-up;
//  4. retry: every operation of the round with an unknown outcome is sent
//     again, once, with the same key and request; -replays acknowledged
//     operations are sent again too and must answer the same entry;
//  5. check (package history), through the issuer API (ListJournal, GetAccount,
//     GetSupply), against every operation sent so far: every acknowledged
//     operation is in the journal exactly once with the acknowledged
//     result; no key is in it twice; a refused operation is absent; every
//     entry is an operation a client sent; replaying the journal from zero
//     reproduces each entry's balances and supply after it, never goes
//     negative, and ends at the balances GetAccount reports and at the
//     supply, which equals the sum of balances and the journal total.
//
// A round whose check fails ends that store's run. The command prints one
// line per store (rounds, kills, acknowledged, unacknowledged, retried,
// lost, double-applied, mismatched, invariant failures) and each problem
// found, and exits non-zero if any check failed or the run could not be
// carried out. A failed store's data directory and koshd.log are kept.
//
// The checker is package itest/torture/history, apart from the code that
// drives koshd; its tests feed it fabricated journals with an operation
// missing, duplicated, altered or refused-yet-present, so that the checker
// itself cannot pass silently.
package main
