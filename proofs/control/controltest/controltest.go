// Package controltest makes reserve outputs of every script type Kosh
// watches and signs proofs of control over them with btcd's txscript, for
// tests and test vectors. It is a signer written for Kosh's tests; the
// integration tests also sign with Electrum and lnd.
package controltest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
)

// Key returns a private key derived from label: SHA-256 of the label.
// Never use such keys for anything but tests.
func Key(label string) *btcec.PrivateKey {
	s := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(s[:])
	return k
}

// Kind is a script type.
type Kind int

// The script types.
const (
	P2WPKH   Kind = iota // wpkh(key)
	P2TR                 // tr(key), key path
	P2WSH                // wsh(sortedmulti(M, keys...))
	P2PKH                // pkh(key), legacy
	P2SHWPKH             // sh(wpkh(key)), as lnd's np2wkh addresses
)

// Output is a reserve output and what can spend it.
type Output struct {
	Kind     Kind
	OutPoint wire.OutPoint
	Value    int64
	Script   []byte
	// Keys hold the private keys: one, or every cosigner's for P2WSH.
	Keys []*btcec.PrivateKey
	// M is the threshold of a P2WSH multisig.
	M int
	// Witness is the P2WSH witness script; Redeem the P2SH redeem script.
	Witness, Redeem []byte
}

// NewOutput makes an output of kind with the given keys (a P2WSH needs m
// and its keys), value and outpoint (txid from label).
func NewOutput(kind Kind, label string, vout uint32, value int64, m int, keys ...*btcec.PrivateKey) *Output {
	o := &Output{Kind: kind, Value: value, Keys: keys, M: m,
		OutPoint: wire.OutPoint{Hash: chainhash.Hash(sha256.Sum256([]byte("tx:" + label))), Index: vout}}
	pub := keys[0].PubKey().SerializeCompressed()
	b := txscript.NewScriptBuilder
	switch kind {
	case P2WPKH:
		o.Script, _ = b().AddOp(txscript.OP_0).AddData(btcutil.Hash160(pub)).Script()
	case P2PKH:
		o.Script, _ = b().AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).AddData(btcutil.Hash160(pub)).
			AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	case P2SHWPKH:
		o.Redeem, _ = b().AddOp(txscript.OP_0).AddData(btcutil.Hash160(pub)).Script()
		o.Script, _ = b().AddOp(txscript.OP_HASH160).AddData(btcutil.Hash160(o.Redeem)).AddOp(txscript.OP_EQUAL).Script()
	case P2TR:
		out := txscript.ComputeTaprootKeyNoScript(keys[0].PubKey())
		o.Script, _ = txscript.PayToTaprootScript(out)
	case P2WSH:
		pubs := make([][]byte, len(keys))
		for i, k := range keys {
			pubs[i] = k.PubKey().SerializeCompressed()
		}
		sort.Slice(pubs, func(i, j int) bool { return string(pubs[i]) < string(pubs[j]) })
		sb := b().AddInt64(int64(m))
		for _, p := range pubs {
			sb.AddData(p)
		}
		o.Witness, _ = sb.AddInt64(int64(len(keys))).AddOp(txscript.OP_CHECKMULTISIG).Script()
		h := sha256.Sum256(o.Witness)
		o.Script, _ = b().AddOp(txscript.OP_0).AddData(h[:]).Script()
	}
	return o
}

// PrevOut returns the output as a proof lists it.
func (o *Output) PrevOut() control.PrevOut { return control.PrevOut{Value: o.Value, Script: o.Script} }

// Unsigned builds the unsigned proof transaction over outs for ch.
func Unsigned(ch control.Challenge, outs []*Output) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(ptr(ch.Commitment()), nil, nil))
	var total int64
	for _, o := range outs {
		tx.AddTxIn(wire.NewTxIn(ptr(o.OutPoint), nil, nil))
		total += o.Value
	}
	tx.AddTxOut(wire.NewTxOut(total, control.UnspendableScript()))
	return tx
}

func ptr[T any](v T) *T { return &v }

// Fetcher returns the previous-output fetcher of a proof over outs.
func Fetcher(tx *wire.MsgTx, outs []*Output) *txscript.MultiPrevOutFetcher {
	f := txscript.NewMultiPrevOutFetcher(nil)
	f.AddPrevOut(tx.TxIn[0].PreviousOutPoint, control.CommitmentPrevOut())
	for i, o := range outs {
		f.AddPrevOut(tx.TxIn[i+1].PreviousOutPoint, wire.NewTxOut(o.Value, o.Script))
	}
	return f
}

// Sign signs input idx (spending o) of tx with SIGHASH_ALL (taproot:
// SIGHASH_DEFAULT), using o's first n keys (n = 0: all, or M for P2WSH).
func Sign(tx *wire.MsgTx, idx int, o *Output, fetcher txscript.PrevOutputFetcher, hashType txscript.SigHashType, n int) error {
	return signWith(tx, idx, o, txscript.NewTxSigHashes(tx, fetcher), hashType, n)
}

// signWith is Sign with the transaction's signature hash midstate
// computed once: it depends on the inputs and outputs, not on the
// witnesses, so one serves every input of a proof (recomputing it per
// input makes signing a proof of n inputs take time in n²).
func signWith(tx *wire.MsgTx, idx int, o *Output, hashes *txscript.TxSigHashes, hashType txscript.SigHashType, n int) error {
	in := tx.TxIn[idx]
	switch o.Kind {
	case P2WPKH:
		w, err := txscript.WitnessSignature(tx, hashes, idx, o.Value, o.Script, hashType, o.Keys[0], true)
		if err != nil {
			return err
		}
		in.Witness = w
	case P2SHWPKH:
		w, err := txscript.WitnessSignature(tx, hashes, idx, o.Value, o.Redeem, hashType, o.Keys[0], true)
		if err != nil {
			return err
		}
		in.Witness = w
		in.SignatureScript, _ = txscript.NewScriptBuilder().AddData(o.Redeem).Script()
	case P2PKH:
		s, err := txscript.SignatureScript(tx, idx, o.Script, hashType, o.Keys[0], true)
		if err != nil {
			return err
		}
		in.SignatureScript = s
	case P2TR:
		if hashType == txscript.SigHashAll {
			hashType = txscript.SigHashDefault
		}
		w, err := txscript.TaprootWitnessSignature(tx, hashes, idx, o.Value, o.Script, hashType, o.Keys[0])
		if err != nil {
			return err
		}
		in.Witness = w
	case P2WSH:
		if n == 0 {
			n = o.M
		}
		// The first n keys sign, in the order of the keys in the script.
		signers := o.Keys[:min(n, len(o.Keys))]
		var sigs [][]byte
		for _, k := range sortedKeys(o.Keys) {
			if !contains(signers, k) {
				continue
			}
			s, err := txscript.RawTxInWitnessSignature(tx, hashes, idx, o.Value, o.Witness, hashType, k)
			if err != nil {
				return err
			}
			sigs = append(sigs, s)
		}
		w := wire.TxWitness{nil}
		w = append(w, sigs...)
		in.Witness = append(w, o.Witness)
	default:
		return fmt.Errorf("unknown kind %d", o.Kind)
	}
	return nil
}

func sortedKeys(keys []*btcec.PrivateKey) []*btcec.PrivateKey {
	out := append([]*btcec.PrivateKey(nil), keys...)
	sort.Slice(out, func(i, j int) bool {
		return string(out[i].PubKey().SerializeCompressed()) < string(out[j].PubKey().SerializeCompressed())
	})
	return out
}

func contains(keys []*btcec.PrivateKey, k *btcec.PrivateKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// Prove builds and signs a proof over outs for ch with SIGHASH_ALL.
func Prove(ch control.Challenge, outs ...*Output) (*control.Proof, error) {
	tx := Unsigned(ch, outs)
	hashes := txscript.NewTxSigHashes(tx, Fetcher(tx, outs))
	for i, o := range outs {
		if err := signWith(tx, i+1, o, hashes, txscript.SigHashAll, 0); err != nil {
			return nil, err
		}
	}
	p := &control.Proof{Challenge: ch, Tx: tx}
	for _, o := range outs {
		p.PrevOuts = append(p.PrevOuts, o.PrevOut())
	}
	return p, nil
}

// Mixed makes n outputs of value sats each, a third each of P2WPKH, P2TR
// (key path) and P2WSH 2-of-3 sortedmulti, in turn, every one with its own
// keys (derived from label and its number) and an outpoint of its own
// (txid from label, vout its number).
func Mixed(label string, n int, value int64) []*Output {
	outs := make([]*Output, n)
	for i := range outs {
		l := fmt.Sprintf("%s %d", label, i)
		switch i % 3 {
		case 0:
			outs[i] = NewOutput(P2WPKH, label, uint32(i), value, 0, Key(l))
		case 1:
			outs[i] = NewOutput(P2TR, label, uint32(i), value, 0, Key(l))
		default:
			outs[i] = NewOutput(P2WSH, label, uint32(i), value, 2, Key(l+" a"), Key(l+" b"), Key(l+" c"))
		}
	}
	return outs
}

// Descriptor returns the output descriptor (without checksum) that
// derives o's script from its public keys: wpkh(K), tr(X), wsh(sortedmulti(M,K...)),
// pkh(K) or sh(wpkh(K)).
func (o *Output) Descriptor() string {
	pub := func(k *btcec.PrivateKey) string { return hex.EncodeToString(k.PubKey().SerializeCompressed()) }
	switch o.Kind {
	case P2WPKH:
		return "wpkh(" + pub(o.Keys[0]) + ")"
	case P2TR:
		return "tr(" + hex.EncodeToString(schnorr.SerializePubKey(o.Keys[0].PubKey())) + ")"
	case P2WSH:
		keys := make([]string, len(o.Keys))
		for i, k := range o.Keys {
			keys[i] = pub(k)
		}
		return fmt.Sprintf("wsh(sortedmulti(%d,%s))", o.M, strings.Join(keys, ","))
	case P2PKH:
		return "pkh(" + pub(o.Keys[0]) + ")"
	case P2SHWPKH:
		return "sh(wpkh(" + pub(o.Keys[0]) + "))"
	}
	return ""
}
