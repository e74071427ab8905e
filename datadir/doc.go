// Package datadir guards koshd's data directory: the permissions of the
// files in it that must stay private (the TLS key, the macaroon root key,
// the macaroons, the issuer's signing key and the SQLite database), checked
// at start and again while koshd runs; and the ledger identity that ties
// the directory to its database, so that a lost, emptied or swapped
// database is refused instead of silently starting a second history under
// the same issuer key.
//
// It owns no paths: the daemon lists what lives where, this package says
// whether it is safe.
package datadir
