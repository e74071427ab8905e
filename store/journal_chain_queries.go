package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// JournalHead returns the newest journal entry's sequence and chain hash
// (0 and nil for an empty journal; a nil hash with seq > 0 means the
// entry is not sealed yet).
func (t *Tx) JournalHead(ctx context.Context) (seq int64, hash []byte, err error) {
	err = t.tx.QueryRowContext(ctx, `SELECT seq, chain_hash FROM journal ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read the journal head: %w", err)
	}
	return seq, hash, nil
}

// FirstUnsealed returns the sequence of the oldest entry without a chain
// hash, or 0 if every entry has one.
func (t *Tx) FirstUnsealed(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := t.tx.QueryRowContext(ctx, `SELECT MIN(seq) FROM journal WHERE chain_hash IS NULL`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("find unsealed journal entries: %w", err)
	}
	return seq.Int64, nil
}

// SetChainHash seals one entry written before chain hashes.
func (t *Tx) SetChainHash(ctx context.Context, seq int64, hash []byte) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE journal SET chain_hash = $1 WHERE seq = $2 AND chain_hash IS NULL`, hash, seq)
	if err != nil {
		return fmt.Errorf("seal journal entry %d: %w", seq, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("seal journal entry %d: %d rows changed (%v)", seq, n, err)
	}
	return nil
}

// ScanJournal calls fn for every journal entry with afterSeq < seq <= upTo,
// in sequence order, chain hashes included, within the transaction's
// snapshot.
func (t *Tx) ScanJournal(ctx context.Context, afterSeq, upTo int64, fn func(EntryRow) error) error {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+entryCols+`, j.chain_hash FROM journal j JOIN assets a ON a.id = j.asset_id
		WHERE j.seq > $1 AND j.seq <= $2 ORDER BY j.seq`, afterSeq, upTo)
	if err != nil {
		return fmt.Errorf("scan the journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EntryRow
		if err := rows.Scan(&e.Seq, &e.Kind, &e.AssetID, &e.AssetCode, &e.DebitAccountID, &e.CreditAccountID,
			&e.Amount, &e.Memo, &e.IdemScope, &e.IdemKey, &e.RequestHash, &e.DebitBalanceAfter,
			&e.CreditBalanceAfter, &e.SupplyAfter, &e.CreatedAt, &e.ChainHash); err != nil {
			return fmt.Errorf("scan the journal: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LastJournalSeq returns the highest journal sequence (0 when empty) in the
// transaction's snapshot: the cut-off of an attestation made in it.
func (t *Tx) LastJournalSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := t.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM journal`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last journal sequence: %w", err)
	}
	return seq, nil
}
