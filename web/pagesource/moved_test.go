package pagesource

import (
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/web"
)

type fixedReserves struct {
	cs      chain.Snapshot
	reports []lightning.Report
}

func (f *fixedReserves) Snapshot() reserve.Snapshot                    { return reserve.Snapshot{} }
func (f *fixedReserves) Prices() reserve.Prices                        { return nil }
func (f *fixedReserves) Details() (chain.Snapshot, []lightning.Report) { return f.cs, f.reports }

// TestMoved: the page says which of the latest attestation's outputs
// koshd's sources see spent since: a chain output gone from the watcher's
// set and a wallet output gone from its node's last report count; outputs
// still held, and those of a node never heard from, do not.
func TestMoved(t *testing.T) {
	op := func(b byte) wire.OutPoint { return wire.OutPoint{Hash: chainhash.Hash{b}, Index: 1} }
	res := fixedReserves{
		cs: chain.Snapshot{Height: 900, Hash: "ab", UTXOs: []chain.UTXO{{OutPoint: op(1), Value: 10}}},
		reports: []lightning.Report{
			{Name: "alice", PubKey: "02aa", Wallet: []lightning.WalletOutput{{Outpoint: op(3).String(), Value: 30}}},
			{Name: "carol"}, // never heard from
		},
	}
	listed := []web.ListedOutput{
		{Outpoint: op(1).String(), Sats: 10, Source: "chain"},
		{Outpoint: op(2).String(), Sats: 20, Source: "chain"}, // spent
		{Outpoint: op(3).String(), Sats: 30, Source: "alice"},
		{Outpoint: op(4).String(), Sats: 40, Source: "alice"}, // spent
		{Outpoint: op(5).String(), Sats: 50, Source: "carol"},
	}
	p := New(Config{Reserves: &res})
	m := p.moved(listed)
	if m == nil || m.Outputs != 2 || m.Sats != 60 || m.Height != 900 {
		t.Fatalf("moved: %+v, want 2 outputs, 60 sats, at block 900", m)
	}
	if m := New(Config{Reserves: &fixedReserves{}}).moved(listed); m != nil {
		t.Fatalf("without a chain snapshot: %+v, want nil", m)
	}
}

// TestMovedCached: the page's "moved since" is computed again only when
// the latest attestation or a source's last report changes.
func TestMovedCached(t *testing.T) {
	op := wire.OutPoint{Hash: chainhash.Hash{1}, Index: 1}
	res := &fixedReserves{cs: chain.Snapshot{Height: 5, Hash: "ab", UTXOs: []chain.UTXO{{OutPoint: op, Value: 10}}}}
	p := New(Config{Reserves: res})
	listed := []web.ListedOutput{{Outpoint: op.String(), Sats: 10, Source: "chain"}}
	snap := reserve.Snapshot{Sources: []reserve.SourceStatus{{Name: "chain", LastSeen: time.Unix(100, 0)}}}
	if m := p.movedCached("a", snap, listed); m.Outputs != 0 {
		t.Fatalf("before the spend: %+v", m)
	}
	res.cs.UTXOs = nil // spent, but the chain source has not reported since
	if m := p.movedCached("a", snap, listed); m.Outputs != 0 {
		t.Fatalf("recomputed without a new report: %+v", m)
	}
	snap.Sources[0].LastSeen = time.Unix(101, 0)
	if m := p.movedCached("a", snap, listed); m.Outputs != 1 || m.Sats != 10 {
		t.Fatalf("after the chain source reported: %+v", m)
	}
}
