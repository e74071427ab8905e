package store

import (
	"context"
	"fmt"
)

// ManualPriceRow is one recorded set or clear of a manual price.
type ManualPriceRow struct {
	Seq      int64
	Currency string
	// Cleared is true for a row that removed the override.
	Cleared bool
	// Coefficient (decimal digits) and Scale are the price
	// Coefficient / 10^Scale; empty and 0 for a clear.
	Coefficient string
	Scale       int
	SetBy       string
	Reason      string
	SetAt       int64 // unix microseconds
	Until       int64 // unix microseconds; 0: until cleared
}

const manualPriceCols = `seq, currency, cleared, coefficient, scale, set_by, reason, set_at, valid_until`

func scanManualPrice(row interface{ Scan(...any) error }) (ManualPriceRow, error) {
	var r ManualPriceRow
	var cleared int
	err := row.Scan(&r.Seq, &r.Currency, &cleared, &r.Coefficient, &r.Scale, &r.SetBy, &r.Reason, &r.SetAt, &r.Until)
	r.Cleared = cleared == 1
	return r, err
}

// InsertManualPrice records a set or clear of a manual price and returns the
// row with its sequence number.
func (t *Tx) InsertManualPrice(ctx context.Context, r ManualPriceRow) (ManualPriceRow, error) {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO manual_prices (currency, cleared, coefficient, scale, set_by,
		reason, set_at, valid_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq`,
		r.Currency, boolInt(r.Cleared), r.Coefficient, r.Scale, r.SetBy, r.Reason, r.SetAt, r.Until).Scan(&r.Seq)
	if err != nil {
		return r, fmt.Errorf("record manual %s price: %w", r.Currency, err)
	}
	return r, nil
}

// LatestManualPrices returns the newest row of every currency that has one,
// in currency order: the override in force (or its clear).
func (t *Tx) LatestManualPrices(ctx context.Context) ([]ManualPriceRow, error) {
	return t.manualPrices(ctx, `SELECT `+manualPriceCols+` FROM manual_prices m
		WHERE seq = (SELECT MAX(seq) FROM manual_prices WHERE currency = m.currency) ORDER BY currency`)
}

// ManualPriceHistory returns up to limit rows of a currency, newest first.
func (t *Tx) ManualPriceHistory(ctx context.Context, currency string, limit int) ([]ManualPriceRow, error) {
	return t.manualPrices(ctx, `SELECT `+manualPriceCols+` FROM manual_prices
		WHERE currency = $1 ORDER BY seq DESC LIMIT $2`, currency, limit)
}

func (t *Tx) manualPrices(ctx context.Context, query string, args ...any) ([]ManualPriceRow, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read manual prices: %w", err)
	}
	defer rows.Close()
	var out []ManualPriceRow
	for rows.Next() {
		r, err := scanManualPrice(rows)
		if err != nil {
			return nil, fmt.Errorf("read manual prices: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read manual prices: %w", err)
	}
	return out, nil
}
