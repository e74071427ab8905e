// Command public measures what public load costs the issuer, against the
// same figures without public load measured in the same run:
//
//	go run ./bench/public -duration 10s
//
// It starts an in-process koshd (TLS, macaroons, the real ledger on SQLite,
// the default public rate limits) on a temporary data directory with
// loopback listeners, and creates an asset and -accounts accounts with a
// mint each (a synthetic reserve source reports an enormous balance so that
// the mints pass the coverage gate; nothing here proves any reserve). With
// no chain source there is no block to attest at, so the attestation routes
// answer 404 after their database lookup.
//
// Page cost: it loads the public page -pages times, paced under the rate
// limits from 20 loopback source addresses (each warmed by one unmeasured
// request, so no TLS handshake is timed), with the journal at its seed size,
// then again after -journal transfers, and reports the median of each and
// their ratio. Beside it, GetSupply (the issuer's full scan of balances and
// journal, which the page used to run for every asset on every view) is
// timed at both sizes: its ratio is what the page's would be if it still
// read the journal.
//
// Issuer latency: it sends issuer Transfer calls at -transferrate per
// second and GetSupply at -supplyrate per second, each on its own schedule
// (a late call does not delay the next), for -duration with no public load
// and for -duration while -flood clients, each from its own loopback
// address (127.0.3.1, ...; Linux routes 127.0.0.0/8 to lo), request the
// page, an attestation file and the public REST routes in a loop, each as
// soon as its previous request was answered, 200 or 429 (as wrk or hey
// with 200 connections do). The two kinds of window alternate -rounds
// times, so that the machine's other load drifts over both alike; a flood
// window starts once every flood client has had an answer (its TLS
// handshake done) and two more seconds have passed. It prints p50 and p99
// of each call with and without the flood, their ratios, and what the flood
// got (requests per second answered 200, 429 or otherwise).
//
// -refusaldelay sets koshd's --ratelimit.refusaldelay: with 0 every
// refusal is answered at once, and the flood's clients send as many
// requests as koshd can refuse.
//
// The flood clients run in this process, so their own TLS and HTTP work
// competes with koshd for the same cores; a remote flood would cost koshd
// less. After the run the command checks that GetSupply is consistent; it
// exits non-zero if an issuer call failed or the check did not hold.
package main
