// Package attestdb stores published attestations and the balances each
// froze: it implements attestor.Store on a store.DB.
package attestdb

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/store"
)

// Store is attestor.Store on a database.
type Store struct {
	db *store.DB
}

var _ attestor.Store = (*Store)(nil)

// New returns the attestation store of db.
func New(db *store.DB) *Store { return &Store{db: db} }

const attestationCols = `seq, id, prev_id, height, block_hash, created_at, stale, cutoff_seq, seed, document`

func scanAttestation(row interface{ Scan(...any) error }) (attestor.Published, error) {
	var a attestor.Published
	var stale int
	err := row.Scan(&a.Seq, &a.ID, &a.PrevID, &a.Height, &a.BlockHash, &a.CreatedAt, &stale, &a.CutoffSeq, &a.Seed, &a.Document)
	a.Stale = stale == 1
	return a, err
}

// notStored turns "no row" into an error that is both attestor.ErrNotStored
// and store.ErrNotFound.
func notStored(err error) error {
	err = store.NotFound(err)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w (%w)", attestor.ErrNotStored, err)
	}
	return err
}

// Corrupt returns the error that showed the database damaged, or nil.
func (s *Store) Corrupt() error { return s.db.Corrupt() }

// InsertAttestation stores an attestation and the balances it froze, in one
// transaction. The sequence must follow the latest stored one (the primary
// key refuses a second attestation with the same sequence, so two writers
// cannot both publish a successor).
func (s *Store) InsertAttestation(ctx context.Context, a attestor.Published, balances []attestor.AttestedBalance,
	prices []attestor.AttestedPrice) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO attestations (`+attestationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			a.Seq, a.ID, a.PrevID, a.Height, a.BlockHash, a.CreatedAt, store.BoolInt(a.Stale), a.CutoffSeq, a.Seed, a.Document); err != nil {
			return fmt.Errorf("store attestation %d: %w", a.Seq, err)
		}
		for _, b := range balances {
			if _, err := tx.Exec(ctx, `INSERT INTO attestation_balances (attestation_seq, asset, account_id, balance, last_seq)
			VALUES ($1, $2, $3, $4, $5)`, a.Seq, b.Asset, b.AccountID, b.Balance, b.LastSeq); err != nil {
				return fmt.Errorf("store attested balance of %s in %s: %w", b.AccountID, b.Asset, err)
			}
		}
		return insertPrices(ctx, tx, a.Seq, prices)
	})
}

func insertPrices(ctx context.Context, tx *store.Tx, seq int64, prices []attestor.AttestedPrice) error {
	for _, p := range prices {
		if p.Coefficient == nil {
			return fmt.Errorf("store attested %s price of attestation %d: no coefficient", p.Currency, seq)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO attestation_prices (attestation_seq, currency, coefficient, scale)
		VALUES ($1, $2, $3, $4)`, seq, p.Currency, p.Coefficient.String(), p.Scale); err != nil {
			return fmt.Errorf("store attested %s price of attestation %d: %w", p.Currency, seq, err)
		}
	}
	return nil
}

// InsertAttestedPrices stores the prices of an attestation stored before
// prices were, in one transaction.
func (s *Store) InsertAttestedPrices(ctx context.Context, seq int64, prices []attestor.AttestedPrice) error {
	return s.db.Write(ctx, func(tx *store.Tx) error { return insertPrices(ctx, tx, seq, prices) })
}

// AttestedPrices returns the prices attestation seq states, in currency
// order.
func (s *Store) AttestedPrices(ctx context.Context, seq int64) ([]attestor.AttestedPrice, error) {
	var out []attestor.AttestedPrice
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT currency, coefficient, scale FROM attestation_prices
		WHERE attestation_seq = $1 ORDER BY currency`, seq)
		if err != nil {
			return fmt.Errorf("attested prices of attestation %d: %w", seq, err)
		}
		defer rows.Close()
		for rows.Next() {
			var p attestor.AttestedPrice
			var coef string
			if err := rows.Scan(&p.Currency, &coef, &p.Scale); err != nil {
				return fmt.Errorf("attested prices: %w", err)
			}
			c, ok := new(big.Int).SetString(coef, 10)
			if !ok {
				return fmt.Errorf("attested %s price of attestation %d: coefficient %q is not a number", p.Currency, seq, coef)
			}
			p.Coefficient = c
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// LatestAttestation returns the newest attestation, or attestor.ErrNotStored.
func (s *Store) LatestAttestation(ctx context.Context) (attestor.Published, error) {
	var a attestor.Published
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		a, err = scanAttestation(tx.QueryRow(ctx, `SELECT `+attestationCols+` FROM attestations ORDER BY seq DESC LIMIT 1`))
		if err != nil {
			return fmt.Errorf("latest attestation: %w", notStored(err))
		}
		return nil
	})
	return a, err
}

// AttestationByID returns the attestation with the given id, or
// attestor.ErrNotStored.
func (s *Store) AttestationByID(ctx context.Context, id string) (attestor.Published, error) {
	var a attestor.Published
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		a, err = scanAttestation(tx.QueryRow(ctx, `SELECT `+attestationCols+` FROM attestations WHERE id = $1`, id))
		if err != nil {
			return fmt.Errorf("attestation %s: %w", id, notStored(err))
		}
		return nil
	})
	return a, err
}

// Attestations lists up to limit attestations with seq < before (before <= 0:
// from the newest), newest first, without their documents and seeds.
func (s *Store) Attestations(ctx context.Context, before int64, limit int) ([]attestor.Published, error) {
	if before <= 0 {
		before = 1 << 62
	}
	var out []attestor.Published
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, id, prev_id, height, block_hash, created_at, stale, cutoff_seq
		FROM attestations WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, limit)
		if err != nil {
			return fmt.Errorf("list attestations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a attestor.Published
			var stale int
			if err := rows.Scan(&a.Seq, &a.ID, &a.PrevID, &a.Height, &a.BlockHash, &a.CreatedAt, &stale, &a.CutoffSeq); err != nil {
				return fmt.Errorf("list attestations: %w", err)
			}
			a.Stale = stale == 1
			out = append(out, a)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list attestations: %w", err)
		}
		return nil
	})
	return out, err
}

// AttestedBalances returns every balance of an asset frozen by attestation
// seq, in account id order.
func (s *Store) AttestedBalances(ctx context.Context, seq int64, asset string) ([]attestor.AttestedBalance, error) {
	var out []attestor.AttestedBalance
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT account_id, balance, last_seq FROM attestation_balances
		WHERE attestation_seq = $1 AND asset = $2 ORDER BY account_id`, seq, asset)
		if err != nil {
			return fmt.Errorf("attested balances of %s in attestation %d: %w", asset, seq, err)
		}
		defer rows.Close()
		for rows.Next() {
			b := attestor.AttestedBalance{Asset: asset}
			if err := rows.Scan(&b.AccountID, &b.Balance, &b.LastSeq); err != nil {
				return fmt.Errorf("attested balances: %w", err)
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}
