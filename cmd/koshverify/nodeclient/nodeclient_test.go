package nodeclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/cmd/koshverify/nodeclient"
	"github.com/kosh-reserve/kosh/cmd/koshverify/nodeclient/nodetest"
)

// chain is blocks whose coinbase pays outs outputs of 1,000 sats + index,
// all unspent except every third.
type chain struct {
	blocks []*wire.MsgBlock
}

func newChain(blocks, outs int) *chain {
	c := &chain{}
	prev := chainhash.Hash{}
	for h := range blocks {
		cb := wire.NewMsgTx(1)
		cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 0xffffffff}, SignatureScript: []byte{byte(h), byte(h >> 8), 1}})
		for i := range outs {
			cb.AddTxOut(&wire.TxOut{Value: int64(1000 + i), PkScript: []byte{0x51, byte(i)}})
		}
		b := &wire.MsgBlock{Header: wire.BlockHeader{PrevBlock: prev, Nonce: uint32(h)}, Transactions: []*wire.MsgTx{cb}}
		c.blocks = append(c.blocks, b)
		prev = b.BlockHash()
	}
	return c
}

func (c *chain) BestHeight(context.Context) (int64, error) { return int64(len(c.blocks) - 1), nil }

func (c *chain) BlockHash(_ context.Context, h int64) (*chainhash.Hash, error) {
	if h < 0 || h >= int64(len(c.blocks)) {
		return nil, errors.New("out of range")
	}
	x := c.blocks[h].BlockHash()
	return &x, nil
}

func (c *chain) Block(_ context.Context, hash *chainhash.Hash) (*wire.MsgBlock, error) {
	for _, b := range c.blocks {
		if b.BlockHash() == *hash {
			return b, nil
		}
	}
	return nil, errors.New("not found")
}

func (c *chain) TxOut(op wire.OutPoint) (*btcjson.GetTxOutResult, error) {
	if op.Index%3 == 2 {
		return nil, nil
	}
	for h, b := range c.blocks {
		tx := b.Transactions[0]
		if tx.TxHash() != op.Hash || int(op.Index) >= len(tx.TxOut) {
			continue
		}
		out := tx.TxOut[op.Index]
		return &btcjson.GetTxOutResult{BestBlock: c.blocks[len(c.blocks)-1].BlockHash().String(),
			Confirmations: int64(len(c.blocks) - h), Value: btcutil.Amount(out.Value).ToBTC(),
			ScriptPubKey: btcjson.ScriptPubKeyResult{Hex: fmt.Sprintf("%x", out.PkScript)}}, nil
	}
	return nil, nil
}

func dialBitcoind(t *testing.T, b *nodetest.Bitcoind, pass string) *nodeclient.Client {
	t.Helper()
	c, err := nodeclient.Dial(t.Context(), nodeclient.Config{Bitcoind: b.Addr, User: nodetest.User, Pass: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestBitcoindKeepAlive: every answer is read right, and all the calls,
// single and batched, go over one TCP connection (rpcclient's HTTP POST
// mode opened one per call).
func TestBitcoindKeepAlive(t *testing.T) {
	ch := newChain(20, 60)
	b := nodetest.NewBitcoind(t, ch)
	c := dialBitcoind(t, b, nodetest.Pass)
	ctx := t.Context()
	tip, err := c.BestHeight(ctx)
	if err != nil || tip != 19 {
		t.Fatalf("BestHeight = %d, %v; want 19", tip, err)
	}
	var ops []wire.OutPoint
	for h := range int64(20) {
		hash, err := c.BlockHash(ctx, h)
		if err != nil || *hash != ch.blocks[h].BlockHash() {
			t.Fatalf("BlockHash(%d) = %v, %v; want %s", h, hash, err, ch.blocks[h].BlockHash())
		}
		blk, err := c.Block(ctx, hash)
		if err != nil || blk.BlockHash() != *hash || blk.Transactions[0].TxHash() != ch.blocks[h].Transactions[0].TxHash() {
			t.Fatalf("Block(%s): %v", hash, err)
		}
		txid := blk.Transactions[0].TxHash()
		for i := range uint32(60) {
			ops = append(ops, wire.OutPoint{Hash: txid, Index: i})
		}
	}
	for _, op := range ops[:3] {
		unspent, err := c.Unspent(ctx, op)
		if err != nil || unspent != (op.Index%3 != 2) {
			t.Fatalf("Unspent(%s) = %v, %v", op, unspent, err)
		}
	}
	singles := b.Posts()
	// 1,200 outputs: batches of 500, 500 and 200.
	res, err := c.TxOuts(ctx, ops)
	if err != nil || len(res) != len(ops) {
		t.Fatalf("TxOuts: %d results, %v", len(res), err)
	}
	for i, r := range res {
		op := ops[i]
		if op.Index%3 == 2 {
			if r != nil {
				t.Fatalf("TxOuts[%d] (%s) = %+v, want nil (spent)", i, op, r)
			}
			continue
		}
		h := int64(i / 60)
		if r == nil || r.Confirmations != 20-h || r.Value != btcutil.Amount(1000+int64(op.Index)).ToBTC() ||
			r.ScriptPubKey.Hex != fmt.Sprintf("51%02x", op.Index) {
			t.Fatalf("TxOuts[%d] (%s) = %+v", i, op, r)
		}
	}
	if got := b.Posts() - singles; got != 3 {
		t.Errorf("TxOuts of 1,200 outputs took %d HTTP requests, want 3 batches", got)
	}
	if b.Calls() != 1+40+3+1200 {
		t.Errorf("the node answered %d calls, want %d", b.Calls(), 1+40+3+1200)
	}
	if b.Conns() != 1 {
		t.Errorf("%d HTTP requests over %d TCP connections, want 1", b.Posts(), b.Conns())
	}
}

// TestBitcoindErrors: the node's refusals reach the caller as such.
func TestBitcoindErrors(t *testing.T) {
	ch := newChain(3, 1)
	b := nodetest.NewBitcoind(t, ch)
	ctx := t.Context()
	if _, err := dialBitcoind(t, b, "wrong").BestHeight(ctx); err == nil || !strings.Contains(err.Error(), "refused the RPC user and password (HTTP 401)") {
		t.Errorf("wrong password: %v", err)
	}
	c := dialBitcoind(t, b, nodetest.Pass)
	var rpcErr *btcjson.RPCError
	if _, err := c.BlockHash(ctx, 3); !errors.As(err, &rpcErr) || rpcErr.Code != btcjson.ErrRPCInvalidParameter {
		t.Errorf("BlockHash beyond the tip: %v, want RPC error %d", err, btcjson.ErrRPCInvalidParameter)
	}
	if _, err := c.Block(ctx, &chainhash.Hash{1}); !errors.As(err, &rpcErr) || rpcErr.Code != btcjson.ErrRPCInvalidAddressOrKey {
		t.Errorf("Block of an unknown hash: %v, want RPC error %d", err, btcjson.ErrRPCInvalidAddressOrKey)
	}
	res, err := c.TxOuts(ctx, []wire.OutPoint{{Hash: chainhash.Hash{2}}, {Hash: ch.blocks[1].Transactions[0].TxHash()}})
	if err != nil || len(res) != 2 || res[0] != nil || res[1] == nil || res[1].Confirmations != 2 {
		t.Errorf("TxOuts of an unknown and a known output: %+v, %v", res, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.BestHeight(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("BestHeight with a cancelled context: %v", err)
	}
}

// TestDialConfig: Dial wants exactly one node, and btcd its certificate.
func TestDialConfig(t *testing.T) {
	for _, cfg := range []nodeclient.Config{{}, {Btcd: "127.0.0.1:1", Bitcoind: "127.0.0.1:2"}, {Btcd: "127.0.0.1:1"}} {
		if c, err := nodeclient.Dial(t.Context(), cfg); err == nil {
			c.Close()
			t.Errorf("Dial(%+v) succeeded", cfg)
		}
	}
}
