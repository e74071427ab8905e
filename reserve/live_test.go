package reserve

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
)

// memLive is an in-memory LiveStore that counts the detail writes.
type memLive struct {
	details []byte
	version int64
}

func (m *memLive) PublishLive(context.Context, int64, []LiveSource) error { return nil }
func (m *memLive) ReadLive(context.Context) (Live, error)                 { return Live{}, nil }

func (m *memLive) PublishDetails(_ context.Context, d []byte) error {
	m.details, m.version = append([]byte(nil), d...), m.version+1
	return nil
}

func (m *memLive) ReadDetails(_ context.Context, since int64) (int64, []byte, error) {
	if m.version == since {
		return m.version, nil, nil
	}
	return m.version, m.details, nil
}

func sampleDetails(t time.Time, value int64) LiveDetails {
	return LiveDetails{
		Chain: chain.Snapshot{Height: 120, Hash: "00aa", Confirmed: value, MinConf: 3, Time: t,
			UTXOs: []chain.UTXO{{OutPoint: wire.OutPoint{Hash: chainhash.Hash{1, 2, 3}, Index: 1}, Value: value,
				PkScript: []byte{0x51}, Descriptor: "tr(...)", Index: 4, Height: 100, BlockHash: "00bb"}}},
		Lightning: []lightning.Report{{Name: "alice", PubKey: "02ab", BlockHeight: 120, Synced: true, Time: t,
			Channels:        []lightning.Channel{{ChannelPoint: "cc:0", Capacity: 1_000_000, Active: true, LocalBalance: 400_000}},
			ChannelsCounted: 400_000}},
	}
}

// TestDetailsMirror checks that a follower's service lists the leader's
// outputs and channels (a follower polls nothing itself), that the
// leader rewrites them only when they change, not when only the poll times
// move, and that the follower reads them again only after a rewrite.
func TestDetailsMirror(t *testing.T) {
	ctx := context.Background()
	db := &memLive{}
	leader := NewService(NewMonitor(), nil, nil, nil, ServiceConfig{})
	follower := NewService(NewMonitor(), nil, nil, nil, ServiceConfig{})
	t0 := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	leader.AdoptDetails(sampleDetails(t0, 50_000))

	key, err := publishDetails(ctx, db, leader.LiveDetails(), [32]byte{})
	if err != nil || db.version != 1 {
		t.Fatalf("first publish: version %d, %v", db.version, err)
	}
	v, err := mirrorDetails(ctx, db, follower, -1)
	if err != nil || v != 1 {
		t.Fatalf("mirror: version %d, %v", v, err)
	}
	if got, want := follower.LiveDetails(), leader.LiveDetails(); !reflect.DeepEqual(got, want) {
		t.Fatalf("follower lists\n%+v\nwant the leader's\n%+v", got, want)
	}

	// A later poll with the same outputs and channels: no rewrite.
	leader.AdoptDetails(sampleDetails(t0.Add(time.Minute), 50_000))
	if key, err = publishDetails(ctx, db, leader.LiveDetails(), key); err != nil || db.version != 1 {
		t.Fatalf("unchanged details were rewritten: version %d, %v", db.version, err)
	}
	if v, err = mirrorDetails(ctx, db, follower, v); err != nil || v != 1 {
		t.Fatalf("mirror of unchanged details: version %d, %v", v, err)
	}

	// An output's value moves: rewritten, and the follower follows.
	leader.AdoptDetails(sampleDetails(t0.Add(2*time.Minute), 60_000))
	if _, err = publishDetails(ctx, db, leader.LiveDetails(), key); err != nil || db.version != 2 {
		t.Fatalf("changed details: version %d, %v", db.version, err)
	}
	if v, err = mirrorDetails(ctx, db, follower, v); err != nil || v != 2 {
		t.Fatalf("mirror of changed details: version %d, %v", v, err)
	}
	c, reps := follower.Details()
	if c.Confirmed != 60_000 || c.UTXOs[0].Value != 60_000 || len(reps) != 1 || reps[0].Channels[0].Capacity != 1_000_000 {
		t.Fatalf("follower after the change: %+v %+v", c, reps)
	}
}
