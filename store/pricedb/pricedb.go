// Package pricedb keeps the record of manual prices: it implements
// pricebook.ManualLog on a store.DB.
package pricedb

import (
	"context"
	"fmt"

	"github.com/kosh-reserve/kosh/oracle/pricebook"
	"github.com/kosh-reserve/kosh/store"
)

// Store is pricebook.ManualLog on a database.
type Store struct {
	db *store.DB
}

var _ pricebook.ManualLog = (*Store)(nil)

// New returns the manual price record of db.
func New(db *store.DB) *Store { return &Store{db: db} }

const manualPriceCols = `seq, currency, cleared, coefficient, scale, set_by, reason, set_at, valid_until`

// RecordManualPrice implements pricebook.ManualLog: it appends a set or clear
// of a manual price.
func (s *Store) RecordManualPrice(ctx context.Context, r pricebook.ManualRecord) error {
	_, err := s.Record(ctx, r)
	return err
}

// Record appends a set or clear of a manual price, in one transaction,
// and returns the record with its sequence number.
func (s *Store) Record(ctx context.Context, r pricebook.ManualRecord) (pricebook.ManualRecord, error) {
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO manual_prices (currency, cleared, coefficient, scale, set_by,
		reason, set_at, valid_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq`,
			r.Currency, store.BoolInt(r.Cleared), r.Coefficient, r.Scale, r.SetBy, r.Reason, r.SetAt, r.Until).Scan(&r.Seq)
		if err != nil {
			return fmt.Errorf("record manual %s price: %w", r.Currency, err)
		}
		return nil
	})
	return r, err
}

// LatestManualPrices returns the newest record of every currency that has
// one, in currency order: the override in force (or its clear).
func (s *Store) LatestManualPrices(ctx context.Context) ([]pricebook.ManualRecord, error) {
	return s.read(ctx, `SELECT `+manualPriceCols+` FROM manual_prices m
		WHERE seq = (SELECT MAX(seq) FROM manual_prices WHERE currency = m.currency) ORDER BY currency`)
}

// History returns up to limit records of a currency, newest first.
func (s *Store) History(ctx context.Context, currency string, limit int) ([]pricebook.ManualRecord, error) {
	return s.read(ctx, `SELECT `+manualPriceCols+` FROM manual_prices
		WHERE currency = $1 ORDER BY seq DESC LIMIT $2`, currency, limit)
}

func (s *Store) read(ctx context.Context, query string, args ...any) ([]pricebook.ManualRecord, error) {
	var out []pricebook.ManualRecord
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("read manual prices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r pricebook.ManualRecord
			var cleared int
			if err := rows.Scan(&r.Seq, &r.Currency, &cleared, &r.Coefficient, &r.Scale, &r.SetBy, &r.Reason,
				&r.SetAt, &r.Until); err != nil {
				return fmt.Errorf("read manual prices: %w", err)
			}
			r.Cleared = cleared == 1
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read manual prices: %w", err)
		}
		return nil
	})
	return out, err
}
