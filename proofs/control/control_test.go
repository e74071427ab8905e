package control_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
)

var challenge = control.Challenge{
	IssuerKey: strings.Repeat("ab", 32),
	Height:    812,
	Hash:      strings.Repeat("0f", 32),
}

// outputs are one reserve output of every script type, the taproot one
// second.
func outputs() []*ct.Output {
	a, b, c := ct.Key("cosigner a"), ct.Key("cosigner b"), ct.Key("cosigner c")
	return []*ct.Output{
		ct.NewOutput(ct.P2WPKH, "wpkh", 0, 50_000, 0, ct.Key("wpkh")),
		ct.NewOutput(ct.P2TR, "tr", 1, 70_000, 0, ct.Key("tr")),
		ct.NewOutput(ct.P2WSH, "wsh", 0, 1_000_000, 2, a, b, c),
		ct.NewOutput(ct.P2PKH, "pkh", 3, 20_000, 0, ct.Key("pkh")),
		ct.NewOutput(ct.P2SHWPKH, "np2wkh", 0, 30_000, 0, ct.Key("np2wkh")),
	}
}

func TestUnspendableScript(t *testing.T) {
	want, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).AddData(btcutil.Hash160([]byte{0})).
		AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	if got := control.UnspendableScript(); hex.EncodeToString(got) != hex.EncodeToString(want) {
		t.Fatalf("UnspendableScript %x, want P2PKH(HASH160(0x00)) %x", got, want)
	}
}

// TestCommitment: the commitment outpoint is SHA-256 of "Proof-of-Reserves:
// " and the message, as the txid's bytes, output 0.
func TestCommitment(t *testing.T) {
	msg := "kosh:" + challenge.IssuerKey + ":812:" + challenge.Hash
	if m := challenge.Message(); m != msg {
		t.Fatalf("message %q, want %q", m, msg)
	}
	sum := sha256.Sum256([]byte("Proof-of-Reserves: " + msg))
	op := challenge.Commitment()
	if op.Index != 0 || string(op.Hash[:]) != string(sum[:]) {
		t.Fatalf("commitment %s, want %x:0 (not reversed)", op, sum)
	}
}

// TestVerifyEveryScriptType proves a proof signed with SIGHASH_ALL over
// every watched script type verifies, input by input.
func TestVerifyEveryScriptType(t *testing.T) {
	outs := outputs()
	p, err := ct.Prove(challenge, outs...)
	if err != nil {
		t.Fatal(err)
	}
	proven, errs := p.Verify()
	if len(errs) != 0 || len(proven) != len(outs) {
		t.Fatalf("proven %v, errors %v", proven, errs)
	}
	for i, o := range outs {
		if proven[i] != o.OutPoint {
			t.Errorf("input %d proves %s, want %s", i+1, proven[i], o.OutPoint)
		}
	}
}

// TestVerifyRefusesProof proves a proof whose shape is wrong proves
// nothing.
func TestVerifyRefusesProof(t *testing.T) {
	cases := []struct {
		name string
		edit func(p *control.Proof)
		want string
	}{
		{"another issuer's challenge", func(p *control.Proof) { p.Challenge.IssuerKey = strings.Repeat("cd", 32) }, "not the commitment"},
		{"another block", func(p *control.Proof) { p.Challenge.Height++ }, "not the commitment"},
		{"commitment not first", func(p *control.Proof) { p.Tx.TxIn[0], p.Tx.TxIn[1] = p.Tx.TxIn[1], p.Tx.TxIn[0] }, "not the commitment"},
		{"commitment signed", func(p *control.Proof) { p.Tx.TxIn[0].Witness = wire.TxWitness{{1}} }, "must be empty"},
		{"two outputs", func(p *control.Proof) { p.Tx.AddTxOut(wire.NewTxOut(0, control.UnspendableScript())) }, "exactly one"},
		{"output pays less", func(p *control.Proof) { p.Tx.TxOut[0].Value-- }, "not the"},
		{"an input twice", func(p *control.Proof) { p.Tx.TxIn[2].PreviousOutPoint = p.Tx.TxIn[1].PreviousOutPoint }, "twice"},
		{"prevouts missing", func(p *control.Proof) { p.PrevOuts = p.PrevOuts[1:] }, "previous outputs"},
		{"no reserve input", func(p *control.Proof) { p.Tx.TxIn = p.Tx.TxIn[:1]; p.PrevOuts = nil }, "inputs"},
		{"a malformed challenge", func(p *control.Proof) { p.Challenge.Hash = "00" }, "hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ct.Prove(challenge, outputs()...)
			if err != nil {
				t.Fatal(err)
			}
			c.edit(p)
			proven, errs := p.Verify()
			if proven != nil || len(errs) != 1 || !errors.Is(errs[0], control.ErrInvalid) || !strings.Contains(errs[0].Error(), c.want) {
				t.Fatalf("proven %v, errors %v; want the proof refused with %q", proven, errs, c.want)
			}
		})
	}
}

// TestVerifyRefusesInputs proves an input that does not prove control is
// refused by itself, naming its output, while the others stay proven;
// and that a taproot signature, which commits to every input's amount and
// script, fails too when another input's listed output is changed.
func TestVerifyRefusesInputs(t *testing.T) {
	resign := func(p *control.Proof, outs []*ct.Output, idx int, ht txscript.SigHashType, n int) {
		if err := ct.Sign(p.Tx, idx+1, outs[idx], ct.Fetcher(p.Tx, outs), ht, n); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		edit   func(p *control.Proof, outs []*ct.Output)
		bad    []int // inputs refused (indexes into outputs())
		reason string
	}{
		{"signed by a key not in the script", func(p *control.Proof, outs []*ct.Output) {
			outs[0].Keys = append(outs[0].Keys[:0:0], ct.Key("somebody else"))
			resign(p, outs, 0, txscript.SigHashAll, 0)
		}, []int{0}, "does not verify"},
		{"one signature of two", func(p *control.Proof, outs []*ct.Output) {
			resign(p, outs, 2, txscript.SigHashAll, 1)
		}, []int{2}, "does not verify"},
		{"unsigned", func(p *control.Proof, _ []*ct.Output) { p.Tx.TxIn[1].Witness = nil }, []int{0}, "does not verify"},
		{"ANYONECANPAY", func(p *control.Proof, outs []*ct.Output) {
			resign(p, outs, 0, txscript.SigHashAll|txscript.SigHashAnyOneCanPay, 0)
		}, []int{0}, "does not commit to the challenge"},
		{"taproot ANYONECANPAY", func(p *control.Proof, outs []*ct.Output) {
			resign(p, outs, 1, txscript.SigHashAll|txscript.SigHashAnyOneCanPay, 0)
		}, []int{1}, "does not commit to the challenge"},
		{"legacy ANYONECANPAY", func(p *control.Proof, outs []*ct.Output) {
			resign(p, outs, 3, txscript.SigHashAll|txscript.SigHashAnyOneCanPay, 0)
		}, []int{3}, "does not commit to the challenge"},
		{"an output anyone can spend", func(p *control.Proof, outs []*ct.Output) {
			anyone := []byte{txscript.OP_TRUE}
			sum := sha256.Sum256(anyone)
			p.PrevOuts[0].Script, _ = txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(sum[:]).Script()
			p.Tx.TxIn[1].Witness = wire.TxWitness{anyone}
		}, []int{0, 1}, "does not commit to the challenge"},
		{"a listed script changed", func(p *control.Proof, _ []*ct.Output) {
			p.PrevOuts[0].Script = outputs()[4].Script
		}, []int{0, 1}, "does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outs := outputs()
			p, err := ct.Prove(challenge, outs...)
			if err != nil {
				t.Fatal(err)
			}
			c.edit(p, outs)
			proven, errs := p.Verify()
			if len(errs) != len(c.bad) || len(proven) != len(outs)-len(c.bad) {
				t.Fatalf("proven %v, errors %v; want inputs %v refused", proven, errs, c.bad)
			}
			var ie *control.InputError
			if !errors.As(errs[0], &ie) || ie.Outpoint != outs[c.bad[0]].OutPoint.String() || !strings.Contains(ie.Reason, c.reason) {
				t.Fatalf("first error %v; want output %s refused with %q", errs[0], outs[c.bad[0]].OutPoint, c.reason)
			}
		})
	}
}
