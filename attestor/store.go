package attestor

import (
	"context"
	"errors"
)

// Published is a stored attestation as served.
type Published struct {
	Seq       int64
	ID        string // the attestation's hash, hex
	PrevID    string // empty for the first
	Height    int64
	BlockHash string
	CreatedAt int64 // unix milliseconds
	Stale     bool
	CutoffSeq int64  // last journal sequence the liabilities include
	Seed      []byte // secret: salts and leaf order derive from it
	Document  string // the signed JSON, byte for byte as published
}

// AttestedBalance is one account's balance frozen by an attestation.
type AttestedBalance struct {
	Asset     string
	AccountID string
	Balance   int64
	// LastSeq is the account's last journal entry at or before the
	// cut-off (version 3 trees commit to it; 0 in rows stored before).
	LastSeq int64
}

// ErrNotStored is what a Store's lookups return (wrapped) when no
// attestation matches.
var ErrNotStored = errors.New("no such attestation stored")

// Store keeps published attestations and the balances each froze. Every
// method is one transaction. store/attestdb implements it on the database.
type Store interface {
	// InsertAttestation stores an attestation and the balances it froze.
	// Its sequence must follow the latest stored one: a second
	// attestation with the same sequence is refused.
	InsertAttestation(ctx context.Context, p Published, balances []AttestedBalance, prices []AttestedPrice) error
	// AttestedPrices returns the prices attestation seq states, in
	// currency order (none for an attestation that states none, or one
	// stored before prices were).
	AttestedPrices(ctx context.Context, seq int64) ([]AttestedPrice, error)
	// InsertAttestedPrices stores the prices of an attestation stored
	// before prices were (once: a second call for seq fails).
	InsertAttestedPrices(ctx context.Context, seq int64, prices []AttestedPrice) error
	// LatestAttestation returns the newest attestation, or ErrNotStored.
	LatestAttestation(ctx context.Context) (Published, error)
	// AttestationByID returns the attestation with the given id, or
	// ErrNotStored.
	AttestationByID(ctx context.Context, id string) (Published, error)
	// Attestations lists up to limit attestations with seq < before
	// (before <= 0: from the newest), newest first, without their
	// documents and seeds.
	Attestations(ctx context.Context, before int64, limit int) ([]Published, error)
	// AttestedBalances returns every balance of an asset frozen by
	// attestation seq, in account id order.
	AttestedBalances(ctx context.Context, seq int64, asset string) ([]AttestedBalance, error)
	// Corrupt returns the error that showed the database damaged, or nil:
	// a damaged database is never attested from.
	Corrupt() error
}
