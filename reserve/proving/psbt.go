package proving

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// PORCommitmentType is BIP-127's PSBT input field holding the commitment
// message, so that a signer that knows it can show what it signs.
const PORCommitmentType = 0x09

// Output is a reserve output to prove, as the chain watcher or an lnd node
// knows it.
type Output struct {
	OutPoint wire.OutPoint
	Value    int64
	PkScript []byte
	// Descriptor and Index, when the output was matched by a descriptor:
	// the PSBT then carries the key derivations a signer looks for.
	Descriptor *descriptor.Descriptor
	Index      uint32
}

// Unsigned builds the proof PSBT over outs for challenge ch: the
// commitment input (witness UTXO 0 sats to OP_TRUE, an empty final
// scriptSig, BIP-127's commitment field), one input per output with its
// witness UTXO and key derivations, one output paying the total to
// control.UnspendableScript.
func Unsigned(ch control.Challenge, outs []Output) (*psbt.Packet, error) {
	if len(outs) == 0 {
		return nil, errors.New("no output to prove")
	}
	if len(outs) > control.MaxInputs {
		return nil, fmt.Errorf("%d outputs are more than one proof holds (%d): prove them in parts", len(outs), control.MaxInputs)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(ptr(ch.Commitment()), nil, nil))
	var total int64
	for _, o := range outs {
		tx.AddTxIn(wire.NewTxIn(ptr(o.OutPoint), nil, nil))
		total += o.Value
	}
	tx.AddTxOut(wire.NewTxOut(total, control.UnspendableScript()))
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		return nil, fmt.Errorf("build the proof PSBT: %w", err)
	}
	p.Inputs[0].WitnessUtxo = control.CommitmentPrevOut()
	p.Inputs[0].FinalScriptSig = []byte{}
	p.Inputs[0].Unknowns = []*psbt.Unknown{{Key: []byte{PORCommitmentType}, Value: []byte(ch.Message())}}
	for i, o := range outs {
		in := &p.Inputs[i+1]
		in.WitnessUtxo = wire.NewTxOut(o.Value, o.PkScript)
		in.SighashType = txscript.SigHashAll
		if err := addDerivations(in, o); err != nil {
			return nil, fmt.Errorf("output %s: %w", o.OutPoint, err)
		}
	}
	return p, nil
}

func ptr[T any](v T) *T { return &v }

// addDerivations adds what a signer needs to find its keys for o.
func addDerivations(in *psbt.PInput, o Output) error {
	d := o.Descriptor
	if d == nil {
		return nil
	}
	keys, err := d.Keys(o.Index)
	if err != nil {
		return err
	}
	switch d.Type() {
	case descriptor.TypeWPKH:
		for _, k := range keys {
			in.Bip32Derivation = append(in.Bip32Derivation, &psbt.Bip32Derivation{PubKey: k.PubKey.SerializeCompressed(),
				MasterKeyFingerprint: k.Fingerprint, Bip32Path: k.Path})
		}
	case descriptor.TypeTR:
		in.SighashType = txscript.SigHashDefault
		k := keys[0]
		x := schnorr.SerializePubKey(k.PubKey)
		in.TaprootInternalKey = x
		in.TaprootBip32Derivation = append(in.TaprootBip32Derivation, &psbt.TaprootBip32Derivation{XOnlyPubKey: x,
			MasterKeyFingerprint: k.Fingerprint, Bip32Path: k.Path})
	case descriptor.TypeWSHSortedMulti:
		ws, err := d.WitnessScript(o.Index)
		if err != nil {
			return err
		}
		in.WitnessScript = ws
		for _, k := range keys {
			in.Bip32Derivation = append(in.Bip32Derivation, &psbt.Bip32Derivation{PubKey: k.PubKey.SerializeCompressed(),
				MasterKeyFingerprint: k.Fingerprint, Bip32Path: k.Path})
		}
		sort.Sort(psbt.Bip32Sorter(in.Bip32Derivation))
	}
	return nil
}

// Encode returns the PSBT in base64, as signers exchange it.
func Encode(p *psbt.Packet) (string, error) { return p.B64Encode() }

// DecodePSBT reads a signed proof as a signer returns it: a PSBT in base64
// or raw, or the final transaction in hex (some signers return that once
// every input they know is signed).
func DecodePSBT(b []byte) (*psbt.Packet, error) {
	t := bytes.TrimSpace(b)
	if bytes.HasPrefix(t, []byte("psbt\xff")) {
		return psbt.NewFromRawBytes(bytes.NewReader(t), false)
	}
	if raw, err := hex.DecodeString(string(t)); err == nil {
		tx := new(wire.MsgTx)
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("hex that is not a transaction: %w", err)
		}
		return packetFromTx(tx)
	}
	if _, err := base64.StdEncoding.DecodeString(string(t)); err != nil {
		return nil, fmt.Errorf("not a PSBT (neither raw nor base64) nor a transaction in hex")
	}
	return psbt.NewFromRawBytes(bytes.NewReader(t), true)
}

// packetFromTx makes a PSBT whose inputs are final with tx's scripts and
// witnesses.
func packetFromTx(tx *wire.MsgTx) (*psbt.Packet, error) {
	bare := tx.Copy()
	for _, in := range bare.TxIn {
		in.SignatureScript, in.Witness = nil, nil
	}
	p, err := psbt.NewFromUnsignedTx(bare)
	if err != nil {
		return nil, err
	}
	for i, in := range tx.TxIn {
		if len(in.SignatureScript) > 0 {
			p.Inputs[i].FinalScriptSig = in.SignatureScript
		}
		if len(in.Witness) > 0 {
			var w bytes.Buffer
			if err := psbt.WriteTxWitness(&w, in.Witness); err != nil {
				return nil, err
			}
			p.Inputs[i].FinalScriptWitness = w.Bytes()
		}
	}
	return p, nil
}

// Watched looks up an output koshd watches as reserves (chain watcher or
// an lnd node's wallet); ok is false for anything else.
type Watched func(outpoint string) (Output, bool)

// ImportResult is what an import proved.
type ImportResult struct {
	Proof *Proof
	// Outputs are the outpoints now proven, in input order.
	Outputs []string
}

// Import checks signed PSBTs of one proof (several when cosigners signed
// separately: their signatures are combined) and stores the proof. It
// refuses, naming each output and why: a commitment to no challenge koshd
// issued in the last MaxAge blocks (another issuer's proof, an old one, or
// not a proof), an input that spends no output koshd watches, an input not
// signed, or signed by too few keys, and a signature that does not verify
// or does not commit to the challenge.
func (b *Book) Import(ctx context.Context, psbts []*psbt.Packet, watched Watched, source string) (ImportResult, error) {
	if len(psbts) == 0 {
		return ImportResult{}, fmt.Errorf("%w: no PSBT given", ErrRefused)
	}
	p, err := combine(psbts)
	if err != nil {
		return ImportResult{}, err
	}
	tx := p.UnsignedTx
	if len(tx.TxIn) < 2 {
		return ImportResult{}, fmt.Errorf("%w: the PSBT has %d inputs; a proof has a commitment input and the outputs to prove", ErrRefused, len(tx.TxIn))
	}
	ch, err := b.challengeOf(ctx, tx.TxIn[0].PreviousOutPoint)
	if err != nil {
		return ImportResult{}, err
	}
	var problems []string
	proof := &control.Proof{Challenge: ch}
	for i, in := range tx.TxIn[1:] {
		op := in.PreviousOutPoint.String()
		o, ok := watched(op)
		if !ok {
			problems = append(problems, fmt.Sprintf("output %s is not a reserve output koshd watches (spent, unknown, or somebody else's)", op))
			continue
		}
		proof.PrevOuts = append(proof.PrevOuts, control.PrevOut{Value: o.Value, Script: o.PkScript})
		// Sign against what koshd knows of the output, not the PSBT's word.
		p.Inputs[i+1].WitnessUtxo = wire.NewTxOut(o.Value, o.PkScript)
		if why := finalize(p, i+1); why != "" {
			problems = append(problems, fmt.Sprintf("output %s %s", op, why))
		}
	}
	if len(problems) > 0 {
		return ImportResult{}, fmt.Errorf("%w: %s", ErrRefused, strings.Join(problems, "; "))
	}
	// The commitment input carries nothing.
	p.Inputs[0].FinalScriptSig, p.Inputs[0].FinalScriptWitness = []byte{}, nil
	final, err := psbt.Extract(p)
	if err != nil {
		return ImportResult{}, fmt.Errorf("%w: the signed transaction cannot be extracted: %v", ErrRefused, err)
	}
	proof.Tx = final
	stored, err := b.Add(ctx, proof, source)
	if err != nil {
		return ImportResult{}, describe(err)
	}
	res := ImportResult{Proof: stored}
	for _, in := range final.TxIn[1:] {
		res.Outputs = append(res.Outputs, in.PreviousOutPoint.String())
	}
	return res, nil
}

// describe turns a verification failure into the import's message.
func describe(err error) error {
	var ie *control.InputError
	if errors.As(err, &ie) {
		var parts []string
		for _, e := range unjoin(err) {
			if errors.As(e, &ie) {
				s := "output " + ie.Outpoint + ": the signature " + ie.Reason
				if ie.Detail != "" {
					s += " (" + ie.Detail + ")"
				}
				if ie.Reason == control.ReasonScript {
					s += "; was it signed by a key of this output's script?"
				}
				parts = append(parts, s)
			}
		}
		return fmt.Errorf("%w: %s", ErrRefused, strings.Join(parts, "; "))
	}
	return err
}

func unjoin(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if _, ok := e.(*control.InputError); ok {
			out = append(out, e)
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
		}
	}
	walk(err)
	return out
}

// challengeOf finds which recent block of the chain watcher the commitment
// outpoint commits to.
func (b *Book) challengeOf(ctx context.Context, op wire.OutPoint) (control.Challenge, error) {
	blocks, err := b.cfg.DB.RecentBlocks(ctx, b.cfg.MaxAge)
	if errors.Is(err, ErrNoBlocks) {
		return control.Challenge{}, fmt.Errorf("%w: the chain watcher has seen no block yet, so no challenge can be checked", ErrRefused)
	}
	if err != nil {
		return control.Challenge{}, err
	}
	ch, ok := findChallenge(b.cfg.IssuerKey, op, blocks)
	if !ok {
		return control.Challenge{}, fmt.Errorf("%w: its first input (%s) commits to no challenge for this issuer (key %s) at any of the last %d blocks: "+
			"it is another issuer's proof, older than the proof age, or not a proof exported by koshd; export a new one", ErrRefused, op, b.cfg.IssuerKey, b.cfg.MaxAge)
	}
	return ch, nil
}

// finalize makes input i final from its signatures, unless it is already,
// and returns why it cannot ("" when it is final).
func finalize(p *psbt.Packet, i int) string {
	in := &p.Inputs[i]
	if in.FinalScriptWitness != nil || len(in.FinalScriptSig) > 0 {
		return ""
	}
	if len(in.PartialSigs) == 0 && in.TaprootKeySpendSig == nil && len(in.TaprootScriptSpendSig) == 0 {
		return "is not signed"
	}
	if in.WitnessScript != nil {
		if _, m, err := txscript.CalcMultiSigStats(in.WitnessScript); err == nil {
			n, _, _ := txscript.CalcMultiSigStats(in.WitnessScript)
			if len(in.PartialSigs) < m {
				return fmt.Sprintf("has %d of the %d signatures its %d-of-%d multisig needs: sign with another cosigner and import all the signed PSBTs together",
					len(in.PartialSigs), m, m, n)
			}
			keepSigs(in, m)
		}
	}
	if _, err := psbt.MaybeFinalize(p, i); err != nil {
		if errors.Is(err, psbt.ErrInvalidSigHashFlags) {
			return "is signed with a signature hash type other than SIGHASH_ALL: sign with SIGHASH_ALL, so the signature commits to the challenge"
		}
		return "cannot be finalized from its signatures: " + err.Error()
	}
	return ""
}

// keepSigs keeps the first m partial signatures in the order of the keys in
// the witness script (OP_CHECKMULTISIG takes exactly m).
func keepSigs(in *psbt.PInput, m int) {
	if len(in.PartialSigs) <= m {
		return
	}
	pos := func(pub []byte) int {
		return bytes.Index(in.WitnessScript, pub)
	}
	sort.Slice(in.PartialSigs, func(a, b int) bool { return pos(in.PartialSigs[a].PubKey) < pos(in.PartialSigs[b].PubKey) })
	in.PartialSigs = in.PartialSigs[:m]
}

// combine merges the signatures of PSBTs of the same transaction.
func combine(ps []*psbt.Packet) (*psbt.Packet, error) {
	base := ps[0]
	want := base.UnsignedTx.TxHash()
	for k, p := range ps[1:] {
		if p.UnsignedTx.TxHash() != want {
			return nil, fmt.Errorf("%w: PSBT %d is of another transaction than PSBT 1: combine signed copies of one export", ErrRefused, k+2)
		}
		for i := range p.Inputs {
			src, dst := &p.Inputs[i], &base.Inputs[i]
			for _, s := range src.PartialSigs {
				dup := false
				for _, d := range dst.PartialSigs {
					dup = dup || bytes.Equal(d.PubKey, s.PubKey)
				}
				if !dup {
					dst.PartialSigs = append(dst.PartialSigs, s)
				}
			}
			if dst.TaprootKeySpendSig == nil {
				dst.TaprootKeySpendSig = src.TaprootKeySpendSig
			}
			if dst.FinalScriptWitness == nil && len(dst.FinalScriptSig) == 0 {
				dst.FinalScriptWitness, dst.FinalScriptSig = src.FinalScriptWitness, src.FinalScriptSig
			}
			if dst.WitnessScript == nil {
				dst.WitnessScript = src.WitnessScript
			}
			if dst.RedeemScript == nil {
				dst.RedeemScript = src.RedeemScript
			}
		}
	}
	return base, nil
}
