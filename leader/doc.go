// Package leader elects one leader among the koshd processes that share one
// PostgreSQL database, and fences the writes that only the leader may make.
//
// koshd (package daemon) runs an Elector and, in each tenure, the
// leader-only work under a context from Fenced, so that every write
// transaction of that work runs Check first (docs/deployment.md).
//
// # The lease
//
// One row, leader_lease (migration 0016), holds the lease: the holder's id,
// a fencing token and an expiry. Every statement that changes it is a single
// UPDATE that compares against the database's clock (clock_timestamp()),
// never the process's, so clock skew between hosts does not matter; only the
// rate at which clocks run does, and that is parts per million.
//
//   - Acquire succeeds only if the lease is free (released) or expired. It
//     raises the token by one: every tenure has its own token, so the token
//     rises on every change of holder.
//   - Renew succeeds only if the lease is still ours with our token; it
//     moves the expiry to now + TTL and keeps the token.
//   - Release (when Run's context ends) empties the holder and expires the
//     lease at once, so a follower takes over on its next attempt.
//
// # Who leads, in the process's own view
//
// A process counts its lease from the moment it sent the statement that
// acquired or renewed it (its own monotonic clock), which is no later than
// the moment the database computed the expiry. It considers itself leader
// until that moment + TTL − Margin (Margin defaults to TTL/5), and the
// Leader accessor reports exactly that, however late the Run loop runs. A
// renewal refused by the database (another holder, a new token) ends the
// leadership at once; a renewal that fails (database unreachable, slow) is
// retried until the margin runs out, and then leadership ends. Renew
// defaults to TTL/3, so two or three renewals can fail before that.
//
// # Fencing
//
// The local view is advice; the database decides. Every leader-only write
// calls Check(ctx, tx, token) inside its own write transaction. Check reads
// the lease row with SELECT ... FOR KEY SHARE and fails with ErrNotLeader
// unless the row still carries the token and has not expired. The share lock
// is held until the transaction ends, and Acquire locks the row FOR UPDATE,
// which conflicts with it, so:
//
//   - a transaction that passed Check commits before any new holder's
//     acquisition commits: the new leader starts after it and sees its
//     writes;
//   - an acquisition that committed first makes every later Check with the
//     old token fail: a paused old leader's write is refused.
//
// This holds under the store's write isolation on PostgreSQL (READ
// COMMITTED): a locking read waits for a conflicting writer and then
// re-reads the newest version of the row. Under REPEATABLE READ it would
// fail with a serialization error instead, which store.Write retries and
// the retry is refused. Renew changes no key column, so it takes a lock
// (FOR NO KEY UPDATE) that does not conflict with FOR KEY SHARE: a leader's
// own fenced transactions do not hold up its renewals.
//
// A paused process could hold the share lock for ever and so block the
// takeover; Check therefore sets idle_in_transaction_session_timeout for its
// transaction to the holder's TTL, and PostgreSQL ends a session that sits
// idle inside a fenced transaction longer than that, releasing the lock. A
// fenced transaction must not pause between statements for longer than the
// TTL.
//
// # Failover bound
//
// After the leader dies or pauses, its lease expires at most TTL after its
// last renewal, and a follower campaigns every Renew, so a follower leads
// within TTL + Renew (13.3 s with the defaults). If the old leader paused
// inside a fenced transaction, the takeover waits for PostgreSQL to end that
// session, at most one more TTL: 2·TTL + Renew.
//
// # SQLite
//
// A SQLite database is one koshd's file (the store keeps a single writer
// connection), so on SQLite there is nothing to elect: Run makes the process
// leader with token 1 at once, and Check accepts token 1 only. The lease
// row exists there but is never read.
package leader
