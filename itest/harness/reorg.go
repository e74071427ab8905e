package harness

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/integration/rpctest"
	"github.com/btcsuite/btcd/wire"
)

// blockVersion is used for blocks the harness builds itself: plain BIP9
// version bits (top bits 001), above the BIP34/65/66 minimums.
const blockVersion = 0x20000000

// InvalidateBlock makes btcd invalidate hash (and every block above it) and
// then mines a replacement chain of mine blocks on hash's parent; mine <= 0
// means one block more than were disconnected, so the replacement is longer.
// It returns the replacement blocks' hashes.
//
// btcd returns the disconnected transactions to its mempool and generate
// mines them again at once; use ReorgDroppingTx to lose a transaction.
func (h *Harness) InvalidateBlock(t testing.TB, hash *chainhash.Hash, mine int) []*chainhash.Hash {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	hashes, err := h.invalidateBlock(ctx, hash, mine)
	if err != nil {
		t.Fatalf("invalidate block %s: %v", hash, err)
	}
	t.Logf("harness: invalidated %s, mined %d replacement blocks", hash, len(hashes))
	return hashes
}

func (h *Harness) invalidateBlock(ctx context.Context, hash *chainhash.Hash, mine int) ([]*chainhash.Hash, error) {
	hdr, err := h.client.GetBlockHeaderVerbose(hash)
	if err != nil {
		return nil, fmt.Errorf("get header: %w", err)
	}
	_, tip, err := h.client.GetBestBlock()
	if err != nil {
		return nil, fmt.Errorf("get best block: %w", err)
	}
	disconnected := int(tip - hdr.Height + 1)
	if err := h.client.InvalidateBlock(hash); err != nil {
		return nil, fmt.Errorf("invalidateblock: %w", err)
	}
	if mine <= 0 {
		mine = disconnected + 1
	}
	return h.mine(ctx, mine)
}

// ReorgDroppingTx makes a reorg of depth blocks after which the harness-funded
// transaction txid is gone for good: it builds depth+1 blocks on the block
// depth below the tip, the first of them holding a double-spend of one of
// txid's inputs (back to the harness), and submits them. txid must have at
// most depth confirmations (depth 0: txid is in the mempool and only one block
// is added). It checks that txid is afterwards in neither the best chain nor
// the mempool, and returns the new blocks' hashes.
//
// Other transactions of the disconnected blocks go back to btcd's mempool and
// are mined again by the next Mine.
func (h *Harness) ReorgDroppingTx(t testing.TB, txid *chainhash.Hash, depth int) []*chainhash.Hash {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	hashes, err := h.reorgDroppingTx(ctx, txid, depth)
	if err != nil {
		t.Fatalf("reorg dropping %s at depth %d: %v", txid, depth, err)
	}
	t.Logf("harness: reorg of depth %d dropped tx %s; new tip %s", depth, txid, hashes[len(hashes)-1])
	return hashes
}

func (h *Harness) reorgDroppingTx(ctx context.Context, txid *chainhash.Hash, depth int) ([]*chainhash.Hash, error) {
	if depth < 0 {
		return nil, fmt.Errorf("depth %d < 0", depth)
	}
	res, err := h.client.GetRawTransactionVerbose(txid)
	if err != nil {
		return nil, fmt.Errorf("look up tx: %w", err)
	}
	if int(res.Confirmations) > depth {
		return nil, fmt.Errorf("tx has %d confirmations, more than depth %d", res.Confirmations, depth)
	}
	target, err := h.client.GetRawTransaction(txid)
	if err != nil {
		return nil, fmt.Errorf("get tx: %w", err)
	}
	_, tip, err := h.client.GetBestBlock()
	if err != nil {
		return nil, fmt.Errorf("get best block: %w", err)
	}
	forkHeight := tip - int32(depth)
	forkHash, err := h.client.GetBlockHash(int64(forkHeight))
	if err != nil {
		return nil, fmt.Errorf("get fork block hash at %d: %w", forkHeight, err)
	}
	forkMsg, err := h.client.GetBlock(forkHash)
	if err != nil {
		return nil, fmt.Errorf("get fork block %s: %w", forkHash, err)
	}
	prev := btcutil.NewBlock(forkMsg)
	prev.SetHeight(forkHeight)

	h.walletMu.Lock()
	defer h.walletMu.Unlock()

	// Find an input of the target that is ours and already confirmed (and
	// mature) at the fork point, so the double-spend is valid there.
	var victim *utxo
	for _, in := range target.MsgTx().TxIn {
		u, ok := h.known[in.PreviousOutPoint]
		if !ok {
			continue
		}
		prevTx, err := h.client.GetRawTransactionVerbose(&in.PreviousOutPoint.Hash)
		if err != nil || prevTx.Confirmations == 0 {
			continue
		}
		prevHeight := tip - int32(prevTx.Confirmations) + 1
		if prevHeight > forkHeight {
			continue
		}
		if u.coinbase && forkHeight+1-prevHeight < coinbaseMaturity {
			continue
		}
		victim = u
		break
	}
	if victim == nil {
		return nil, fmt.Errorf("tx %s has no harness input confirmed below the fork point (height %d)", txid, forkHeight)
	}

	ds := wire.NewMsgTx(2)
	ds.AddTxIn(wire.NewTxIn(&victim.op, nil, nil))
	ds.AddTxOut(wire.NewTxOut(0, h.pkScript))
	fee := h.feeFor(ds, false)
	if victim.value-fee < changeDust {
		return nil, fmt.Errorf("input %s too small (%d sat) to double-spend", victim.op, victim.value)
	}
	ds.TxOut[0].Value = victim.value - fee
	if err := h.signLocked(ds, []*utxo{victim}); err != nil {
		return nil, err
	}

	hashes, err := h.submitBranchLocked(ctx, prev, depth+1, []*btcutil.Tx{btcutil.NewTx(ds)})
	if err != nil {
		return hashes, err
	}

	// Wallet bookkeeping: the victim is spent by ds; the target's other
	// inputs are unspent again; the target's outputs never existed.
	for _, in := range target.MsgTx().TxIn {
		delete(h.spent, in.PreviousOutPoint)
	}
	h.spent[victim.op] = true
	for i := range target.MsgTx().TxOut {
		delete(h.known, wire.OutPoint{Hash: *txid, Index: uint32(i)})
	}
	h.recordSentLocked(ds)

	// The target must be nowhere: not in the best chain (txindex), not in
	// the mempool.
	if _, err := h.client.GetRawTransactionVerbose(txid); err == nil {
		return hashes, fmt.Errorf("tx %s still known to btcd after the reorg", txid)
	}
	mempool, err := h.client.GetRawMempool()
	if err != nil {
		return hashes, fmt.Errorf("getrawmempool: %w", err)
	}
	if slices.ContainsFunc(mempool, func(x *chainhash.Hash) bool { return x.IsEqual(txid) }) {
		return hashes, fmt.Errorf("tx %s still in the mempool after the reorg", txid)
	}
	return hashes, nil
}

// ReorgToMempool makes a reorg of depth blocks (depth >= 1) that returns the
// transactions of the disconnected blocks to btcd's mempool instead of
// mining them again: it builds depth+1 empty blocks on the block depth below
// the tip and submits them. Transactions that were confirmed in the
// disconnected blocks are then unconfirmed until the next Mine. It returns
// the new blocks' hashes.
func (h *Harness) ReorgToMempool(t testing.TB, depth int) []*chainhash.Hash {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	hashes, err := h.reorgToMempool(ctx, depth)
	if err != nil {
		t.Fatalf("reorg of depth %d to the mempool: %v", depth, err)
	}
	t.Logf("harness: reorg of depth %d, disconnected transactions back in the mempool; new tip %s", depth, hashes[len(hashes)-1])
	return hashes
}

func (h *Harness) reorgToMempool(ctx context.Context, depth int) ([]*chainhash.Hash, error) {
	if depth < 1 {
		return nil, fmt.Errorf("depth %d < 1", depth)
	}
	_, tip, err := h.client.GetBestBlock()
	if err != nil {
		return nil, fmt.Errorf("get best block: %w", err)
	}
	forkHeight := tip - int32(depth)
	forkHash, err := h.client.GetBlockHash(int64(forkHeight))
	if err != nil {
		return nil, fmt.Errorf("get fork block hash at %d: %w", forkHeight, err)
	}
	forkMsg, err := h.client.GetBlock(forkHash)
	if err != nil {
		return nil, fmt.Errorf("get fork block %s: %w", forkHash, err)
	}
	// The disconnected blocks' coinbases will not exist any more.
	var lost []*wire.MsgTx
	for height := forkHeight + 1; height <= tip; height++ {
		hash, err := h.client.GetBlockHash(int64(height))
		if err != nil {
			return nil, fmt.Errorf("get block hash at %d: %w", height, err)
		}
		b, err := h.client.GetBlock(hash)
		if err != nil {
			return nil, fmt.Errorf("get block %s: %w", hash, err)
		}
		lost = append(lost, b.Transactions[0])
	}
	prev := btcutil.NewBlock(forkMsg)
	prev.SetHeight(forkHeight)

	h.walletMu.Lock()
	defer h.walletMu.Unlock()
	hashes, err := h.submitBranchLocked(ctx, prev, depth+1, nil)
	if err != nil {
		return hashes, err
	}
	for _, cb := range lost {
		txid := cb.TxHash()
		for i := range cb.TxOut {
			delete(h.known, wire.OutPoint{Hash: txid, Index: uint32(i)})
		}
	}
	return hashes, nil
}

// submitBranchLocked builds n blocks on prev, the first holding txs, and
// submits them; it checks that the last is then btcd's best block and
// returns their hashes. Block times are real time (lnd's "synced to
// chain" check wants a recent tip), each after the previous block's.
// walletMu must be held: the new coinbases are the harness's.
func (h *Harness) submitBranchLocked(ctx context.Context, prev *btcutil.Block, n int, txs []*btcutil.Tx) ([]*chainhash.Hash, error) {
	var hashes []*chainhash.Hash
	for i := range n {
		if err := ctx.Err(); err != nil {
			return hashes, fmt.Errorf("build blocks: %w", err)
		}
		ts := time.Now().Truncate(time.Second)
		if pt := prev.MsgBlock().Header.Timestamp; !ts.After(pt) {
			ts = pt.Add(time.Second)
		}
		block, err := rpctest.CreateBlock(prev, txs, blockVersion, ts, h.addr, nil, h.params)
		if err != nil {
			return hashes, fmt.Errorf("create block %d/%d: %w", i+1, n, err)
		}
		if err := h.client.SubmitBlock(block, nil); err != nil {
			return hashes, fmt.Errorf("submit block %d/%d (%s): %w", i+1, n, block.Hash(), err)
		}
		h.ingestCoinbaseLocked(block.MsgBlock().Transactions[0])
		hashes = append(hashes, block.Hash())
		prev, txs = block, nil
	}
	best, _, err := h.client.GetBestBlock()
	if err != nil {
		return hashes, fmt.Errorf("get best block: %w", err)
	}
	if !best.IsEqual(hashes[len(hashes)-1]) {
		return hashes, fmt.Errorf("btcd's best block is %s, not the replacement tip %s", best, hashes[len(hashes)-1])
	}
	return hashes, nil
}
