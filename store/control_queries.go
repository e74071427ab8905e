package store

import (
	"context"
	"fmt"
)

// ControlProofRow is a stored proof of control.
type ControlProofRow struct {
	ID        int64
	Height    int64
	BlockHash string
	// Tx is the signed proof transaction, serialized with witnesses.
	Tx []byte
	// Prevouts are the outputs the reserve inputs spend, encoded by the
	// caller (package reserve/proving).
	Prevouts []byte
	// Source says who made it: "import" for an operator's signed PSBT, or
	// an lnd node's name.
	Source    string
	CreatedAt int64
}

// ControlOutputRow names the proof of one outpoint.
type ControlOutputRow struct {
	Outpoint string
	ProofID  int64
	Height   int64
}

// InsertControlProof stores a proof and makes it the proof of each of
// outpoints unless that outpoint already has a proof from a later block.
// It returns the proof with its id.
func (t *Tx) InsertControlProof(ctx context.Context, p ControlProofRow, outpoints []string) (ControlProofRow, error) {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO control_proofs (height, block_hash, tx, prevouts, source, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, p.Height, p.BlockHash, p.Tx, p.Prevouts, p.Source, p.CreatedAt).Scan(&p.ID)
	if err != nil {
		return p, fmt.Errorf("insert proof of control: %w", err)
	}
	for _, op := range outpoints {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO control_outputs (outpoint, proof_id, height) VALUES ($1, $2, $3)
			ON CONFLICT (outpoint) DO UPDATE SET proof_id = excluded.proof_id, height = excluded.height
			WHERE control_outputs.height <= excluded.height`, op, p.ID, p.Height)
		if err != nil {
			return p, fmt.Errorf("record the proof of %s: %w", op, err)
		}
	}
	return p, nil
}

// ControlProofs returns every proof some outpoint still names, and those
// names.
func (t *Tx) ControlProofs(ctx context.Context) ([]ControlProofRow, []ControlOutputRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, height, block_hash, tx, prevouts, source, created_at FROM control_proofs
		WHERE id IN (SELECT proof_id FROM control_outputs) ORDER BY id`)
	if err != nil {
		return nil, nil, fmt.Errorf("list proofs of control: %w", err)
	}
	var proofs []ControlProofRow
	for rows.Next() {
		var p ControlProofRow
		if err := rows.Scan(&p.ID, &p.Height, &p.BlockHash, &p.Tx, &p.Prevouts, &p.Source, &p.CreatedAt); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("list proofs of control: %w", err)
		}
		proofs = append(proofs, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list proofs of control: %w", err)
	}
	rows, err = t.tx.QueryContext(ctx, `SELECT outpoint, proof_id, height FROM control_outputs ORDER BY outpoint`)
	if err != nil {
		return nil, nil, fmt.Errorf("list proven outputs: %w", err)
	}
	defer rows.Close()
	var outs []ControlOutputRow
	for rows.Next() {
		var o ControlOutputRow
		if err := rows.Scan(&o.Outpoint, &o.ProofID, &o.Height); err != nil {
			return nil, nil, fmt.Errorf("list proven outputs: %w", err)
		}
		outs = append(outs, o)
	}
	return proofs, outs, rows.Err()
}

// ChainBlocksFrom returns the chain watcher's blocks at or above height,
// lowest first: where an imported proof's challenge block is looked for.
func (t *Tx) ChainBlocksFrom(ctx context.Context, height int64) ([]ChainBlock, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT height, hash FROM chain_blocks WHERE height >= $1 ORDER BY height`, height)
	if err != nil {
		return nil, fmt.Errorf("list chain blocks from %d: %w", height, err)
	}
	defer rows.Close()
	var out []ChainBlock
	for rows.Next() {
		var b ChainBlock
		if err := rows.Scan(&b.Height, &b.Hash); err != nil {
			return nil, fmt.Errorf("list chain blocks: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
