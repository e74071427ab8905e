// Package chaindb keeps the chain watcher's state: the processed blocks,
// the watched outputs and each descriptor's next index. It implements
// chain.Store on a store.DB; Tip and NextIndex serve the other store
// packages that read the watcher's state in their own transactions.
package chaindb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/store"
)

// Store is chain.Store on a database.
type Store struct {
	db *store.DB
}

var _ chain.Store = (*Store)(nil)

// New returns the chain watcher's store on db.
func New(db *store.DB) *Store { return &Store{db: db} }

// Read runs fn in a read-only transaction.
func (s *Store) Read(ctx context.Context, fn func(chain.StoreTx) error) error {
	return s.db.Read(ctx, func(t *store.Tx) error { return fn(tx{t}) })
}

// Write runs fn in a transaction that commits if fn returns nil.
func (s *Store) Write(ctx context.Context, fn func(chain.StoreTx) error) error {
	return s.db.Write(ctx, func(t *store.Tx) error { return fn(tx{t}) })
}

// tx is chain.StoreTx on a store transaction.
type tx struct{ tx *store.Tx }

var _ chain.StoreTx = tx{}

// Tip returns the highest processed block in t, or an error that is both
// chain.ErrNotStored and store.ErrNotFound before the first.
func Tip(ctx context.Context, t *store.Tx) (chain.StoredBlock, error) { return tx{t}.ChainTip(ctx) }

// NextIndex returns the first unused derivation index of desc in t.
func NextIndex(ctx context.Context, t *store.Tx, desc string) (int64, error) {
	return tx{t}.DescriptorNextIndex(ctx, desc)
}

// notFound turns "no row" into an error that is both chain.ErrNotStored
// and store.ErrNotFound.
func notFound(err error) error {
	err = store.NotFound(err)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w (%w)", chain.ErrNotStored, err)
	}
	return err
}

// ChainTip returns the highest processed block, or ErrNotFound before the
// first.
func (t tx) ChainTip(ctx context.Context) (chain.StoredBlock, error) {
	var b chain.StoredBlock
	err := t.tx.QueryRow(ctx, `SELECT height, hash FROM chain_blocks ORDER BY height DESC LIMIT 1`).Scan(&b.Height, &b.Hash)
	if err != nil {
		return b, fmt.Errorf("chain tip: %w", notFound(err))
	}
	return b, nil
}

// chain.StoredBlockAt returns the processed block at a height.
func (t tx) ChainBlockAt(ctx context.Context, height int64) (chain.StoredBlock, error) {
	b := chain.StoredBlock{Height: height}
	err := t.tx.QueryRow(ctx, `SELECT hash FROM chain_blocks WHERE height = $1`, height).Scan(&b.Hash)
	if err != nil {
		return b, fmt.Errorf("chain block %d: %w", height, notFound(err))
	}
	return b, nil
}

// InsertChainBlock records a processed block.
func (t tx) InsertChainBlock(ctx context.Context, b chain.StoredBlock) error {
	if _, err := t.tx.Exec(ctx, `INSERT INTO chain_blocks (height, hash) VALUES ($1, $2)`, b.Height, b.Hash); err != nil {
		return fmt.Errorf("record block %d: %w", b.Height, err)
	}
	return nil
}

// RollbackChainAbove undoes everything recorded for blocks above height:
// outputs created there are forgotten, spends there are undone, and the
// blocks themselves are removed. It returns how many blocks were removed.
func (t tx) RollbackChainAbove(ctx context.Context, height int64) (int64, error) {
	if _, err := t.tx.Exec(ctx, `DELETE FROM chain_utxos WHERE height > $1`, height); err != nil {
		return 0, fmt.Errorf("roll back outputs above %d: %w", height, err)
	}
	if _, err := t.tx.Exec(ctx, `UPDATE chain_utxos SET spent_txid = NULL, spent_height = NULL,
		spent_block_hash = NULL WHERE spent_height > $1`, height); err != nil {
		return 0, fmt.Errorf("roll back spends above %d: %w", height, err)
	}
	res, err := t.tx.Exec(ctx, `DELETE FROM chain_blocks WHERE height > $1`, height)
	if err != nil {
		return 0, fmt.Errorf("roll back blocks above %d: %w", height, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// InsertUTXO records a newly seen watched output.
func (t tx) InsertUTXO(ctx context.Context, u chain.StoredOutput) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO chain_utxos (txid, vout, value, pk_script, descriptor,
		derivation_index, height, block_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.TxID, u.Vout, u.Value, u.PkScript, u.Descriptor, u.Index, u.Height, u.BlockHash)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("output %s:%d: %w", u.TxID, u.Vout, chain.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("record output %s:%d: %w", u.TxID, u.Vout, err)
	}
	return nil
}

// SpendUTXO marks a watched output spent.
func (t tx) SpendUTXO(ctx context.Context, txid string, vout uint32, spentTxID string, height int64, blockHash string) error {
	res, err := t.tx.Exec(ctx, `UPDATE chain_utxos SET spent_txid = $1, spent_height = $2, spent_block_hash = $3
		WHERE txid = $4 AND vout = $5 AND spent_height IS NULL`, spentTxID, height, blockHash, txid, vout)
	if err != nil {
		return fmt.Errorf("record spend of %s:%d: %w", txid, vout, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("record spend of %s:%d: %w", txid, vout, chain.ErrNoChange)
	}
	return nil
}

// UnspentUTXOs lists every watched output not spent in a processed block.
func (t tx) UnspentUTXOs(ctx context.Context) ([]chain.StoredOutput, error) {
	rows, err := t.tx.Query(ctx, `SELECT txid, vout, value, pk_script, descriptor, derivation_index,
		height, block_hash FROM chain_utxos WHERE spent_height IS NULL ORDER BY height, txid, vout`)
	if err != nil {
		return nil, fmt.Errorf("list unspent outputs: %w", err)
	}
	defer rows.Close()
	var out []chain.StoredOutput
	for rows.Next() {
		var u chain.StoredOutput
		if err := rows.Scan(&u.TxID, &u.Vout, &u.Value, &u.PkScript, &u.Descriptor, &u.Index, &u.Height, &u.BlockHash); err != nil {
			return nil, fmt.Errorf("list unspent outputs: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DescriptorNextIndex returns the first unused derivation index of a
// descriptor (0 if it was never seen).
func (t tx) DescriptorNextIndex(ctx context.Context, desc string) (int64, error) {
	var n int64
	err := t.tx.QueryRow(ctx, `SELECT next_index FROM chain_descriptors WHERE descriptor = $1`, desc).Scan(&n)
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
func (t tx) SetDescriptorNextIndex(ctx context.Context, desc string, next int64) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO chain_descriptors (descriptor, next_index) VALUES ($1, $2)
		ON CONFLICT (descriptor) DO UPDATE SET next_index = excluded.next_index
		WHERE chain_descriptors.next_index < excluded.next_index`, desc, next)
	if err != nil {
		return fmt.Errorf("save descriptor state: %w", err)
	}
	return nil
}
