package anchorer

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
)

// BumpPolicy is how an anchor stuck unconfirmed gets its fee raised: after
// After without confirming (and again every After), it is replaced (BIP
// 125) by the same transaction paying SatPerVbyte, the difference taken
// from its change; when the change cannot pay it, lnd's sweeper spends the
// change in a child transaction instead (child pays for parent), spending
// at most Budget sats in fees. The seal is never spent to do it.
type BumpPolicy struct {
	After       time.Duration
	SatPerVbyte uint64
	Budget      int64
}

// changeOutput is the index of lnd's change output in an anchor: the
// first output after the seal.
const changeOutput = anchor.SealOutput + 1

// rbfSequence signals replaceability (BIP 125).
const rbfSequence = wire.MaxTxInSequenceNum - 2

// dustLimit is the smallest change output a replacement leaves (P2TR dust
// at the default relay fee).
const dustLimit = 330

// signalRBF returns the PSBT with every input's sequence set to signal
// replaceability.
func signalRBF(raw []byte) ([]byte, error) {
	p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		return nil, fmt.Errorf("decode the funded anchor: %w", err)
	}
	for _, in := range p.UnsignedTx.TxIn {
		in.Sequence = rbfSequence
	}
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("encode the funded anchor: %w", err)
	}
	return buf.Bytes(), nil
}

// bump raises the fee of the published, unconfirmed anchor r when it has
// waited Bump.After since it was published or last bumped: by replacement
// when its change can pay, else by a child. It returns r as it now stands.
func (a *Anchorer) bump(ctx context.Context, r Record, now int64) (Record, error) {
	p := a.cfg.Bump
	if p.After <= 0 || r.State != StatePublished || now-r.UpdatedAt < p.After.Milliseconds() {
		return r, nil
	}
	next, err := a.replace(ctx, r, now)
	if err == nil {
		return next, nil
	}
	if !errors.Is(err, errCannotReplace) {
		return r, err
	}
	a.cfg.Log.Info("anchor cannot be replaced; bumping it by a child instead", "anchor", r.Seq, "why", err)
	return a.bumpChild(ctx, r, now)
}

// errCannotReplace means an anchor cannot be replaced at the bump rate
// (its change cannot pay, or it already pays that rate).
var errCannotReplace = errors.New("cannot replace")

// replace publishes, in place of r's transaction, the same transaction
// paying Bump.SatPerVbyte, the extra fee taken from its change. The new
// transaction is stored (the old txid in Replaced: it may still be the one
// that confirms) before it is published.
func (a *Anchorer) replace(ctx context.Context, r Record, now int64) (Record, error) {
	var old wire.MsgTx
	if err := old.Deserialize(bytes.NewReader(r.RawTx)); err != nil {
		return r, fmt.Errorf("decode anchor %d: %w", r.Seq, err)
	}
	if len(old.TxOut) <= changeOutput {
		return r, fmt.Errorf("%w: anchor %d has no change output", errCannotReplace, r.Seq)
	}
	fee := int64(a.cfg.Bump.SatPerVbyte) * r.Vbytes
	delta := fee - r.FeeSats
	if delta <= 0 {
		return r, fmt.Errorf("%w: anchor %d already pays %d sats, the bump rate's %d", errCannotReplace, r.Seq, r.FeeSats, fee)
	}
	if old.TxOut[changeOutput].Value-delta < dustLimit {
		return r, fmt.Errorf("%w: anchor %d's change of %d sats cannot pay %d more", errCannotReplace, r.Seq,
			old.TxOut[changeOutput].Value, delta)
	}
	unsigned := old.Copy()
	for _, in := range unsigned.TxIn {
		in.SignatureScript, in.Witness, in.Sequence = nil, nil, rbfSequence
	}
	unsigned.TxOut[changeOutput].Value -= delta
	packet, err := psbt.NewFromUnsignedTx(unsigned)
	if err != nil {
		return r, fmt.Errorf("replacement of anchor %d: %w", r.Seq, err)
	}
	for i, in := range unsigned.TxIn {
		prevOut, err := a.prevOut(ctx, in.PreviousOutPoint)
		if err != nil {
			return r, err
		}
		packet.Inputs[i].WitnessUtxo = prevOut
	}
	var buf bytes.Buffer
	if err := packet.Serialize(&buf); err != nil {
		return r, fmt.Errorf("replacement of anchor %d: %w", r.Seq, err)
	}
	// lnd signs only inputs it holds unspent: forget the old transaction
	// (it stays in the network's mempool until the replacement evicts it).
	if _, err := a.cfg.Wallet.RemoveTransaction(ctx, &walletrpc.GetTransactionRequest{Txid: r.Txid}); err != nil {
		return r, fmt.Errorf("have lnd forget anchor %s before replacing it: %w", r.Txid, err)
	}
	fin, err := a.cfg.Wallet.FinalizePsbt(ctx, &walletrpc.FinalizePsbtRequest{FundedPsbt: buf.Bytes()})
	if err != nil {
		// lnd learns the old transaction again when it is published.
		_ = a.publish(ctx, r)
		return r, fmt.Errorf("sign the replacement of anchor %d (lnd FinalizePsbt): %w", r.Seq, err)
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(fin.RawFinalTx)); err != nil {
		return r, fmt.Errorf("decode the replacement of anchor %d: %w", r.Seq, err)
	}
	payload, err := anchor.FromTx(&old)
	if err != nil {
		return r, err
	}
	if err := checkShape(&tx, payload, Record{Txid: r.PrevTxid}); err != nil {
		return r, err
	}
	next := r
	next.Txid, next.RawTx, next.FeeSats, next.Vbytes = tx.TxHash().String(), fin.RawFinalTx, fee, vsize(&tx)
	next.Replaced = append(slices.Clone(r.Replaced), r.Txid)
	next.UpdatedAt = now
	if err := a.cfg.Store.Replace(ctx, r.Seq, r.Txid, next); err != nil {
		_ = a.publish(ctx, r)
		return r, err
	}
	if err := a.fault("anchor:replaced"); err != nil {
		return next, err
	}
	if err := a.publish(ctx, next); err != nil {
		// The network refuses the replacement: go back to the old one.
		a.cfg.Log.Warn("replacement of a stuck anchor refused; keeping the original", "anchor", r.Seq, "txid", next.Txid, "err", err)
		back := r
		back.UpdatedAt = now
		if rerr := a.cfg.Store.Replace(ctx, r.Seq, next.Txid, back); rerr != nil {
			return next, errors.Join(err, rerr)
		}
		return back, a.publish(ctx, back)
	}
	a.cfg.Log.Info("anchor stuck unconfirmed: replaced at a higher fee", "anchor", r.Seq, "old_txid", r.Txid,
		"txid", next.Txid, "fee_sats", fee, "sat_per_vbyte", a.cfg.Bump.SatPerVbyte)
	return next, nil
}

// prevOut is the output op spends, from lnd's wallet (every input of an
// anchor is the wallet's: its coins, or the previous anchor's seal).
func (a *Anchorer) prevOut(ctx context.Context, op wire.OutPoint) (*wire.TxOut, error) {
	t, err := a.cfg.Wallet.GetTransaction(ctx, &walletrpc.GetTransactionRequest{Txid: op.Hash.String()})
	if err != nil {
		return nil, fmt.Errorf("the transaction of input %s (lnd GetTransaction): %w", op, err)
	}
	raw, err := hex.DecodeString(t.RawTxHex)
	if err != nil {
		return nil, fmt.Errorf("the transaction of input %s: %w", op, err)
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("the transaction of input %s: %w", op, err)
	}
	if int(op.Index) >= len(tx.TxOut) {
		return nil, fmt.Errorf("input %s: its transaction has %d outputs", op, len(tx.TxOut))
	}
	return tx.TxOut[op.Index], nil
}

// adoptReplaced makes a transaction r replaced the anchor's when that one
// is the one that confirmed (the replacement lost the race), and reports
// whether it did.
func (a *Anchorer) adoptReplaced(ctx context.Context, r Record, now int64) (Record, bool, error) {
	if r.State == StateConfirmed {
		return r, false, nil // the race is decided
	}
	for i, txid := range r.Replaced {
		t, err := a.cfg.Wallet.GetTransaction(ctx, &walletrpc.GetTransactionRequest{Txid: txid})
		if err != nil || t.NumConfirmations < a.cfg.MinConf || t.BlockHash == "" {
			continue
		}
		raw, err := hex.DecodeString(t.RawTxHex)
		if err != nil {
			return r, false, fmt.Errorf("anchor %d: replaced transaction %s: %w", r.Seq, txid, err)
		}
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return r, false, fmt.Errorf("anchor %d: replaced transaction %s: %w", r.Seq, txid, err)
		}
		next := r
		next.Txid, next.RawTx, next.Vbytes = txid, raw, vsize(&tx)
		next.Replaced = append(slices.Clone(r.Replaced[:i]), r.Replaced[i+1:]...)
		next.Replaced = append(next.Replaced, r.Txid)
		next.State, next.Height, next.BlockHash, next.UpdatedAt = StateConfirmed, int64(t.BlockHeight), t.BlockHash, now
		if err := a.cfg.Store.Replace(ctx, r.Seq, r.Txid, next); err != nil {
			return r, false, err
		}
		a.cfg.Log.Info("an earlier transaction of the anchor confirmed, not its replacement", "anchor", r.Seq, "txid", txid,
			"height", t.BlockHeight)
		return next, true, a.leaseSeal(ctx, txid)
	}
	return r, false, nil
}

// bumpChild raises r's fee by a child transaction: lnd's sweeper spends
// its change output at Bump.SatPerVbyte within Bump.Budget.
func (a *Anchorer) bumpChild(ctx context.Context, r Record, now int64) (Record, error) {
	p := a.cfg.Bump
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(r.RawTx)); err != nil {
		return r, fmt.Errorf("decode anchor %d: %w", r.Seq, err)
	}
	if len(tx.TxOut) <= changeOutput {
		return r, fmt.Errorf("anchor %d has no change output to pay a child's fee from", r.Seq)
	}
	_, err := a.cfg.Wallet.BumpFee(ctx, &walletrpc.BumpFeeRequest{
		Outpoint:    &lnrpc.OutPoint{TxidStr: r.Txid, OutputIndex: changeOutput},
		SatPerVbyte: p.SatPerVbyte, Immediate: true, Budget: uint64(p.Budget)})
	if err != nil {
		return r, fmt.Errorf("lnd BumpFee of %s:%d: %w", r.Txid, changeOutput, err)
	}
	next := r
	next.UpdatedAt = now
	if err := a.cfg.Store.Move(ctx, r.Seq, StatePublished, next); err != nil {
		return r, err
	}
	a.cfg.Log.Info("anchor stuck unconfirmed: fee bumped by a child transaction", "anchor", r.Seq, "txid", r.Txid,
		"sat_per_vbyte", p.SatPerVbyte, "budget", p.Budget)
	return next, nil
}
