package anchorer

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// scriptOf is the output script of an address of params' network.
func scriptOf(addr string, params *chaincfg.Params) ([]byte, error) {
	a, err := btcutil.DecodeAddress(addr, params)
	if err != nil {
		return nil, fmt.Errorf("seal address %q: %w", addr, err)
	}
	if !a.IsForNet(params) {
		return nil, fmt.Errorf("seal address %q is not for %s", addr, params.Name)
	}
	return txscript.PayToAddrScript(a)
}

// feeOf is what tx pays in fees: its inputs as the funded PSBT states
// them, less its outputs.
func feeOf(funded []byte, tx *wire.MsgTx) (int64, error) {
	p, err := psbt.NewFromRawBytes(bytes.NewReader(funded), false)
	if err != nil {
		return 0, fmt.Errorf("decode the funded anchor: %w", err)
	}
	var in, out int64
	for i, pin := range p.Inputs {
		switch {
		case pin.WitnessUtxo != nil:
			in += pin.WitnessUtxo.Value
		case pin.NonWitnessUtxo != nil:
			in += pin.NonWitnessUtxo.TxOut[p.UnsignedTx.TxIn[i].PreviousOutPoint.Index].Value
		default:
			return 0, fmt.Errorf("the funded anchor's input %d states no value", i)
		}
	}
	for _, o := range tx.TxOut {
		out += o.Value
	}
	if in < out {
		return 0, fmt.Errorf("the funded anchor spends %d sats but pays out %d", in, out)
	}
	return in - out, nil
}

// vsize is tx's virtual size in vbytes.
func vsize(tx *wire.MsgTx) int64 {
	w := blockchain.GetTransactionWeight(btcutil.NewTx(tx))
	return (w + blockchain.WitnessScaleFactor - 1) / blockchain.WitnessScaleFactor
}
