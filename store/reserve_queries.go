package store

import (
	"context"
	"fmt"
)

// ReserveSnapshotRow is one stored reserve snapshot.
type ReserveSnapshotRow struct {
	ID        int64
	TakenAt   int64 // unix milliseconds
	Height    int64
	BlockHash string
	Counted   int64
	Usable    bool
	Stale     bool
	Problem   string
	// Sources is the JSON detail: per-source counted amounts, classes and
	// staleness.
	Sources string
}

// InsertReserveSnapshot stores a snapshot and returns its id.
func (t *Tx) InsertReserveSnapshot(ctx context.Context, r ReserveSnapshotRow) (int64, error) {
	var id int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO reserve_snapshots
		(taken_at, height, block_hash, counted, usable, stale, problem, sources)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		r.TakenAt, r.Height, r.BlockHash, r.Counted, boolInt(r.Usable), boolInt(r.Stale), r.Problem, r.Sources).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store reserve snapshot: %w", err)
	}
	return id, nil
}

// ReserveSnapshots returns up to limit snapshots taken at or after since
// (unix ms), oldest first.
func (t *Tx) ReserveSnapshots(ctx context.Context, since int64, limit int) ([]ReserveSnapshotRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, taken_at, height, block_hash, counted, usable, stale, problem, sources
		FROM reserve_snapshots WHERE taken_at >= $1 ORDER BY taken_at, id LIMIT $2`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("list reserve snapshots: %w", err)
	}
	defer rows.Close()
	var out []ReserveSnapshotRow
	for rows.Next() {
		var r ReserveSnapshotRow
		var usable, stale int
		if err := rows.Scan(&r.ID, &r.TakenAt, &r.Height, &r.BlockHash, &r.Counted, &usable, &stale, &r.Problem, &r.Sources); err != nil {
			return nil, fmt.Errorf("scan reserve snapshot: %w", err)
		}
		r.Usable, r.Stale = usable == 1, stale == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list reserve snapshots: %w", err)
	}
	return out, nil
}

// LatestReserveSnapshot returns the newest stored snapshot, or ErrNotFound.
func (t *Tx) LatestReserveSnapshot(ctx context.Context) (ReserveSnapshotRow, error) {
	var r ReserveSnapshotRow
	var usable, stale int
	err := t.tx.QueryRowContext(ctx, `SELECT id, taken_at, height, block_hash, counted, usable, stale, problem, sources
		FROM reserve_snapshots ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &r.TakenAt, &r.Height, &r.BlockHash, &r.Counted,
		&usable, &stale, &r.Problem, &r.Sources)
	if err != nil {
		return r, fmt.Errorf("latest reserve snapshot: %w", notFound(err))
	}
	r.Usable, r.Stale = usable == 1, stale == 1
	return r, nil
}
