// Command transfers measures the ledger's durable transfer throughput
// through the real gRPC server, next to a raw-store baseline measured in the
// same run:
//
//	go run ./bench/transfers -duration 10s
//
// It starts an in-process koshd (TLS, macaroons, the real ledger and reserve
// monitor) on a temporary data directory with loopback listeners, creates an
// asset and -accounts accounts through gRPC with the admin macaroon, mints a
// large starting balance to each, then lets -clients goroutines, sharing
// -conns gRPC connections, send Transfer calls (amount 1, random distinct
// accounts, a unique idempotency key each) for -duration after a one-second
// warm-up. Every call's latency is recorded.
//
// The baselines run on the same engine before the transfers: one-row
// inserts, each committed in its own transaction, and the same inserts
// batched 64 per transaction. For SQLite the baseline file uses the pragmas
// the store uses (WAL, synchronous=FULL, busy_timeout, one writer connection
// with BEGIN IMMEDIATE), so "transfers/s ÷ 1-row commits/s" says how much
// group commit buys over one fsync per operation, and the 64-row figure is
// roughly the ceiling batching can reach on this disk.
//
// After the run the command checks that GetSupply reports a consistent
// supply and that the journal holds exactly the successful mints and
// transfers. It exits non-zero on any failed call or failed check.
//
// With -db postgres the daemon and the baselines run in a fresh schema of
// the PostgreSQL at -dsn, dropped afterwards. -cpuprofile writes a CPU
// profile of the measured transfer window (server and clients share the
// process, so client-side TLS and protobuf work shows up too).
package main
