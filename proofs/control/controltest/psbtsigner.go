package controltest

import (
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
)

// SignPSBT signs every input of p it finds a key for, the way a hardware
// wallet does: only from the PSBT's own fields (witness UTXOs, BIP-32 and
// taproot derivations, witness scripts), deriving each key from the master
// key whose fingerprint the derivation names. It adds partial signatures
// (taproot: the key-spend signature) and finalizes nothing. It returns how
// many signatures it made.
func SignPSBT(p *psbt.Packet, hashType txscript.SigHashType, masters ...*hdkeychain.ExtendedKey) (int, error) {
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for i, in := range p.UnsignedTx.TxIn {
		if u := p.Inputs[i].WitnessUtxo; u != nil {
			fetcher.AddPrevOut(in.PreviousOutPoint, u)
		}
	}
	hashes := txscript.NewTxSigHashes(p.UnsignedTx, fetcher)
	derive := func(fp uint32, path []uint32) (*hdkeychain.ExtendedKey, bool) {
		for _, m := range masters {
			pub, err := m.ECPubKey()
			if err != nil {
				continue
			}
			if binary.LittleEndian.Uint32(btcutil.Hash160(pub.SerializeCompressed())[:4]) != fp {
				continue
			}
			k := m
			for _, step := range path {
				if k, err = k.Derive(step); err != nil {
					return nil, false
				}
			}
			return k, true
		}
		return nil, false
	}
	u, err := psbt.NewUpdater(p)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range p.Inputs {
		in := &p.Inputs[i]
		if in.WitnessUtxo == nil {
			continue
		}
		for _, d := range in.TaprootBip32Derivation {
			k, ok := derive(d.MasterKeyFingerprint, d.Bip32Path)
			if !ok {
				continue
			}
			priv, err := k.ECPrivKey()
			if err != nil {
				return n, err
			}
			if string(schnorr.SerializePubKey(priv.PubKey())) != string(d.XOnlyPubKey) {
				continue
			}
			ht := hashType
			if ht == txscript.SigHashAll {
				ht = txscript.SigHashDefault
			}
			sig, err := txscript.RawTxInTaprootSignature(p.UnsignedTx, hashes, i, in.WitnessUtxo.Value,
				in.WitnessUtxo.PkScript, nil, ht, priv)
			if err != nil {
				return n, fmt.Errorf("sign input %d: %w", i, err)
			}
			in.TaprootKeySpendSig = sig
			n++
		}
		for _, d := range in.Bip32Derivation {
			k, ok := derive(d.MasterKeyFingerprint, d.Bip32Path)
			if !ok {
				continue
			}
			priv, err := k.ECPrivKey()
			if err != nil {
				return n, err
			}
			if string(priv.PubKey().SerializeCompressed()) != string(d.PubKey) {
				continue
			}
			script := in.WitnessScript
			if script == nil {
				script, _ = txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).
					AddData(btcutil.Hash160(d.PubKey)).AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
			}
			sig, err := txscript.RawTxInWitnessSignature(p.UnsignedTx, hashes, i, in.WitnessUtxo.Value, script, hashType, priv)
			if err != nil {
				return n, fmt.Errorf("sign input %d: %w", i, err)
			}
			if _, err := u.Sign(i, sig, d.PubKey, nil, nil); err != nil {
				return n, fmt.Errorf("add signature to input %d: %w", i, err)
			}
			n++
		}
	}
	return n, nil
}
