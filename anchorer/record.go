package anchorer

import (
	"context"
	"errors"
)

// State is where an anchor is in its life.
type State string

// The anchor states, in order; Dropped ends an anchor that can no longer
// confirm (it is made again as a new record).
const (
	StateSigned    State = "signed"
	StatePublished State = "published"
	StateConfirmed State = "confirmed"
	StateDropped   State = "dropped"
)

// Record is one anchor transaction as koshd keeps it.
type Record struct {
	// Seq numbers koshd's anchors from 1.
	Seq int64
	// AttestationSeq and AttestationID are the attestation it commits to.
	AttestationSeq int64
	AttestationID  string
	// PrevTxid is the anchor whose seal it spends ("" for the genesis
	// anchor) and PrevHeight that anchor's block height (0 for genesis).
	PrevTxid   string
	PrevHeight int64
	// Txid and RawTx are the signed transaction.
	Txid  string
	RawTx []byte
	// Replaced are the txids of the transactions this one replaced to
	// raise the fee, oldest first: any of them may yet be the one that
	// confirms.
	Replaced []string
	// FeeSats is the fee it pays and Vbytes its virtual size.
	FeeSats int64
	Vbytes  int64
	State   State
	// Height and BlockHash are its block once confirmed.
	Height    int64
	BlockHash string
	// Trigger says what asked for it: a schedule spec or "rpc".
	Trigger   string
	CreatedAt int64 // Unix milliseconds
	UpdatedAt int64
}

// Store errors.
var (
	// ErrNotFound means no anchor matched.
	ErrNotFound = errors.New("no such anchor")
	// ErrConflict means a live (not dropped) anchor already commits to
	// the attestation.
	ErrConflict = errors.New("the attestation is already anchored")
	// ErrNoChange means a guarded state move found the anchor in another
	// state.
	ErrNoChange = errors.New("the anchor is not in the expected state")
)

// Store keeps the anchors.
type Store interface {
	// Latest returns the newest anchor that is not dropped (ErrNotFound).
	Latest(ctx context.Context) (Record, error)
	// LatestConfirmed returns the newest confirmed anchor (ErrNotFound).
	LatestConfirmed(ctx context.Context) (Record, error)
	// Insert stores a new signed anchor and returns it with its Seq; a
	// live anchor of the same attestation is ErrConflict.
	Insert(ctx context.Context, r Record) (Record, error)
	// Move changes an anchor's state from from to r.State, with r's
	// Height, BlockHash and UpdatedAt; ErrNoChange if it is not in from.
	Move(ctx context.Context, seq int64, from State, r Record) error
	// Replace sets the anchor's transaction (Txid, RawTx, FeeSats, Vbytes,
	// Replaced) and State, Height, BlockHash and UpdatedAt from r, if its
	// transaction is still fromTxid; ErrNoChange otherwise.
	Replace(ctx context.Context, seq int64, fromTxid string, r Record) error
	// List returns up to limit anchors, newest first, below seq before
	// (0: from the newest).
	List(ctx context.Context, before int64, limit int) ([]Record, error)
}
