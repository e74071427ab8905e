package attestor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/attestdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// movingReserves is fakeReserves whose backend says which outputs its
// mempool spends.
type movingReserves struct {
	fakeReserves
	spent map[wire.OutPoint]bool
}

func (m *movingReserves) SpentInMempool(_ context.Context, utxos map[wire.OutPoint]int64) (reserve.Moved, error) {
	var out reserve.Moved
	for op, v := range utxos {
		if m.spent[op] {
			out.Outputs++
			out.Sats += v
		}
	}
	return out, nil
}

// fixedAnchors is attestor.Anchors with a settable answer.
type fixedAnchors struct {
	ref attest.AnchorRef
	ok  bool
}

func (f *fixedAnchors) LatestConfirmedAnchor(context.Context) (attest.AnchorRef, bool, error) {
	return f.ref, f.ok, nil
}

// TestFreshAndAnchored: a second attestation of the same block is refused
// while a mempool transaction spends a listed output (and made once the
// block moves on); each attestation lists the newest confirmed anchor, and
// keeps the previous one when a reorganisation has taken every confirmed
// anchor back.
func TestFreshAndAnchored(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	l := ledger.New(storetest.Ledger(t, db), allowAll{}, ledger.Config{})
	l.Start()
	defer l.Stop()
	issuer, _ := btcec.NewPrivateKey()
	op := outpoint(t, 1, 0)
	res := &movingReserves{spent: map[wire.OutPoint]bool{}, fakeReserves: fakeReserves{
		snap: reserve.Snapshot{Sources: []reserve.SourceStatus{{Name: "chain"}}},
		chain: chain.Snapshot{Height: 200, Hash: strings.Repeat("ab", 32), MinConf: 1, UTXOs: []chain.UTXO{
			{OutPoint: op, Value: 500_000, Height: 150, Descriptor: "wpkh(x)", PkScript: []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}},
		}}}}
	anchors := &fixedAnchors{}
	svc := attestor.New(attestor.Config{DB: attestdb.New(db), Ledger: l, Reserves: res, Composer: attestor.DocComposer{},
		Key: issuer, Anchors: anchors})

	p1, err := svc.Attest(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if doc := parse(t, p1.Document); doc.Anchor != nil {
		t.Fatalf("attestation 1 lists an anchor %+v with none confirmed", doc.Anchor)
	}
	// Same block, nothing moved: a second attestation of it is fine.
	anchors.ref, anchors.ok = attest.AnchorRef{Seq: 1, ID: p1.ID, Txid: strings.Repeat("11", 32), Height: 199,
		BlockHash: strings.Repeat("22", 32)}, true
	p2, err := svc.Attest(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if doc := parse(t, p2.Document); doc.Anchor == nil || doc.Anchor.ID != p1.ID {
		t.Fatalf("attestation 2 lists anchor %+v, want the anchor of attestation 1", doc.Anchor)
	}
	// A mempool spend of the listed output: no third attestation of block 200.
	res.spent[op] = true
	if _, err := svc.Attest(ctx, "test"); !errors.Is(err, attestor.ErrReservesMoved) ||
		!strings.Contains(err.Error(), "1 of its outputs (500000 sats)") {
		t.Fatalf("attestation of a block whose reserves moved: %v", err)
	}
	// The next block: attested, and with every confirmed anchor taken
	// back by a reorganisation the previous attestation's anchor is kept.
	res.chain.Height, res.chain.Hash = 201, strings.Repeat("cd", 32)
	anchors.ok = false
	p3, err := svc.Attest(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if doc := parse(t, p3.Document); doc.Seq != 3 || doc.Anchor == nil || doc.Anchor.ID != p1.ID {
		t.Fatalf("attestation %d lists anchor %+v, want the one attestation 2 listed", doc.Seq, doc.Anchor)
	}
}

func parse(t *testing.T, doc string) *attest.Attestation {
	t.Helper()
	a, err := attest.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkedReserves is fakeReserves whose backend says which outputs are
// spent at its tip.
type checkedReserves struct {
	fakeReserves
	gone map[wire.OutPoint]bool
}

func (c *checkedReserves) UnspentNow(_ context.Context, ops []wire.OutPoint) (map[wire.OutPoint]bool, error) {
	out := map[wire.OutPoint]bool{}
	for _, op := range ops {
		out[op] = !c.gone[op]
	}
	return out, nil
}

// TestSpentSinceLastPoll: a Lightning node's wallet output spent (and a
// channel closed) since the node's last poll is not listed: the report is
// older than the attested block, the chain's tip is not.
func TestSpentSinceLastPoll(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	l := ledger.New(storetest.Ledger(t, db), allowAll{}, ledger.Config{})
	l.Start()
	defer l.Stop()
	issuer, _ := btcec.NewPrivateKey()
	alice, _ := btcec.NewPrivateKey()
	spent, kept := outpoint(t, 7, 1), outpoint(t, 8, 0)
	closed := outpoint(t, 9, 0)
	res := &checkedReserves{gone: map[wire.OutPoint]bool{spent: true, closed: true}, fakeReserves: fakeReserves{
		snap:  reserve.Snapshot{Sources: []reserve.SourceStatus{{Name: "chain"}, {Name: "alice"}}},
		chain: chain.Snapshot{Height: 300, Hash: strings.Repeat("ef", 32), MinConf: 1},
		ln: []lightning.Report{{Name: "alice", PubKey: pubHex(alice), BlockHeight: 299, BlockHash: strings.Repeat("ee", 32),
			Wallet: []lightning.WalletOutput{
				{Outpoint: spent.String(), Value: 40_000, FundingHeight: 250, PkScript: []byte{0x51}, Class: "confirmed"},
				{Outpoint: kept.String(), Value: 60_000, FundingHeight: 250, PkScript: []byte{0x51}, Class: "confirmed"},
			},
			Channels: []lightning.Channel{{ChannelPoint: closed.String(), Capacity: 500_000, LocalBalance: 100_000,
				Verified: true, FundingHeight: 200}}}},
	}}
	svc := attestor.New(attestor.Config{DB: attestdb.New(db), Ledger: l, Reserves: res, Composer: attestor.DocComposer{},
		Key: issuer, Nodes: []attestor.NodeSigner{keySigner{name: "alice", key: alice}}})
	p, err := svc.Attest(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	doc := parse(t, p.Document)
	var listed []string
	for _, u := range doc.Reserves.Onchain {
		listed = append(listed, u.Outpoint)
	}
	if len(listed) != 1 || listed[0] != kept.String() {
		t.Fatalf("listed wallet outputs %v, want only %s", listed, kept)
	}
	if n := len(doc.Reserves.Lightning); n != 1 || len(doc.Reserves.Lightning[0].Channels) != 0 {
		t.Fatalf("alice's channels listed: %+v, want none (closed since her last poll)", doc.Reserves.Lightning)
	}
}
