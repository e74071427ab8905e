package store

import (
	"context"
	"fmt"
)

// AttestationRow is one published attestation.
type AttestationRow struct {
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
}

const attestationCols = `seq, id, prev_id, height, block_hash, created_at, stale, cutoff_seq, seed, document`

func scanAttestation(row interface{ Scan(...any) error }) (AttestationRow, error) {
	var a AttestationRow
	var stale int
	err := row.Scan(&a.Seq, &a.ID, &a.PrevID, &a.Height, &a.BlockHash, &a.CreatedAt, &stale, &a.CutoffSeq, &a.Seed, &a.Document)
	a.Stale = stale == 1
	return a, err
}

// InsertAttestation stores an attestation and the balances it froze. The
// sequence must follow the latest stored one (the primary key refuses a
// second attestation with the same sequence, so two writers cannot both
// publish a successor).
func (t *Tx) InsertAttestation(ctx context.Context, a AttestationRow, balances []AttestedBalance) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO attestations (`+attestationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.Seq, a.ID, a.PrevID, a.Height, a.BlockHash, a.CreatedAt, boolInt(a.Stale), a.CutoffSeq, a.Seed, a.Document); err != nil {
		return fmt.Errorf("store attestation %d: %w", a.Seq, err)
	}
	for _, b := range balances {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO attestation_balances (attestation_seq, asset, account_id, balance)
			VALUES ($1, $2, $3, $4)`, a.Seq, b.Asset, b.AccountID, b.Balance); err != nil {
			return fmt.Errorf("store attested balance of %s in %s: %w", b.AccountID, b.Asset, err)
		}
	}
	return nil
}

// LatestAttestation returns the newest attestation, or ErrNotFound.
func (t *Tx) LatestAttestation(ctx context.Context) (AttestationRow, error) {
	a, err := scanAttestation(t.tx.QueryRowContext(ctx, `SELECT `+attestationCols+` FROM attestations ORDER BY seq DESC LIMIT 1`))
	if err != nil {
		return a, fmt.Errorf("latest attestation: %w", notFound(err))
	}
	return a, nil
}

// AttestationByID returns the attestation with the given id, or ErrNotFound.
func (t *Tx) AttestationByID(ctx context.Context, id string) (AttestationRow, error) {
	a, err := scanAttestation(t.tx.QueryRowContext(ctx, `SELECT `+attestationCols+` FROM attestations WHERE id = $1`, id))
	if err != nil {
		return a, fmt.Errorf("attestation %s: %w", id, notFound(err))
	}
	return a, nil
}

// Attestations lists up to limit attestations with seq < before (before <= 0:
// from the newest), newest first, without their documents and seeds.
func (t *Tx) Attestations(ctx context.Context, before int64, limit int) ([]AttestationRow, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT seq, id, prev_id, height, block_hash, created_at, stale, cutoff_seq
		FROM attestations WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list attestations: %w", err)
	}
	defer rows.Close()
	var out []AttestationRow
	for rows.Next() {
		var a AttestationRow
		var stale int
		if err := rows.Scan(&a.Seq, &a.ID, &a.PrevID, &a.Height, &a.BlockHash, &a.CreatedAt, &stale, &a.CutoffSeq); err != nil {
			return nil, fmt.Errorf("list attestations: %w", err)
		}
		a.Stale = stale == 1
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list attestations: %w", err)
	}
	return out, nil
}

// AttestedBalances returns every balance of an asset frozen by attestation
// seq, in account id order.
func (t *Tx) AttestedBalances(ctx context.Context, seq int64, asset string) ([]AttestedBalance, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT account_id, balance FROM attestation_balances
		WHERE attestation_seq = $1 AND asset = $2 ORDER BY account_id`, seq, asset)
	if err != nil {
		return nil, fmt.Errorf("attested balances of %s in attestation %d: %w", asset, seq, err)
	}
	defer rows.Close()
	var out []AttestedBalance
	for rows.Next() {
		b := AttestedBalance{Asset: asset}
		if err := rows.Scan(&b.AccountID, &b.Balance); err != nil {
			return nil, fmt.Errorf("attested balances: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
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
