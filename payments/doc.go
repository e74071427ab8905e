// Package payments moves bitcoin in and out of Kosh: deposits (a BOLT11
// invoice from the issuer's lnd, or a fresh address from a deposit
// descriptor watched by the chain watcher) credit an account by minting, and
// redemptions take units from the holder into an escrow account, pay a
// holder's invoice or address from the same lnd, and then burn the escrowed
// units (payout settled) or give them back (payout failed).
//
// Every deposit and redemption is a persisted state machine in the store,
// and every ledger entry it causes carries an idempotency key derived from
// something that cannot repeat (the invoice's payment hash, the credited
// outpoint, the redemption id). A crash between the ledger write and the
// state update is repaired by running the step again: the ledger returns the
// entry it already committed. Lightning payouts are anchored on the payment
// hash (lnd refuses a second payment of one hash, and TrackPaymentV2 tells
// whether a payment was ever initiated); on-chain payouts are anchored on a
// transaction label naming the redemption. The state machines and every
// crash point are described in docs/payments.md.
//
// Deposits live in package payments/deposits, which this service runs
// (its work loop and invoice subscription) and re-exports. A redemption's
// state machine, its ledger entries, the lnd checks and the work loop live
// here; everything said to lnd about a payout (checking the invoice or
// address asked for, sending it at most once, finding out what became of
// it) is package payments/payout, which writes nothing: Service.record
// moves the redemption by what it reports.
//
// The package knows nothing of gRPC; rpcserver translates its errors.
package payments
