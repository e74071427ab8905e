package reserve

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
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

// LiveDetails is what the leader's sources list beyond their figures: the
// chain watcher's unspent outputs and each lnd node's last report, as
// GetReserves and the public page show them. The leader publishes them for
// the followers when they change (see PublishLive).
type LiveDetails struct {
	Chain     chain.Snapshot     `json:"chain"`
	Lightning []lightning.Report `json:"lightning"`
}

// LiveStore keeps the one live picture. store/reservedb implements it.
type LiveStore interface {
	// PublishLive replaces the live picture. The leader calls it with a
	// context fenced by its token (package leader).
	PublishLive(ctx context.Context, token int64, sources []LiveSource) error
	// ReadLive reads it, aged by the database's clock.
	ReadLive(ctx context.Context) (Live, error)
	// PublishDetails replaces the encoded LiveDetails and counts the write;
	// the leader calls it with a fenced context, only when they changed.
	PublishDetails(ctx context.Context, details []byte) error
	// ReadDetails returns the count of the writes and, when it differs
	// from since, the encoded details (nil otherwise).
	ReadDetails(ctx context.Context, since int64) (int64, []byte, error)
}

// LiveDetails returns the service's details as the leader publishes them.
func (s *Service) LiveDetails() LiveDetails {
	c, reps := s.Details()
	return LiveDetails{Chain: c, Lightning: reps}
}

// AdoptDetails makes d the service's details: a follower's, mirrored from
// the leader, which alone polls the sources.
func (s *Service) AdoptDetails(d LiveDetails) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chainSnap = d.Chain
	s.lnReports = make(map[string]lightning.Report, len(d.Lightning))
	for _, r := range d.Lightning {
		s.lnReports[r.Name] = r
	}
}

// detailsKey is what decides whether the details changed: their encoding
// with the poll times left out (they move at every poll while the outputs
// and channels mostly do not), hashed.
func detailsKey(d LiveDetails) ([32]byte, error) {
	d.Chain.Time = time.Time{}
	d.Lightning = append([]lightning.Report(nil), d.Lightning...)
	for i := range d.Lightning {
		d.Lightning[i].Time = time.Time{}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return [32]byte{}, fmt.Errorf("encode the reserve details: %w", err)
	}
	return sha256.Sum256(b), nil
}

// publishDetails writes the details when they changed since last, and
// returns the key of what the database now holds.
func publishDetails(ctx context.Context, db LiveStore, d LiveDetails, last [32]byte) ([32]byte, error) {
	key, err := detailsKey(d)
	if err != nil || key == last {
		return last, err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return last, fmt.Errorf("encode the reserve details: %w", err)
	}
	if err := db.PublishDetails(ctx, b); err != nil {
		return last, err
	}
	return key, nil
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
// until ctx ends, and with it the details svc lists (nil: none) whenever
// they changed: the leader's part. ctx should be fenced by token, so that
// a leader that lost the lease stops writing.
func PublishLive(ctx context.Context, db LiveStore, mon *Monitor, svc *Service, token int64, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var warn, warnDetails repeatLog
	var published [32]byte // the key of the details last written; none yet
	for {
		if err := db.PublishLive(ctx, token, mon.LiveSources()); err != nil && ctx.Err() == nil {
			warn.log(log, "publish the live reserve picture for the followers", err)
		} else {
			warn.reset()
		}
		if svc != nil {
			var err error
			if published, err = publishDetails(ctx, db, svc.LiveDetails(), published); err != nil && ctx.Err() == nil {
				warnDetails.log(log, "publish the reserve details for the followers", err)
			} else {
				warnDetails.reset()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MirrorLive reads the leader's live picture from db into mon every
// interval until ctx ends, and the leader's details into svc (nil: none)
// whenever they changed, skipping the reads while leading() (this process
// polls the sources itself then): the followers' part.
func MirrorLive(ctx context.Context, db LiveStore, mon *Monitor, svc *Service, every time.Duration, leading func() bool, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var warn, warnDetails repeatLog
	warned := map[string]bool{}
	version := int64(-1) // of the details adopted; -1: none yet
	for {
		if !leading() && svc != nil {
			var err error
			if version, err = mirrorDetails(ctx, db, svc, version); err != nil && ctx.Err() == nil {
				warnDetails.log(log, "read the leader's reserve details", err)
			} else {
				warnDetails.reset()
			}
		} else {
			// A leader polls for itself; after it steps down, read the
			// details afresh.
			version = -1
		}
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

// mirrorDetails adopts the leader's details into svc when their version
// differs from the one adopted, and returns the version now adopted.
func mirrorDetails(ctx context.Context, db LiveStore, svc *Service, adopted int64) (int64, error) {
	v, b, err := db.ReadDetails(ctx, adopted)
	if err != nil || v == adopted || b == nil {
		return adopted, err
	}
	var d LiveDetails
	if err := json.Unmarshal(b, &d); err != nil {
		return adopted, fmt.Errorf("decode the reserve details: %w", err)
	}
	svc.AdoptDetails(d)
	return v, nil
}
