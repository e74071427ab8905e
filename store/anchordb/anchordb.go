// Package anchordb keeps the anchor transactions: it implements
// anchorer.Store on a store.DB.
package anchordb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kosh-reserve/kosh/anchorer"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/store"
)

// Store is anchorer.Store on a database.
type Store struct {
	db *store.DB
}

var _ anchorer.Store = (*Store)(nil)

// New returns the anchor store of db.
func New(db *store.DB) *Store { return &Store{db: db} }

const cols = `seq, attestation_seq, attestation_id, prev_txid, prev_height, txid, raw_tx, fee_sats, vbytes, state,
	height, block_hash, trigger_name, created_at, updated_at, replaced`

func scan(row interface{ Scan(...any) error }) (anchorer.Record, error) {
	var r anchorer.Record
	var replaced string
	err := row.Scan(&r.Seq, &r.AttestationSeq, &r.AttestationID, &r.PrevTxid, &r.PrevHeight, &r.Txid, &r.RawTx,
		&r.FeeSats, &r.Vbytes, &r.State, &r.Height, &r.BlockHash, &r.Trigger, &r.CreatedAt, &r.UpdatedAt, &replaced)
	r.Replaced = strings.Fields(replaced)
	if err = store.NotFound(err); errors.Is(err, store.ErrNotFound) {
		return r, anchorer.ErrNotFound
	}
	return r, err
}

func (s *Store) one(ctx context.Context, where string) (anchorer.Record, error) {
	var r anchorer.Record
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		r, err = scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM anchors WHERE `+where+` ORDER BY seq DESC LIMIT 1`))
		return err
	})
	return r, err
}

// Latest returns the newest anchor that is not dropped.
func (s *Store) Latest(ctx context.Context) (anchorer.Record, error) {
	return s.one(ctx, `state <> 'dropped'`)
}

// LatestConfirmed returns the newest confirmed anchor.
func (s *Store) LatestConfirmed(ctx context.Context) (anchorer.Record, error) {
	return s.one(ctx, `state = 'confirmed'`)
}

// Insert stores a new anchor.
func (s *Store) Insert(ctx context.Context, r anchorer.Record) (anchorer.Record, error) {
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO anchors (attestation_seq, attestation_id, prev_txid, prev_height, txid,
			raw_tx, fee_sats, vbytes, state, height, block_hash, trigger_name, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING seq`,
			r.AttestationSeq, r.AttestationID, r.PrevTxid, r.PrevHeight, r.Txid, r.RawTx, r.FeeSats, r.Vbytes,
			string(r.State), r.Height, r.BlockHash, r.Trigger, r.CreatedAt, r.UpdatedAt).Scan(&r.Seq)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("anchor of attestation %d: %w", r.AttestationSeq, anchorer.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store anchor: %w", err)
		}
		return nil
	})
	return r, err
}

// Move changes an anchor's state, guarded by its current one.
func (s *Store) Move(ctx context.Context, seq int64, from anchorer.State, r anchorer.Record) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE anchors SET state = $1, height = $2, block_hash = $3, updated_at = $4
			WHERE seq = $5 AND state = $6`, string(r.State), r.Height, r.BlockHash, r.UpdatedAt, seq, string(from))
		if err != nil {
			return fmt.Errorf("move anchor %d to %s: %w", seq, r.State, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("move anchor %d: %w", seq, err)
		} else if n != 1 {
			return fmt.Errorf("move anchor %d from %s to %s: %w", seq, from, r.State, anchorer.ErrNoChange)
		}
		return nil
	})
}

// Replace changes an anchor's transaction, guarded by its current txid.
func (s *Store) Replace(ctx context.Context, seq int64, fromTxid string, r anchorer.Record) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE anchors SET txid = $1, raw_tx = $2, fee_sats = $3, vbytes = $4, replaced = $5,
			state = $6, height = $7, block_hash = $8, updated_at = $9 WHERE seq = $10 AND txid = $11`,
			r.Txid, r.RawTx, r.FeeSats, r.Vbytes, strings.Join(r.Replaced, " "), string(r.State), r.Height, r.BlockHash,
			r.UpdatedAt, seq, fromTxid)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("anchor %d: transaction %s is another anchor's: %w", seq, r.Txid, anchorer.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("replace the transaction of anchor %d: %w", seq, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("replace the transaction of anchor %d: %w", seq, err)
		} else if n != 1 {
			return fmt.Errorf("replace transaction %s of anchor %d: %w", fromTxid, seq, anchorer.ErrNoChange)
		}
		return nil
	})
}

// List returns anchors newest first.
func (s *Store) List(ctx context.Context, before int64, limit int) ([]anchorer.Record, error) {
	var out []anchorer.Record
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		q := `SELECT ` + cols + ` FROM anchors WHERE ($1 = 0 OR seq < $1) ORDER BY seq DESC LIMIT $2`
		rows, err := tx.Query(ctx, q, before, limit)
		if err != nil {
			return fmt.Errorf("list anchors: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scan(rows)
			if err != nil {
				return fmt.Errorf("list anchors: %w", err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// LatestConfirmedAnchor is the newest confirmed anchor as an attestation
// lists it (attestor.Anchors).
func (s *Store) LatestConfirmedAnchor(ctx context.Context) (attest.AnchorRef, bool, error) {
	r, err := s.LatestConfirmed(ctx)
	if errors.Is(err, anchorer.ErrNotFound) {
		return attest.AnchorRef{}, false, nil
	}
	if err != nil {
		return attest.AnchorRef{}, false, err
	}
	return attest.AnchorRef{Seq: r.AttestationSeq, ID: r.AttestationID, Txid: r.Txid, Height: r.Height,
		BlockHash: r.BlockHash}, true, nil
}
