// Package ledger keeps Kosh's token accounts and the journal of every change
// to them.
//
// Every mint, burn and transfer is one journal entry, written atomically
// with the balance and supply changes it makes and keyed by a client-supplied
// idempotency key: a retry with the same key and the same request returns the
// first result, the same key with a different request is refused. Balances
// never go negative, amounts are int64 base units, and every addition is
// overflow-checked (in the database, as a guarded UPDATE), so that at every
// commit
//
//	sum(balances) == supply == sum(mints) - sum(burns)
//
// Minting passes through a CoverageGate, which the reserve monitor
// implements: a mint the reserves cannot back is refused.
//
// Writes are group-committed: concurrent operations are queued, and one
// goroutine applies a batch of them in a single database transaction, each
// inside its own savepoint so that one refused operation does not disturb
// the others, then commits once. Durability is unchanged (every operation is
// acknowledged only after a synced commit); the fsync is simply shared.
package ledger
