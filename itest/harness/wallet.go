package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// ErrNoFunds is returned when the harness wallet has not enough mature,
// confirmed outputs for a spend. Mine more blocks.
var ErrNoFunds = errors.New("harness wallet: not enough mature confirmed outputs")

const (
	// coinbaseMaturity is regtest's: a coinbase output can be spent in a
	// block 100 blocks above its own, i.e. once it has 100 confirmations.
	coinbaseMaturity = 100
	// changeDust: smaller change is left to the fee.
	changeDust = 1000
	// p2wpkhWitnessMax is the largest P2WPKH witness: 72-byte DER
	// signature with sighash byte, 33-byte key, and their length bytes.
	p2wpkhSigMax = 73
)

// utxo is an output to the harness's key that it has seen.
type utxo struct {
	op       wire.OutPoint
	value    int64
	coinbase bool
	seq      uint64 // order seen; older outputs are spent first
}

func (h *Harness) initWallet() error {
	key, err := btcec.NewPrivateKey()
	if err != nil {
		return fmt.Errorf("harness key: %w", err)
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(
		btcutil.Hash160(key.PubKey().SerializeCompressed()), h.params)
	if err != nil {
		return fmt.Errorf("harness address: %w", err)
	}
	pkScript, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return fmt.Errorf("harness pkScript: %w", err)
	}
	h.key, h.addr, h.pkScript = key, addr, pkScript
	return nil
}

// MinerAddress is the P2WPKH address every block pays and harness change goes
// to. Its key never leaves the harness.
func (h *Harness) MinerAddress() btcutil.Address { return h.addr }

// Mine mines n blocks on the current tip with btcd's generate and returns
// their hashes in order. Note that generate also mines every transaction in
// btcd's mempool, including ones a reorg has just returned to it.
func (h *Harness) Mine(t testing.TB, n int) []*chainhash.Hash {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	hashes, err := h.mine(ctx, n)
	if err != nil {
		t.Fatalf("mine %d blocks: %v", n, err)
	}
	return hashes
}

// MineContext is Mine for a caller without a testing.TB (a command such as
// itest/torture): it returns the error instead of failing a test.
func (h *Harness) MineContext(ctx context.Context, n int) ([]*chainhash.Hash, error) {
	return h.mine(ctx, n)
}

func (h *Harness) mine(ctx context.Context, n int) ([]*chainhash.Hash, error) {
	if n <= 0 {
		return nil, nil
	}
	var all []*chainhash.Hash
	// Generate in chunks so a cancelled context is noticed.
	for len(all) < n {
		if err := ctx.Err(); err != nil {
			return all, fmt.Errorf("mine: %w", err)
		}
		chunk := min(n-len(all), 100)
		hashes, err := h.client.Generate(uint32(chunk))
		if err != nil {
			return all, fmt.Errorf("generate %d: %w", chunk, err)
		}
		if err := h.ingestBlocks(hashes); err != nil {
			return all, err
		}
		all = append(all, hashes...)
	}
	return all, nil
}

// ingestBlocks records the coinbase outputs paying the harness key.
func (h *Harness) ingestBlocks(hashes []*chainhash.Hash) error {
	futures := make([]rpcclient.FutureGetBlockResult, len(hashes))
	for i, hash := range hashes {
		futures[i] = h.client.GetBlockAsync(hash)
	}
	h.walletMu.Lock()
	defer h.walletMu.Unlock()
	for i, f := range futures {
		block, err := f.Receive()
		if err != nil {
			return fmt.Errorf("get block %s: %w", hashes[i], err)
		}
		h.ingestCoinbaseLocked(block.Transactions[0])
	}
	return nil
}

func (h *Harness) ingestCoinbaseLocked(cb *wire.MsgTx) {
	txid := cb.TxHash()
	for i, out := range cb.TxOut {
		if slices.Equal(out.PkScript, h.pkScript) {
			h.addUtxoLocked(wire.OutPoint{Hash: txid, Index: uint32(i)}, out.Value, true)
		}
	}
}

var utxoSeq uint64

func (h *Harness) addUtxoLocked(op wire.OutPoint, value int64, coinbase bool) {
	if _, ok := h.known[op]; ok {
		return
	}
	utxoSeq++
	h.known[op] = &utxo{op: op, value: value, coinbase: coinbase, seq: utxoSeq}
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
		pk, err := h.addrScript(a)
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
	tx, err := h.sendOutputs(ctx, outs)
	if err != nil {
		t.Fatalf("send outputs: %v", err)
	}
	t.Logf("harness: sent tx %s (%d outputs)", tx.TxHash(), len(tx.TxOut))
	return tx
}

// SendOutputsContext is SendOutputs for a caller without a testing.TB.
func (h *Harness) SendOutputsContext(ctx context.Context, outs []*wire.TxOut) (*wire.MsgTx, error) {
	return h.sendOutputs(ctx, outs)
}

func (h *Harness) addrScript(addr string) ([]byte, error) {
	a, err := btcutil.DecodeAddress(addr, h.params)
	if err != nil {
		return nil, fmt.Errorf("decode address %q: %w", addr, err)
	}
	if !a.IsForNet(h.params) {
		return nil, fmt.Errorf("address %q is not a regtest address", addr)
	}
	pk, err := txscript.PayToAddrScript(a)
	if err != nil {
		return nil, fmt.Errorf("script for %q: %w", addr, err)
	}
	return pk, nil
}

func (h *Harness) sendOutputs(ctx context.Context, outs []*wire.TxOut) (*wire.MsgTx, error) {
	var target int64
	for _, o := range outs {
		if o.Value <= 0 {
			return nil, fmt.Errorf("output value %d must be positive", o.Value)
		}
		target += o.Value
	}

	h.walletMu.Lock()
	defer h.walletMu.Unlock()

	cands := make([]*utxo, 0, len(h.known))
	for op, u := range h.known {
		if !h.spent[op] {
			cands = append(cands, u)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].seq < cands[j].seq })

	tx := wire.NewMsgTx(2)
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	var inputs []*utxo
	var sum int64
	for _, u := range cands {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("select inputs: %w", err)
		}
		// btcd is the source of truth: the output must be unspent in
		// the best chain and mature.
		res, err := h.client.GetTxOut(&u.op.Hash, u.op.Index, true)
		if err != nil || res == nil {
			delete(h.known, u.op) // spent or reorged away
			continue
		}
		if res.Confirmations < 1 || (res.Coinbase && res.Confirmations < coinbaseMaturity) {
			continue
		}
		inputs = append(inputs, u)
		sum += u.value
		tx.AddTxIn(wire.NewTxIn(&u.op, nil, nil))
		fee := h.feeFor(tx, true)
		if sum >= target+fee {
			break
		}
	}
	feeWithChange := h.feeFor(tx, true)
	if sum < target+h.feeFor(tx, false) {
		return nil, fmt.Errorf("%w: need %d + fee, have %d", ErrNoFunds, target, sum)
	}
	if change := sum - target - feeWithChange; change >= changeDust {
		tx.AddTxOut(wire.NewTxOut(change, h.pkScript))
	}
	if err := h.signLocked(tx, inputs); err != nil {
		return nil, err
	}
	if _, err := h.client.SendRawTransaction(tx, true); err != nil {
		return nil, fmt.Errorf("sendrawtransaction %s: %w", tx.TxHash(), err)
	}
	h.recordSentLocked(tx)
	return tx, nil
}

// recordSentLocked marks the inputs spent and remembers outputs to the
// harness key (change) for later spends once confirmed.
func (h *Harness) recordSentLocked(tx *wire.MsgTx) {
	for _, in := range tx.TxIn {
		h.spent[in.PreviousOutPoint] = true
	}
	txid := tx.TxHash()
	for i, out := range tx.TxOut {
		if slices.Equal(out.PkScript, h.pkScript) {
			h.addUtxoLocked(wire.OutPoint{Hash: txid, Index: uint32(i)}, out.Value, false)
		}
	}
}

// feeFor is FeeRate times the transaction's virtual size, counting every
// input as a worst-case P2WPKH spend and, if withChange, one P2WPKH change
// output more.
func (h *Harness) feeFor(tx *wire.MsgTx, withChange bool) int64 {
	c := tx.Copy()
	for _, in := range c.TxIn {
		in.SignatureScript = nil
		in.Witness = wire.TxWitness{make([]byte, p2wpkhSigMax-1), make([]byte, 33)}
	}
	if withChange {
		c.AddTxOut(wire.NewTxOut(0, h.pkScript))
	}
	weight := int64(c.SerializeSizeStripped())*3 + int64(c.SerializeSize())
	vsize := (weight + 3) / 4
	return vsize * h.cfg.FeeRate
}

// signLocked signs every input, all of which are P2WPKH outputs to the
// harness key, described by inputs in input order.
func (h *Harness) signLocked(tx *wire.MsgTx, inputs []*utxo) error {
	prev := txscript.NewMultiPrevOutFetcher(nil)
	for _, u := range inputs {
		prev.AddPrevOut(u.op, wire.NewTxOut(u.value, h.pkScript))
	}
	hashes := txscript.NewTxSigHashes(tx, prev)
	for i, u := range inputs {
		wit, err := txscript.WitnessSignature(tx, hashes, i, u.value, h.pkScript,
			txscript.SigHashAll, h.key, true)
		if err != nil {
			return fmt.Errorf("sign input %d (%s): %w", i, u.op, err)
		}
		tx.TxIn[i].Witness = wit
	}
	return nil
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
	pk, err := h.addrScript(addr)
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
