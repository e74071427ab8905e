// Package provingdb stores proofs of control: it implements proving.Store
// on a store.DB.
package provingdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
)

// Store is proving.Store on a database.
type Store struct {
	db *store.DB
}

var _ proving.Store = (*Store)(nil)

// New returns the proof-of-control store of db.
func New(db *store.DB) *Store { return &Store{db: db} }

// InsertControlProof stores a proof and makes it the proof of each of
// outpoints unless that outpoint already has a proof from a later block.
// It returns the proof with its id.
func (s *Store) InsertControlProof(ctx context.Context, p proving.StoredProof, outpoints []string) (proving.StoredProof, error) {
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO control_proofs (height, block_hash, tx, prevouts, source, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, p.Height, p.BlockHash, p.Tx, p.Prevouts, p.Source, p.CreatedAt).Scan(&p.ID)
		if err != nil {
			return fmt.Errorf("insert proof of control: %w", err)
		}
		for _, op := range outpoints {
			_, err := tx.Exec(ctx, `INSERT INTO control_outputs (outpoint, proof_id, height) VALUES ($1, $2, $3)
			ON CONFLICT (outpoint) DO UPDATE SET proof_id = excluded.proof_id, height = excluded.height
			WHERE control_outputs.height <= excluded.height`, op, p.ID, p.Height)
			if err != nil {
				return fmt.Errorf("record the proof of %s: %w", op, err)
			}
		}
		return nil
	})
	return p, err
}

// ControlProofs returns every proof still naming an output, in id order,
// and every proven output, in outpoint order.
func (s *Store) ControlProofs(ctx context.Context) ([]proving.StoredProof, []proving.StoredOutput, error) {
	var (
		proofs []proving.StoredProof
		outs   []proving.StoredOutput
	)
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, height, block_hash, tx, prevouts, source, created_at FROM control_proofs
		WHERE id IN (SELECT proof_id FROM control_outputs) ORDER BY id`)
		if err != nil {
			return fmt.Errorf("list proofs of control: %w", err)
		}
		for rows.Next() {
			var p proving.StoredProof
			if err := rows.Scan(&p.ID, &p.Height, &p.BlockHash, &p.Tx, &p.Prevouts, &p.Source, &p.CreatedAt); err != nil {
				rows.Close()
				return fmt.Errorf("list proofs of control: %w", err)
			}
			proofs = append(proofs, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list proofs of control: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT outpoint, proof_id, height FROM control_outputs ORDER BY outpoint`)
		if err != nil {
			return fmt.Errorf("list proven outputs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var o proving.StoredOutput
			if err := rows.Scan(&o.Outpoint, &o.ProofID, &o.Height); err != nil {
				return fmt.Errorf("list proven outputs: %w", err)
			}
			outs = append(outs, o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, err
	}
	return proofs, outs, nil
}

// RecentBlocks returns the processed blocks from depth below the tip up to
// the tip, in height order, or proving.ErrNoBlocks, in one snapshot.
func (s *Store) RecentBlocks(ctx context.Context, depth int64) ([]proving.Block, error) {
	var out []proving.Block
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		tip, err := chaindb.Tip(ctx, tx)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w (%w)", proving.ErrNoBlocks, err)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT height, hash FROM chain_blocks WHERE height >= $1 ORDER BY height`, tip.Height-depth)
		if err != nil {
			return fmt.Errorf("list chain blocks from %d: %w", tip.Height-depth, err)
		}
		defer rows.Close()
		for rows.Next() {
			var b proving.Block
			if err := rows.Scan(&b.Height, &b.Hash); err != nil {
				return fmt.Errorf("list chain blocks: %w", err)
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}
