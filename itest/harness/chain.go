package harness

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// MinerAddress is the P2WPKH address every block pays and harness change goes
// to. Its key never leaves the harness.
func (h *Harness) MinerAddress() btcutil.Address { return h.minerKey.Addr }

// Mine mines n blocks on the current tip with btcd's generate and returns
// their hashes in order. Note that generate also mines every transaction in
// btcd's mempool, including ones a reorg has just returned to it.
func (h *Harness) Mine(t testing.TB, n int) []*chainhash.Hash {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	hashes, err := h.miner.Mine(ctx, n)
	if err != nil {
		t.Fatalf("mine %d blocks: %v", n, err)
	}
	return hashes
}

// MineContext is Mine for a caller without a testing.TB (a command such as
// itest/torture): it returns the error instead of failing a test.
func (h *Harness) MineContext(ctx context.Context, n int) ([]*chainhash.Hash, error) {
	return h.miner.Mine(ctx, n)
}

// SendToAddress pays sats to addr from the harness wallet at the configured
// fee rate, broadcasts the transaction and returns its txid. It does not mine.
func (h *Harness) SendToAddress(t testing.TB, addr string, sats int64) *chainhash.Hash {
	t.Helper()
	return h.SendToAddresses(t, map[string]int64{addr: sats})
}

// SendToAddresses pays many addresses in one transaction (outputs in address
// order, change last) and returns its txid. It does not mine.
func (h *Harness) SendToAddresses(t testing.TB, amounts map[string]int64) *chainhash.Hash {
	t.Helper()
	addrs := make([]string, 0, len(amounts))
	for a := range amounts {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	outs := make([]*wire.TxOut, 0, len(addrs))
	for _, a := range addrs {
		pk, err := h.miner.PayScript(a)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, wire.NewTxOut(amounts[a], pk))
	}
	tx := h.SendOutputs(t, outs)
	txid := tx.TxHash()
	return &txid
}

// SendOutputs funds, signs and broadcasts a transaction with the given
// outputs (plus change to MinerAddress, if above dust) and returns it.
func (h *Harness) SendOutputs(t testing.TB, outs []*wire.TxOut) *wire.MsgTx {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tx, err := h.miner.SendOutputs(ctx, outs)
	if err != nil {
		t.Fatalf("send outputs: %v", err)
	}
	t.Logf("harness: sent tx %s (%d outputs)", tx.TxHash(), len(tx.TxOut))
	return tx
}

// SendOutputsContext is SendOutputs for a caller without a testing.TB.
func (h *Harness) SendOutputsContext(ctx context.Context, outs []*wire.TxOut) (*wire.MsgTx, error) {
	return h.miner.SendOutputs(ctx, outs)
}

// Confirmations returns how many confirmations txid has in btcd's best chain
// (0 if it is in the mempool); it fails the test if btcd knows no such tx.
func (h *Harness) Confirmations(t testing.TB, txid *chainhash.Hash) int64 {
	t.Helper()
	res, err := h.client.GetRawTransactionVerbose(txid)
	if err != nil {
		t.Fatalf("getrawtransaction %s: %v", txid, err)
	}
	return int64(res.Confirmations)
}

// OutputIndex returns the index of the output of tx txid paying addr; it
// fails the test if there is none or more than one.
func (h *Harness) OutputIndex(t testing.TB, txid *chainhash.Hash, addr string) uint32 {
	t.Helper()
	pk, err := h.miner.PayScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := h.client.GetRawTransaction(txid)
	if err != nil {
		t.Fatalf("getrawtransaction %s: %v", txid, err)
	}
	found := -1
	for i, out := range tx.MsgTx().TxOut {
		if slices.Equal(out.PkScript, pk) {
			if found >= 0 {
				t.Fatalf("tx %s pays %s more than once", txid, addr)
			}
			found = i
		}
	}
	if found < 0 {
		t.Fatalf("tx %s does not pay %s", txid, addr)
	}
	return uint32(found)
}

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
	hashes, err := h.miner.InvalidateBlock(ctx, hash, mine)
	if err != nil {
		t.Fatalf("invalidate block %s: %v", hash, err)
	}
	t.Logf("harness: invalidated %s, mined %d replacement blocks", hash, len(hashes))
	return hashes
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
	hashes, err := h.miner.ReorgDroppingTx(ctx, txid, depth)
	if err != nil {
		t.Fatalf("reorg dropping %s at depth %d: %v", txid, depth, err)
	}
	t.Logf("harness: reorg of depth %d dropped tx %s; new tip %s", depth, txid, hashes[len(hashes)-1])
	return hashes
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
	hashes, err := h.miner.ReorgToMempool(ctx, depth)
	if err != nil {
		t.Fatalf("reorg of depth %d to the mempool: %v", depth, err)
	}
	t.Logf("harness: reorg of depth %d, disconnected transactions back in the mempool; new tip %s", depth, hashes[len(hashes)-1])
	return hashes
}
