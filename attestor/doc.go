// Package attestor makes Kosh's attestations inside koshd: on a cron
// schedule and on demand, never two at once, it freezes the reserve
// snapshot and the ledger at one instant, builds the liability tree of
// every asset, signs the attestation with the issuer key, stores it with the
// balances it froze (so each holder's inclusion proof can be rebuilt), and
// writes it as a static file that can be mirrored. The format and the
// verification code live in proofs/; this package is the server side.
package attestor
