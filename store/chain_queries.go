package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ChainBlock is a processed block.
type ChainBlock struct {
	Height int64
	Hash   string
}

// UTXORow is a watched output and, once spent, where it was spent.
type UTXORow struct {
	TxID           string
	Vout           uint32
	Value          int64
	PkScript       []byte
	Descriptor     string
	Index          int64
	Height         int64
	BlockHash      string
	SpentTxID      string
	SpentHeight    int64 // 0 while unspent
	SpentBlockHash string
}

// ChainTip returns the highest processed block, or ErrNotFound before the
// first.
func (t *Tx) ChainTip(ctx context.Context) (ChainBlock, error) {
	var b ChainBlock
	err := t.tx.QueryRowContext(ctx, `SELECT height, hash FROM chain_blocks ORDER BY height DESC LIMIT 1`).Scan(&b.Height, &b.Hash)
	if err != nil {
		return b, fmt.Errorf("chain tip: %w", notFound(err))
	}
	return b, nil
}

// ChainBlockAt returns the processed block at a height.
func (t *Tx) ChainBlockAt(ctx context.Context, height int64) (ChainBlock, error) {
	b := ChainBlock{Height: height}
	err := t.tx.QueryRowContext(ctx, `SELECT hash FROM chain_blocks WHERE height = $1`, height).Scan(&b.Hash)
	if err != nil {
		return b, fmt.Errorf("chain block %d: %w", height, notFound(err))
	}
	return b, nil
}

// InsertChainBlock records a processed block.
func (t *Tx) InsertChainBlock(ctx context.Context, b ChainBlock) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO chain_blocks (height, hash) VALUES ($1, $2)`, b.Height, b.Hash); err != nil {
		return fmt.Errorf("record block %d: %w", b.Height, err)
	}
	return nil
}

// RollbackChainAbove undoes everything recorded for blocks above height:
// outputs created there are forgotten, spends there are undone, and the
// blocks themselves are removed. It returns how many blocks were removed.
func (t *Tx) RollbackChainAbove(ctx context.Context, height int64) (int64, error) {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM chain_utxos WHERE height > $1`, height); err != nil {
		return 0, fmt.Errorf("roll back outputs above %d: %w", height, err)
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE chain_utxos SET spent_txid = NULL, spent_height = NULL,
		spent_block_hash = NULL WHERE spent_height > $1`, height); err != nil {
		return 0, fmt.Errorf("roll back spends above %d: %w", height, err)
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM chain_blocks WHERE height > $1`, height)
	if err != nil {
		return 0, fmt.Errorf("roll back blocks above %d: %w", height, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// InsertUTXO records a newly seen watched output.
func (t *Tx) InsertUTXO(ctx context.Context, u UTXORow) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO chain_utxos (txid, vout, value, pk_script, descriptor,
		derivation_index, height, block_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.TxID, u.Vout, u.Value, u.PkScript, u.Descriptor, u.Index, u.Height, u.BlockHash)
	if isUniqueViolation(err) {
		return fmt.Errorf("output %s:%d: %w", u.TxID, u.Vout, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("record output %s:%d: %w", u.TxID, u.Vout, err)
	}
	return nil
}

// SpendUTXO marks a watched output spent.
func (t *Tx) SpendUTXO(ctx context.Context, txid string, vout uint32, spentTxID string, height int64, blockHash string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE chain_utxos SET spent_txid = $1, spent_height = $2, spent_block_hash = $3
		WHERE txid = $4 AND vout = $5 AND spent_height IS NULL`, spentTxID, height, blockHash, txid, vout)
	if err != nil {
		return fmt.Errorf("record spend of %s:%d: %w", txid, vout, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("record spend of %s:%d: %w", txid, vout, ErrNoChange)
	}
	return nil
}

// UnspentUTXOs lists every watched output not spent in a processed block.
func (t *Tx) UnspentUTXOs(ctx context.Context) ([]UTXORow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT txid, vout, value, pk_script, descriptor, derivation_index,
		height, block_hash FROM chain_utxos WHERE spent_height IS NULL ORDER BY height, txid, vout`)
	if err != nil {
		return nil, fmt.Errorf("list unspent outputs: %w", err)
	}
	defer rows.Close()
	var out []UTXORow
	for rows.Next() {
		var u UTXORow
		if err := rows.Scan(&u.TxID, &u.Vout, &u.Value, &u.PkScript, &u.Descriptor, &u.Index, &u.Height, &u.BlockHash); err != nil {
			return nil, fmt.Errorf("list unspent outputs: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DescriptorNextIndex returns the first unused derivation index of a
// descriptor (0 if it was never seen).
func (t *Tx) DescriptorNextIndex(ctx context.Context, desc string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, `SELECT next_index FROM chain_descriptors WHERE descriptor = $1`, desc).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("descriptor state: %w", err)
	}
	return n, nil
}

// SetDescriptorNextIndex raises a descriptor's first unused index (it never
// goes down: watching more addresses than needed is harmless).
func (t *Tx) SetDescriptorNextIndex(ctx context.Context, desc string, next int64) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO chain_descriptors (descriptor, next_index) VALUES ($1, $2)
		ON CONFLICT (descriptor) DO UPDATE SET next_index = excluded.next_index
		WHERE chain_descriptors.next_index < excluded.next_index`, desc, next)
	if err != nil {
		return fmt.Errorf("save descriptor state: %w", err)
	}
	return nil
}
