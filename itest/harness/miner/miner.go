package miner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
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

// Key is the miner's key: every block pays Addr, and only the miner signs
// for it.
type Key struct {
	// Addr is the P2WPKH address of the key (btcd's --miningaddr).
	Addr btcutil.Address
	// PkScript is Addr's output script.
	PkScript []byte

	priv *btcec.PrivateKey
}

// NewKey makes a fresh key on params. It comes before New because btcd
// needs the mining address before it starts, and the Miner needs btcd.
func NewKey(params *chaincfg.Params) (*Key, error) {
	key, err := btcec.NewPrivateKey()
	if err != nil {
		return nil, fmt.Errorf("harness key: %w", err)
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(
		btcutil.Hash160(key.PubKey().SerializeCompressed()), params)
	if err != nil {
		return nil, fmt.Errorf("harness address: %w", err)
	}
	pkScript, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, fmt.Errorf("harness pkScript: %w", err)
	}
	return &Key{Addr: addr, PkScript: pkScript, priv: key}, nil
}

// Miner mines blocks on a btcd node to its Key, remembers the outputs they
// pay it, and spends them: the harness's wallet (btcd has none). Its
// methods are safe for concurrent use.
type Miner struct {
	client  *rpcclient.Client
	params  *chaincfg.Params
	feeRate int64
	key     *Key

	mu    sync.Mutex
	known map[wire.OutPoint]*utxo // every output to the key's script seen
	spent map[wire.OutPoint]bool  // spent by a tx the miner broadcast
}

// New returns a Miner for key on the btcd node behind client; its spends
// pay feeRate sat/vbyte.
func New(client *rpcclient.Client, params *chaincfg.Params, key *Key, feeRate int64) *Miner {
	return &Miner{client: client, params: params, feeRate: feeRate, key: key,
		known: map[wire.OutPoint]*utxo{}, spent: map[wire.OutPoint]bool{}}
}

// Mine mines n blocks on the tip with btcd's generate, records the
// coinbase outputs paying the key, and returns the blocks' hashes in order.
func (m *Miner) Mine(ctx context.Context, n int) ([]*chainhash.Hash, error) {
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
		hashes, err := m.client.Generate(uint32(chunk))
		if err != nil {
			return all, fmt.Errorf("generate %d: %w", chunk, err)
		}
		if err := m.ingestBlocks(hashes); err != nil {
			return all, err
		}
		all = append(all, hashes...)
	}
	return all, nil
}

// ingestBlocks records the coinbase outputs paying the harness key.
func (m *Miner) ingestBlocks(hashes []*chainhash.Hash) error {
	futures := make([]rpcclient.FutureGetBlockResult, len(hashes))
	for i, hash := range hashes {
		futures[i] = m.client.GetBlockAsync(hash)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, f := range futures {
		block, err := f.Receive()
		if err != nil {
			return fmt.Errorf("get block %s: %w", hashes[i], err)
		}
		m.ingestCoinbaseLocked(block.Transactions[0])
	}
	return nil
}

func (m *Miner) ingestCoinbaseLocked(cb *wire.MsgTx) {
	txid := cb.TxHash()
	for i, out := range cb.TxOut {
		if slices.Equal(out.PkScript, m.key.PkScript) {
			m.addUtxoLocked(wire.OutPoint{Hash: txid, Index: uint32(i)}, out.Value, true)
		}
	}
}

var utxoSeq uint64

func (m *Miner) addUtxoLocked(op wire.OutPoint, value int64, coinbase bool) {
	if _, ok := m.known[op]; ok {
		return
	}
	utxoSeq++
	m.known[op] = &utxo{op: op, value: value, coinbase: coinbase, seq: utxoSeq}
}

// PayScript returns the output script paying addr, a regtest address.
func (m *Miner) PayScript(addr string) ([]byte, error) {
	a, err := btcutil.DecodeAddress(addr, m.params)
	if err != nil {
		return nil, fmt.Errorf("decode address %q: %w", addr, err)
	}
	if !a.IsForNet(m.params) {
		return nil, fmt.Errorf("address %q is not a regtest address", addr)
	}
	pk, err := txscript.PayToAddrScript(a)
	if err != nil {
		return nil, fmt.Errorf("script for %q: %w", addr, err)
	}
	return pk, nil
}

// SendOutputs funds, signs and broadcasts a transaction with outs (plus
// change to the key, if above dust) from mature confirmed outputs, oldest
// first, and returns it. It fails with ErrNoFunds when they do not suffice.
func (m *Miner) SendOutputs(ctx context.Context, outs []*wire.TxOut) (*wire.MsgTx, error) {
	var target int64
	for _, o := range outs {
		if o.Value <= 0 {
			return nil, fmt.Errorf("output value %d must be positive", o.Value)
		}
		target += o.Value
	}

	m.mu.Lock()
	defer m.mu.Unlock()

	cands := make([]*utxo, 0, len(m.known))
	for op, u := range m.known {
		if !m.spent[op] {
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
		res, err := m.client.GetTxOut(&u.op.Hash, u.op.Index, true)
		if err != nil || res == nil {
			delete(m.known, u.op) // spent or reorged away
			continue
		}
		if res.Confirmations < 1 || (res.Coinbase && res.Confirmations < coinbaseMaturity) {
			continue
		}
		inputs = append(inputs, u)
		sum += u.value
		tx.AddTxIn(wire.NewTxIn(&u.op, nil, nil))
		fee := m.feeFor(tx, true)
		if sum >= target+fee {
			break
		}
	}
	feeWithChange := m.feeFor(tx, true)
	if sum < target+m.feeFor(tx, false) {
		return nil, fmt.Errorf("%w: need %d + fee, have %d", ErrNoFunds, target, sum)
	}
	if change := sum - target - feeWithChange; change >= changeDust {
		tx.AddTxOut(wire.NewTxOut(change, m.key.PkScript))
	}
	if err := m.signLocked(tx, inputs); err != nil {
		return nil, err
	}
	if _, err := m.client.SendRawTransaction(tx, true); err != nil {
		return nil, fmt.Errorf("sendrawtransaction %s: %w", tx.TxHash(), err)
	}
	m.recordSentLocked(tx)
	return tx, nil
}

// recordSentLocked marks the inputs spent and remembers outputs to the
// harness key (change) for later spends once confirmed.
func (m *Miner) recordSentLocked(tx *wire.MsgTx) {
	for _, in := range tx.TxIn {
		m.spent[in.PreviousOutPoint] = true
	}
	txid := tx.TxHash()
	for i, out := range tx.TxOut {
		if slices.Equal(out.PkScript, m.key.PkScript) {
			m.addUtxoLocked(wire.OutPoint{Hash: txid, Index: uint32(i)}, out.Value, false)
		}
	}
}

// feeFor is FeeRate times the transaction's virtual size, counting every
// input as a worst-case P2WPKH spend and, if withChange, one P2WPKH change
// output more.
func (m *Miner) feeFor(tx *wire.MsgTx, withChange bool) int64 {
	c := tx.Copy()
	for _, in := range c.TxIn {
		in.SignatureScript = nil
		in.Witness = wire.TxWitness{make([]byte, p2wpkhSigMax-1), make([]byte, 33)}
	}
	if withChange {
		c.AddTxOut(wire.NewTxOut(0, m.key.PkScript))
	}
	weight := int64(c.SerializeSizeStripped())*3 + int64(c.SerializeSize())
	vsize := (weight + 3) / 4
	return vsize * m.feeRate
}

// signLocked signs every input, all of which are P2WPKH outputs to the
// harness key, described by inputs in input order.
func (m *Miner) signLocked(tx *wire.MsgTx, inputs []*utxo) error {
	prev := txscript.NewMultiPrevOutFetcher(nil)
	for _, u := range inputs {
		prev.AddPrevOut(u.op, wire.NewTxOut(u.value, m.key.PkScript))
	}
	hashes := txscript.NewTxSigHashes(tx, prev)
	for i, u := range inputs {
		wit, err := txscript.WitnessSignature(tx, hashes, i, u.value, m.key.PkScript,
			txscript.SigHashAll, m.key.priv, true)
		if err != nil {
			return fmt.Errorf("sign input %d (%s): %w", i, u.op, err)
		}
		tx.TxIn[i].Witness = wit
	}
	return nil
}
