package reserve

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// RecorderConfig tunes a Recorder.
type RecorderConfig struct {
	// Every is how often the live snapshot is compared with the last stored
	// one (default 1s).
	Every time.Duration
	// Heartbeat stores a snapshot even when nothing changed (default 10m),
	// so the history shows the monitor was alive.
	Heartbeat time.Duration
	Log       *slog.Logger
}

// StoredSnapshot is a reserve snapshot as the recorder stores it.
type StoredSnapshot struct {
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

// SnapshotStore keeps the recorder's snapshots. store/reservedb implements
// it on the database.
type SnapshotStore interface {
	// InsertReserveSnapshot stores a snapshot and returns its id.
	InsertReserveSnapshot(ctx context.Context, s StoredSnapshot) (int64, error)
}

// Recorder stores the monitor's snapshot whenever it changes — a new block,
// a new amount, a source going stale or recovering — and on a heartbeat.
type Recorder struct {
	db   SnapshotStore
	mon  *Monitor
	cfg  RecorderConfig
	last string
	at   time.Time
}

// NewRecorder returns a recorder of mon's snapshots into db.
func NewRecorder(db SnapshotStore, mon *Monitor, cfg RecorderConfig) *Recorder {
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 10 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Recorder{db: db, mon: mon, cfg: cfg}
}

// storedSource is a source as the recorder stores it (JSON).
type storedSource struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"`
	Counted  int64         `json:"counted"`
	Classes  []storedClass `json:"classes"`
	Height   int64         `json:"height,omitempty"`
	Hash     string        `json:"hash,omitempty"`
	PubKey   string        `json:"pubkey,omitempty"`
	Stale    bool          `json:"stale"`
	LastSeen int64         `json:"last_seen_ms,omitempty"`
}

type storedClass struct {
	Name    string `json:"name"`
	Amount  int64  `json:"amount"`
	Counted bool   `json:"counted"`
}

// Run records until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Every)
	defer t.Stop()
	for {
		if _, err := r.RecordOnce(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Log.Warn("store reserve snapshot", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RecordOnce stores the live snapshot if it differs from the last one
// stored (ignoring report times) or the heartbeat is due.
func (r *Recorder) RecordOnce(ctx context.Context) (bool, error) {
	snap := r.mon.Snapshot()
	if len(snap.Sources) == 0 {
		return false, nil
	}
	row := StoredSnapshot{TakenAt: snap.Time.UnixMilli(), Counted: snap.Counted,
		Usable: snap.Usable(), Stale: snap.Stale(), Problem: snap.Problem}
	srcs := make([]storedSource, 0, len(snap.Sources))
	for _, s := range snap.Sources {
		ss := storedSource{Name: s.Name, Kind: s.Kind, Counted: s.Counted, Height: s.Height, Hash: s.Hash,
			PubKey: s.PubKey, Stale: s.Stale}
		for _, c := range s.Classes {
			ss.Classes = append(ss.Classes, storedClass(c))
		}
		if s.Kind == KindChain {
			row.Height, row.BlockHash = s.Height, s.Hash
		}
		srcs = append(srcs, ss)
	}
	key, err := json.Marshal(struct {
		Sources []storedSource
		Problem string
	}{srcs, snap.Problem})
	if err != nil {
		return false, fmt.Errorf("encode reserve snapshot: %w", err)
	}
	if string(key) == r.last && snap.Time.Sub(r.at) < r.cfg.Heartbeat {
		return false, nil
	}
	for i, s := range snap.Sources {
		if !s.LastSeen.IsZero() {
			srcs[i].LastSeen = s.LastSeen.UnixMilli()
		}
	}
	detail, err := json.Marshal(srcs)
	if err != nil {
		return false, fmt.Errorf("encode reserve snapshot: %w", err)
	}
	row.Sources = string(detail)
	if _, err := r.db.InsertReserveSnapshot(ctx, row); err != nil {
		return false, err
	}
	r.last, r.at = string(key), snap.Time
	return true, nil
}
