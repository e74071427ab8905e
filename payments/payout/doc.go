// Package payout pays redemptions with the payments lnd and tells what
// became of each payout. It has one job: talk to lnd about the payout of a
// redemption whose units are already in escrow, so that it is sent at most
// once, and say whether it is in flight, paid, failed, or was never
// initiated. It writes nothing: the payments service reads the Result and
// moves the redemption's state (and the ledger) accordingly.
//
// A Lightning payout is anchored on its payment hash: before sending, and
// after a send whose answer was lost, lnd is asked whether it ever
// initiated a payment of that hash (TrackPaymentV2), and lnd refuses a
// second payment of one hash. An on-chain payout is anchored on the label
// its transaction carries in lnd's wallet, "kosh-redemption:" and the
// redemption id, which is looked up before sending and after a lost
// answer. docs/payments.md describes the crash points around both.
package payout
