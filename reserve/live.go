package reserve

import (
	"context"
	"log/slog"
	"time"
)

// LiveSource is one source of the live reserve picture as the leader
// publishes it for the followers (see PublishLive).
type LiveSource struct {
	Name    string  `json:"name"`
	Kind    string  `json:"kind"`
	Counted int64   `json:"counted"`
	Classes []Class `json:"classes"`
	Height  int64   `json:"height,omitempty"`
	Hash    string  `json:"hash,omitempty"`
	PubKey  string  `json:"pubkey,omitempty"`
	// AgeMs is how long before the write the source last reported, in
	// milliseconds; -1 if it has not reported yet.
	AgeMs     int64  `json:"age_ms"`
	LastError string `json:"last_error,omitempty"`
}

// Live is the leader's live picture as a follower reads it.
type Live struct {
	// Token is the fencing token of the leader that wrote it (0: none yet).
	Token   int64
	Sources []LiveSource
	// Age is how long ago the picture was written, by the database's clock.
	Age time.Duration
}

// LiveStore keeps the one live picture. store/reservedb implements it.
type LiveStore interface {
	// PublishLive replaces the live picture. The leader calls it with a
	// context fenced by its token (package leader).
	PublishLive(ctx context.Context, token int64, sources []LiveSource) error
	// ReadLive reads it, aged by the database's clock.
	ReadLive(ctx context.Context) (Live, error)
}

// LiveSources returns the monitor's sources as PublishLive writes them.
func (m *Monitor) LiveSources() []LiveSource {
	snap := m.Snapshot()
	out := make([]LiveSource, 0, len(snap.Sources))
	for _, s := range snap.Sources {
		ls := LiveSource{Name: s.Name, Kind: s.Kind, Counted: s.Counted, Classes: s.Classes, Height: s.Height,
			Hash: s.Hash, PubKey: s.PubKey, AgeMs: -1, LastError: s.LastError}
		if !s.LastSeen.IsZero() {
			ls.AgeMs = max(snap.Time.Sub(s.LastSeen).Milliseconds(), 0)
		}
		out = append(out, ls)
	}
	return out
}

// Adopt takes a follower's figures from the leader's live picture: each
// registered source's report, dated back by its age at the write plus the
// picture's own age, so that the monitor goes stale when the leader's
// source does, or when the leader stops writing. A report older than the
// one the monitor holds is ignored, as are sources this koshd does not
// have (their names are returned).
func (m *Monitor) Adopt(l Live) (unknown []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, ls := range l.Sources {
		s, ok := m.sources[ls.Name]
		if !ok {
			unknown = append(unknown, ls.Name)
			continue
		}
		if ls.AgeMs < 0 {
			if s.LastSeen.IsZero() {
				s.LastError = ls.LastError
			}
			continue
		}
		seen := now.Add(-time.Duration(ls.AgeMs)*time.Millisecond - l.Age)
		if !seen.After(s.LastSeen) {
			continue
		}
		s.Counted, s.Classes, s.Height, s.Hash, s.PubKey = ls.Counted, append([]Class(nil), ls.Classes...), ls.Height, ls.Hash, ls.PubKey
		s.LastSeen, s.LastError = seen, ls.LastError
	}
	return unknown
}

// PublishLive writes the monitor's live picture into db every interval
// until ctx ends: the leader's part. ctx should be fenced by token, so
// that a leader that lost the lease stops writing.
func PublishLive(ctx context.Context, db LiveStore, mon *Monitor, token int64, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var warn repeatLog
	for {
		if err := db.PublishLive(ctx, token, mon.LiveSources()); err != nil && ctx.Err() == nil {
			warn.log(log, "publish the live reserve picture for the followers", err)
		} else {
			warn.reset()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MirrorLive reads the leader's live picture from db into mon every
// interval until ctx ends, skipping the reads while leading() (this
// process polls the sources itself then): the followers' part.
func MirrorLive(ctx context.Context, db LiveStore, mon *Monitor, every time.Duration, leading func() bool, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var warn repeatLog
	warned := map[string]bool{}
	for {
		if !leading() {
			l, err := db.ReadLive(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				warn.log(log, "read the leader's live reserve picture", err)
			case err == nil:
				warn.reset()
				for _, name := range mon.Adopt(l) {
					if !warned[name] {
						warned[name] = true
						log.Warn("the leader reports a reserve source this koshd is not configured with; ignored (configure every koshd alike)",
							"source", name)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
