// Package history records what the torture clients were told and checks it
// against what koshd holds after a kill and restart.
//
// Each mint, burn or transfer is an Op under one idempotency key, with an
// Attempt per call: acknowledged (with the journal entry the call
// returned), definitely refused, or of unknown outcome (the connection cut,
// a timeout, a server error). Check compares every Op sent so far with the
// daemon's LedgerState (the whole journal, each account's balance and the
// supply) and returns a Report: acknowledged operations lost or applied
// twice, results that differ from what was acknowledged, and every broken
// invariant of replaying the journal from zero.
//
// The package knows nothing of processes or networks: it is pure
// bookkeeping, so its tests feed it fabricated histories with an operation
// missing, duplicated, altered or refused-yet-present, and the checker
// cannot pass silently. Command itest/torture drives koshd and fills the
// history.
package history
