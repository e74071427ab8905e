package anchor_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/anchor"
)

// chain is a fake main chain: blocks by height.
type chain struct{ blocks map[int64]*wire.MsgBlock }

func (c *chain) BlockHash(_ context.Context, h int64) (*chainhash.Hash, error) {
	b, ok := c.blocks[h]
	if !ok {
		return nil, fmt.Errorf("no block at %d", h)
	}
	hash := b.BlockHash()
	return &hash, nil
}

func (c *chain) Block(_ context.Context, hash *chainhash.Hash) (*wire.MsgBlock, error) {
	for _, b := range c.blocks {
		if b.BlockHash() == *hash {
			return b, nil
		}
	}
	return nil, fmt.Errorf("no block %s", hash)
}

func (c *chain) add(h int64, txs ...*wire.MsgTx) {
	b := wire.NewMsgBlock(wire.NewBlockHeader(1, &chainhash.Hash{byte(h)}, &chainhash.Hash{}, 0, uint32(h)))
	for _, tx := range txs {
		b.AddTransaction(tx)
	}
	c.blocks[h] = b
}

func id(seq uint64, branch string) [32]byte {
	return sha256.Sum256([]byte(fmt.Sprintf("%s/%d", branch, seq)))
}

var key = [32]byte{1, 2, 3}

// anchorTx is an anchor of seq spending prev's seal (nil: genesis, which
// spends some other coin).
func anchorTx(seq uint64, branch string, prevHeight uint32, prev *wire.MsgTx) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	if prev != nil {
		h := prev.TxHash()
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, anchor.SealOutput), nil, nil))
	} else {
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{9}, 0), nil, nil))
	}
	p := anchor.Payload{Seq: seq, Commitment: anchor.Commit(key, seq, id(seq, branch)), PrevHeight: prevHeight}
	tx.AddTxOut(wire.NewTxOut(0, p.Script()))
	tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51, 0x20, 7, 7, 7}))
	return tx
}

func filler(n byte) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{n}, 1), nil, nil))
	tx.AddTxOut(wire.NewTxOut(5, []byte{0x51}))
	return tx
}

func TestPayloadRoundTrip(t *testing.T) {
	p := anchor.Payload{Seq: 1<<40 + 5, Commitment: id(3, "x"), PrevHeight: 812345}
	s := p.Script()
	if len(s) != 51 || len(p.Encode()) != anchor.PayloadSize {
		t.Fatalf("script %d bytes, payload %d", len(s), len(p.Encode()))
	}
	got, err := anchor.ParseScript(s)
	if err != nil || got != p {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	bad := append([]byte(nil), s...)
	bad[6] = 2 // version byte
	if _, err := anchor.ParseScript(bad); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("version 2 payload: %v", err)
	}
	bad = append([]byte(nil), s...)
	bad[2] = 'X'
	if _, err := anchor.ParseScript(bad); !errors.Is(err, anchor.ErrNotAnchor) {
		t.Errorf("wrong magic: %v", err)
	}
	if _, err := anchor.ParseScript(s[:50]); !errors.Is(err, anchor.ErrNotAnchor) {
		t.Errorf("short script: %v", err)
	}
}

// TestWalkAndCheck: three anchors at heights 10, 20, 30 committing to
// seqs 2, 5, 9 of history "main". Walking from the newest finds all three;
// the main history passes Check; a fork that differs from seq 5 on fails
// naming seq 5 (agreeing up to 2); a history restarted with other ids
// fails at seq 2.
func TestWalkAndCheck(t *testing.T) {
	c := &chain{blocks: map[int64]*wire.MsgBlock{}}
	a1 := anchorTx(2, "main", 0, nil)
	a2 := anchorTx(5, "main", 10, a1)
	a3 := anchorTx(9, "main", 20, a2)
	c.add(10, filler(1), a1)
	c.add(20, a2, filler(2))
	c.add(30, filler(3), filler(4), a3)
	ref := anchor.Ref{Seq: 9, ID: id(9, "main"), Txid: a3.TxHash(), Height: 30, BlockHash: c.blocks[30].BlockHash()}
	ctx := context.Background()
	got, err := anchor.Walk(ctx, c, key, ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Seq != 9 || got[2].Seq != 2 || !got[2].Genesis() || got[2].Txid != a1.TxHash() {
		t.Fatalf("walk: %+v", got)
	}
	ids := func(branchFrom uint64, branch string) map[uint64][32]byte {
		m := map[uint64][32]byte{}
		for s := uint64(1); s <= 9; s++ {
			if s >= branchFrom {
				m[s] = id(s, branch)
			} else {
				m[s] = id(s, "main")
			}
		}
		return m
	}
	if n, err := anchor.Check(key, got, ids(100, "")); err != nil || n != 3 {
		t.Fatalf("main history: %d checked, %v", n, err)
	}
	_, err = anchor.Check(key, got, ids(4, "fork"))
	var d *anchor.Divergence
	if !errors.As(err, &d) || d.Seq != 5 || d.Agrees != 2 {
		t.Fatalf("fork from seq 4: %v", err)
	}
	_, err = anchor.Check(key, got, ids(1, "restart"))
	if !errors.As(err, &d) || d.Seq != 2 || d.Agrees != 0 {
		t.Fatalf("restarted history: %v", err)
	}

	// The listed id must be what the newest anchor commits to.
	wrong := ref
	wrong.ID = id(9, "fork")
	if _, err := anchor.Walk(ctx, c, key, wrong, 0); err == nil || !strings.Contains(err.Error(), "does not commit") {
		t.Errorf("another id at seq 9: %v", err)
	}
	// Another block at the height (a reorganised anchor) is not on chain.
	moved := ref
	moved.BlockHash = chainhash.Hash{5}
	if _, err := anchor.Walk(ctx, c, key, moved, 0); !errors.Is(err, anchor.ErrNotOnChain) {
		t.Errorf("anchor in a block off the main chain: %v", err)
	}
	// An anchor that spends no seal of the block its prev_height names.
	rogue := anchorTx(12, "main", 20, a1) // spends a1's seal, claims prev at 20
	c.add(40, rogue)
	r2 := anchor.Ref{Seq: 12, ID: id(12, "main"), Txid: rogue.TxHash(), Height: 40, BlockHash: c.blocks[40].BlockHash()}
	if _, err := anchor.Walk(ctx, c, key, r2, 0); !errors.Is(err, anchor.ErrNotOnChain) {
		t.Errorf("anchor whose prev_height is wrong: %v", err)
	}
	// Seqs must fall going back.
	back := anchorTx(5, "main", 30, a3)
	c.add(50, back)
	r3 := anchor.Ref{Seq: 5, ID: id(5, "main"), Txid: back.TxHash(), Height: 50, BlockHash: c.blocks[50].BlockHash()}
	if _, err := anchor.Walk(ctx, c, key, r3, 0); err == nil || !strings.Contains(err.Error(), "not below") {
		t.Errorf("anchor committing to an older seq than its predecessor: %v", err)
	}
}

func (c *chain) BestHeight(context.Context) (int64, error) {
	var top int64
	for h := range c.blocks {
		top = max(top, h)
	}
	return top, nil
}

func (c *chain) Unspent(_ context.Context, op wire.OutPoint) (bool, error) {
	for _, b := range c.blocks {
		for _, tx := range b.Transactions {
			for _, in := range tx.TxIn {
				if in.PreviousOutPoint == op {
					return false, nil
				}
			}
		}
	}
	return true, nil
}

// TestForward: an attestation that lists an older anchor cannot hide the
// newer ones: Forward finds them from the seal spends, and Check fails a
// fork that the newer anchor does not commit to.
func TestForward(t *testing.T) {
	c := &chain{blocks: map[int64]*wire.MsgBlock{}}
	a1 := anchorTx(2, "main", 0, nil)
	a2 := anchorTx(5, "main", 10, a1)
	c.add(10, a1)
	c.add(11, filler(1))
	c.add(12, filler(2), a2)
	ctx := context.Background()
	walked, err := anchor.Walk(ctx, c, key, anchor.Ref{Seq: 2, ID: id(2, "main"), Txid: a1.TxHash(), Height: 10,
		BlockHash: c.blocks[10].BlockHash()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	later, err := anchor.Forward(ctx, c, walked[0], 100)
	if err != nil || len(later) != 1 || later[0].Txid != a2.TxHash() || later[0].Height != 12 {
		t.Fatalf("forward: %+v %v", later, err)
	}
	fork := map[uint64][32]byte{2: id(2, "main"), 5: id(5, "fork")}
	var d *anchor.Divergence
	if _, err := anchor.Check(key, append(later, walked...), fork); !errors.As(err, &d) || d.Seq != 5 || d.Agrees != 2 {
		t.Fatalf("fork hidden behind an older anchor: %v", err)
	}
	if _, err := anchor.Forward(ctx, c, walked[0], 1); err == nil || !strings.Contains(err.Error(), "raise the scan limit") {
		t.Errorf("scan limit: %v", err)
	}
	// A seal spent by something that is not an anchor ends the chain.
	c2 := &chain{blocks: map[int64]*wire.MsgBlock{}}
	spend := wire.NewMsgTx(2)
	h := a1.TxHash()
	spend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, anchor.SealOutput), nil, nil))
	spend.AddTxOut(wire.NewTxOut(900, []byte{0x51}))
	c2.add(10, a1)
	c2.add(11, spend)
	if _, err := anchor.Forward(ctx, c2, walked[0], 100); err == nil || !strings.Contains(err.Error(), "not an anchor") {
		t.Errorf("seal spent by a plain payment: %v", err)
	}
}
