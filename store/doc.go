// Package store is Kosh's persistence layer: one schema, one set of queries,
// two engines.
//
// SQLite (modernc.org/sqlite, pure Go) is the embedded default: WAL journal,
// synchronous=FULL so every commit is durable, one writer connection that
// takes the write lock at BEGIN (BEGIN IMMEDIATE), and a separate pool of
// readers. PostgreSQL (pgx) is the scale-out engine that several koshd
// replicas share.
//
// Migrations are the numbered files in migrations/, written once in the
// PostgreSQL dialect; the few differences SQLite needs are patched at load
// time (see dialect.go), as Taproot Assets' tapdb does. They are applied in
// order, each in its own transaction, when the store is opened.
//
// The store knows nothing of ledger rules: it offers typed queries on a
// transaction (Tx) and reports conditions such as "no row matched" as
// sentinel errors for the domain packages to interpret.
//
// A domain package owns its types and declares the narrow storage interface
// it uses; a subpackage here implements it on a DB with the query
// primitives of query.go and converts rows to the domain's types:
// store/attestdb (attestor.Store), store/reservedb (reserve.SnapshotStore),
// store/provingdb (proving.Store), store/pricedb (pricebook.ManualLog),
// store/paymentdb (payrecord.Store) and store/chaindb (chain.Store). The
// ledger's queries are still methods of Tx.
package store
