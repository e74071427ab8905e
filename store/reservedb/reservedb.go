// Package reservedb stores the reserve recorder's snapshots: it implements
// reserve.SnapshotStore on a store.DB.
package reservedb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/store"
)

// Store is reserve.SnapshotStore on a database.
type Store struct {
	db *store.DB
}

var _ reserve.SnapshotStore = (*Store)(nil)

// New returns the reserve snapshot store of db.
func New(db *store.DB) *Store { return &Store{db: db} }

// InsertReserveSnapshot stores a snapshot and returns its id.
func (s *Store) InsertReserveSnapshot(ctx context.Context, r reserve.StoredSnapshot) (int64, error) {
	var id int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO reserve_snapshots
		(taken_at, height, block_hash, counted, usable, stale, problem, sources)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			r.TakenAt, r.Height, r.BlockHash, r.Counted, store.BoolInt(r.Usable), store.BoolInt(r.Stale), r.Problem, r.Sources).Scan(&id)
		if err != nil {
			return fmt.Errorf("store reserve snapshot: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// ReserveSnapshots returns up to limit snapshots taken at or after since
// (unix ms), oldest first.
func (s *Store) ReserveSnapshots(ctx context.Context, since int64, limit int) ([]reserve.StoredSnapshot, error) {
	var out []reserve.StoredSnapshot
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, taken_at, height, block_hash, counted, usable, stale, problem, sources
		FROM reserve_snapshots WHERE taken_at >= $1 ORDER BY taken_at, id LIMIT $2`, since, limit)
		if err != nil {
			return fmt.Errorf("list reserve snapshots: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r reserve.StoredSnapshot
			var usable, stale int
			if err := rows.Scan(&r.ID, &r.TakenAt, &r.Height, &r.BlockHash, &r.Counted, &usable, &stale, &r.Problem, &r.Sources); err != nil {
				return fmt.Errorf("scan reserve snapshot: %w", err)
			}
			r.Usable, r.Stale = usable == 1, stale == 1
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list reserve snapshots: %w", err)
		}
		return nil
	})
	return out, err
}

// LatestReserveSnapshot returns the newest stored snapshot, or
// store.ErrNotFound.
func (s *Store) LatestReserveSnapshot(ctx context.Context) (reserve.StoredSnapshot, error) {
	var r reserve.StoredSnapshot
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var usable, stale int
		err := tx.QueryRow(ctx, `SELECT id, taken_at, height, block_hash, counted, usable, stale, problem, sources
		FROM reserve_snapshots ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &r.TakenAt, &r.Height, &r.BlockHash, &r.Counted,
			&usable, &stale, &r.Problem, &r.Sources)
		if err != nil {
			return fmt.Errorf("latest reserve snapshot: %w", store.NotFound(err))
		}
		r.Usable, r.Stale = usable == 1, stale == 1
		return nil
	})
	return r, err
}

var _ reserve.LiveStore = (*Store)(nil)

// PublishLive replaces the leader's live reserve picture (PostgreSQL only:
// it dates the row by the database's clock).
func (s *Store) PublishLive(ctx context.Context, token int64, sources []reserve.LiveSource) error {
	b, err := json.Marshal(sources)
	if err != nil {
		return fmt.Errorf("encode the live reserve picture: %w", err)
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE reserve_live SET token = $1, written_at = clock_timestamp(), sources = $2 WHERE id = 1`,
			token, string(b)); err != nil {
			return fmt.Errorf("store the live reserve picture: %w", err)
		}
		return nil
	})
}

// PublishDetails replaces the leader's reserve details, an encoded
// reserve.LiveDetails, and counts the write in details_version (PostgreSQL
// only).
func (s *Store) PublishDetails(ctx context.Context, details []byte) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE reserve_live SET details = $1, details_version = details_version + 1 WHERE id = 1`,
			string(details)); err != nil {
			return fmt.Errorf("store the reserve details: %w", err)
		}
		return nil
	})
}

// ReadDetails returns the version of the leader's reserve details and,
// when it differs from since, the details themselves (nil otherwise, and
// nil before the first write).
func (s *Store) ReadDetails(ctx context.Context, since int64) (int64, []byte, error) {
	var (
		version int64
		details string
	)
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT details_version, CASE WHEN details_version <> $1 THEN details ELSE '' END
			FROM reserve_live WHERE id = 1`, since).Scan(&version, &details)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read the reserve details: %w", err)
	}
	if details == "" {
		return version, nil, nil
	}
	return version, []byte(details), nil
}

// ReadLive reads the leader's live reserve picture, aged by the database's
// clock (PostgreSQL only).
func (s *Store) ReadLive(ctx context.Context) (reserve.Live, error) {
	var (
		l   reserve.Live
		src string
		ms  int64
	)
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT token, sources,
			CAST(EXTRACT(EPOCH FROM (clock_timestamp() - written_at)) * 1000 AS BIGINT)
			FROM reserve_live WHERE id = 1`).Scan(&l.Token, &src, &ms)
	})
	if err != nil {
		return reserve.Live{}, fmt.Errorf("read the live reserve picture: %w", err)
	}
	if err := json.Unmarshal([]byte(src), &l.Sources); err != nil {
		return reserve.Live{}, fmt.Errorf("decode the live reserve picture: %w", err)
	}
	l.Age = time.Duration(max(ms, 0)) * time.Millisecond
	return l, nil
}
