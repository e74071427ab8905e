package miner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/integration/rpctest"
	"github.com/btcsuite/btcd/wire"
)

// blockVersion is used for blocks the harness builds itself: plain BIP9
// version bits (top bits 001), above the BIP34/65/66 minimums.
const blockVersion = 0x20000000

// InvalidateBlock makes btcd invalidate hash and mines mine replacement
// blocks (one more than were disconnected if mine <= 0); see
// harness.Harness.InvalidateBlock.
func (m *Miner) InvalidateBlock(ctx context.Context, hash *chainhash.Hash, mine int) ([]*chainhash.Hash, error) {
	hdr, err := m.client.GetBlockHeaderVerbose(hash)
	if err != nil {
		return nil, fmt.Errorf("get header: %w", err)
	}
	_, tip, err := m.client.GetBestBlock()
	if err != nil {
		return nil, fmt.Errorf("get best block: %w", err)
	}
	disconnected := int(tip - hdr.Height + 1)
	if err := m.client.InvalidateBlock(hash); err != nil {
		return nil, fmt.Errorf("invalidateblock: %w", err)
	}
	if mine <= 0 {
		mine = disconnected + 1
	}
	return m.Mine(ctx, mine)
}

// ReorgDroppingTx makes a reorg of depth blocks that double-spends one of
// txid's inputs, so txid is gone for good; see
// harness.Harness.ReorgDroppingTx.
func (m *Miner) ReorgDroppingTx(ctx context.Context, txid *chainhash.Hash, depth int) ([]*chainhash.Hash, error) {
	if depth < 0 {
		return nil, fmt.Errorf("depth %d < 0", depth)
	}
	res, err := m.client.GetRawTransactionVerbose(txid)
	if err != nil {
		return nil, fmt.Errorf("look up tx: %w", err)
	}
	if int(res.Confirmations) > depth {
		return nil, fmt.Errorf("tx has %d confirmations, more than depth %d", res.Confirmations, depth)
	}
	target, err := m.client.GetRawTransaction(txid)
	if err != nil {
		return nil, fmt.Errorf("get tx: %w", err)
	}
	_, tip, err := m.client.GetBestBlock()
	if err != nil {
		return nil, fmt.Errorf("get best block: %w", err)
	}
	forkHeight := tip - int32(depth)
	forkHash, err := m.client.GetBlockHash(int64(forkHeight))
	if err != nil {
		return nil, fmt.Errorf("get fork block hash at %d: %w", forkHeight, err)
	}
	forkMsg, err := m.client.GetBlock(forkHash)
	if err != nil {
		return nil, fmt.Errorf("get fork block %s: %w", forkHash, err)
	}
	prev := btcutil.NewBlock(forkMsg)
	prev.SetHeight(forkHeight)

	m.mu.Lock()
	defer m.mu.Unlock()

	// Find an input of the target that is ours and already confirmed (and
	// mature) at the fork point, so the double-spend is valid there.
	var victim *utxo
	for _, in := range target.MsgTx().TxIn {
		u, ok := m.known[in.PreviousOutPoint]
		if !ok {
			continue
		}
		prevTx, err := m.client.GetRawTransactionVerbose(&in.PreviousOutPoint.Hash)
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
	ds.AddTxOut(wire.NewTxOut(0, m.key.PkScript))
	fee := m.feeFor(ds, false)
	if victim.value-fee < changeDust {
		return nil, fmt.Errorf("input %s too small (%d sat) to double-spend", victim.op, victim.value)
	}
	ds.TxOut[0].Value = victim.value - fee
	if err := m.signLocked(ds, []*utxo{victim}); err != nil {
		return nil, err
	}

	hashes, err := m.submitBranchLocked(ctx, prev, depth+1, []*btcutil.Tx{btcutil.NewTx(ds)})
	if err != nil {
		return hashes, err
	}

	// Wallet bookkeeping: the victim is spent by ds; the target's other
	// inputs are unspent again; the target's outputs never existed.
	for _, in := range target.MsgTx().TxIn {
		delete(m.spent, in.PreviousOutPoint)
	}
	m.spent[victim.op] = true
	for i := range target.MsgTx().TxOut {
		delete(m.known, wire.OutPoint{Hash: *txid, Index: uint32(i)})
	}
	m.recordSentLocked(ds)

	// The target must be nowhere: not in the best chain (txindex), not in
	// the mempool.
	if _, err := m.client.GetRawTransactionVerbose(txid); err == nil {
		return hashes, fmt.Errorf("tx %s still known to btcd after the reorg", txid)
	}
	mempool, err := m.client.GetRawMempool()
	if err != nil {
		return hashes, fmt.Errorf("getrawmempool: %w", err)
	}
	if slices.ContainsFunc(mempool, func(x *chainhash.Hash) bool { return x.IsEqual(txid) }) {
		return hashes, fmt.Errorf("tx %s still in the mempool after the reorg", txid)
	}
	return hashes, nil
}

// ReorgToMempool replaces the top depth blocks with depth+1 empty ones, so
// their transactions go back to the mempool; see harness.Harness.ReorgToMempool.
func (m *Miner) ReorgToMempool(ctx context.Context, depth int) ([]*chainhash.Hash, error) {
	if depth < 1 {
		return nil, fmt.Errorf("depth %d < 1", depth)
	}
	_, tip, err := m.client.GetBestBlock()
	if err != nil {
		return nil, fmt.Errorf("get best block: %w", err)
	}
	forkHeight := tip - int32(depth)
	forkHash, err := m.client.GetBlockHash(int64(forkHeight))
	if err != nil {
		return nil, fmt.Errorf("get fork block hash at %d: %w", forkHeight, err)
	}
	forkMsg, err := m.client.GetBlock(forkHash)
	if err != nil {
		return nil, fmt.Errorf("get fork block %s: %w", forkHash, err)
	}
	// The disconnected blocks' coinbases will not exist any more.
	var lost []*wire.MsgTx
	for height := forkHeight + 1; height <= tip; height++ {
		hash, err := m.client.GetBlockHash(int64(height))
		if err != nil {
			return nil, fmt.Errorf("get block hash at %d: %w", height, err)
		}
		b, err := m.client.GetBlock(hash)
		if err != nil {
			return nil, fmt.Errorf("get block %s: %w", hash, err)
		}
		lost = append(lost, b.Transactions[0])
	}
	prev := btcutil.NewBlock(forkMsg)
	prev.SetHeight(forkHeight)

	m.mu.Lock()
	defer m.mu.Unlock()
	hashes, err := m.submitBranchLocked(ctx, prev, depth+1, nil)
	if err != nil {
		return hashes, err
	}
	for _, cb := range lost {
		txid := cb.TxHash()
		for i := range cb.TxOut {
			delete(m.known, wire.OutPoint{Hash: txid, Index: uint32(i)})
		}
	}
	return hashes, nil
}

// submitBranchLocked builds n blocks on prev, the first holding txs, and
// submits them; it checks that the last is then btcd's best block and
// returns their hashes. Block times are real time (lnd's "synced to
// chain" check wants a recent tip), each after the previous block's.
// m.mu must be held: the new coinbases are the harness's.
func (m *Miner) submitBranchLocked(ctx context.Context, prev *btcutil.Block, n int, txs []*btcutil.Tx) ([]*chainhash.Hash, error) {
	var hashes []*chainhash.Hash
	for i := range n {
		if err := ctx.Err(); err != nil {
			return hashes, fmt.Errorf("build blocks: %w", err)
		}
		ts := time.Now().Truncate(time.Second)
		if pt := prev.MsgBlock().Header.Timestamp; !ts.After(pt) {
			ts = pt.Add(time.Second)
		}
		block, err := rpctest.CreateBlock(prev, txs, blockVersion, ts, m.key.Addr, nil, m.params)
		if err != nil {
			return hashes, fmt.Errorf("create block %d/%d: %w", i+1, n, err)
		}
		if err := m.client.SubmitBlock(block, nil); err != nil {
			return hashes, fmt.Errorf("submit block %d/%d (%s): %w", i+1, n, block.Hash(), err)
		}
		m.ingestCoinbaseLocked(block.MsgBlock().Transactions[0])
		hashes = append(hashes, block.Hash())
		prev, txs = block, nil
	}
	best, _, err := m.client.GetBestBlock()
	if err != nil {
		return hashes, fmt.Errorf("get best block: %w", err)
	}
	if !best.IsEqual(hashes[len(hashes)-1]) {
		return hashes, fmt.Errorf("btcd's best block is %s, not the replacement tip %s", best, hashes[len(hashes)-1])
	}
	return hashes, nil
}
