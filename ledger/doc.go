// Package ledger keeps Kosh's token accounts and the journal of every change
// to them.
//
// Every mint, burn and transfer is one journal entry, written atomically
// with the balance and supply changes it makes and keyed by a client-supplied
// idempotency key: a retry with the same key and the same request returns the
// first result, the same key with a different request is refused. Balances
// never go negative, amounts are int64 base units, and every addition is
// overflow-checked (in the database, as a guarded UPDATE, or, for a run of
// transfers on PostgreSQL, before it is written), so that at every commit
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
//
// Inside the batch an operation first runs as its writes alone, with the
// database's constraints standing in for the checks: the journal's unique
// idempotency key, the balances' foreign key to accounts, the guarded
// supply and balance updates. Only if one of them refuses is the savepoint
// rolled back and the operation run again with every check made in order,
// so a refusal or a replay gets the same answer and message either way. A
// batch that fails as a whole (a database error, not a refusal) is applied
// again one operation at a time, so one operation's failure is its own.
//
// On PostgreSQL, where every statement is a round trip to the server, a
// run of plain transfers (new keys, known accounts that can pay) is
// decided in memory from one query and written in one statement, about
// four round trips per batch instead of six per transfer (plan.go); the
// first operation that is not plain ends the run and takes the path
// above. And batches are pipelined (pipeline.go): the next batch decides
// and writes while the one before it waits for its commit's WAL flush,
// and commits only after it.
//
// The journal is a hash chain (journalchain.go): each entry stores a tagged
// hash of its predecessor's and its own fields, balances and supply after
// it included. Freeze, which every attestation starts from, replays the
// chain to its cut-off and refuses (ErrJournalTampered) a history edited
// in the database outside koshd: an entry changed, deleted or reordered, or
// a balance or supply changed without its entry.
package ledger
