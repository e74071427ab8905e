package control

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Prefix starts the commitment message of every BIP-127 proof.
const Prefix = "Proof-of-Reserves: "

// MaxInputs bounds the reserve inputs of one proof.
const MaxInputs = 100_000

// MaxTxSize bounds a proof transaction's serialized size, in bytes.
const MaxTxSize = 16 << 20

// ErrInvalid is wrapped by every failure of Verify.
var ErrInvalid = errors.New("invalid proof of control")

// Challenge is what a proof commits to: the issuer it is made for and a
// block it could not have been made before.
type Challenge struct {
	// IssuerKey is the issuer's BIP-340 x-only key, 64 lower-case hex.
	IssuerKey string
	// Height and Hash name the block; Hash in the usual (byte-reversed)
	// hex form.
	Height int64
	Hash   string
}

// Message is the proof's commitment message:
//
//	"kosh:" ‖ issuer key (64 hex) ‖ ":" ‖ height (decimal) ‖ ":" ‖ block hash (64 hex)
func (c Challenge) Message() string {
	return "kosh:" + c.IssuerKey + ":" + strconv.FormatInt(c.Height, 10) + ":" + c.Hash
}

// Commitment is the outpoint the commitment input spends: the bytes of
// SHA256(Prefix ‖ Message) as the transaction id, as serialized (not
// reversed), and output 0.
func (c Challenge) Commitment() wire.OutPoint {
	return wire.OutPoint{Hash: chainhash.Hash(sha256.Sum256([]byte(Prefix + c.Message()))), Index: 0}
}

// check validates the challenge's fields.
func (c Challenge) check() error {
	if !isLowerHex(c.IssuerKey, 64) {
		return fmt.Errorf("issuer key %q is not 64 lower-case hex digits", c.IssuerKey)
	}
	if c.Height < 0 {
		return fmt.Errorf("challenge block height %d is negative", c.Height)
	}
	if !isLowerHex(c.Hash, 64) {
		return fmt.Errorf("challenge block hash %q is not 64 lower-case hex digits", c.Hash)
	}
	return nil
}

// CommitmentPrevOut is the output the commitment input is taken to spend:
// 0 sats to OP_TRUE, as BIP-127's PSBT extension and bdk-reserves have it.
// Signature hashes that commit to every input's amount and script (BIP-341)
// are computed with it.
func CommitmentPrevOut() *wire.TxOut { return wire.NewTxOut(0, []byte{txscript.OP_TRUE}) }

// UnspendableScript is the script koshd pays a proof's output to:
// P2PKH of HASH160(0x00), as bdk-reserves does. Verify accepts any script.
func UnspendableScript() []byte {
	return []byte{txscript.OP_DUP, txscript.OP_HASH160, 0x14,
		0x9f, 0x7f, 0xd0, 0x96, 0xd3, 0x7e, 0xd2, 0xc0, 0xe3, 0xf7, 0xf0, 0xcf, 0xc9, 0x24, 0xbe, 0xef, 0x4f, 0xfc, 0xeb, 0x68,
		txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG}
}

// PrevOut is the output one input of a proof spends.
type PrevOut struct {
	Value  int64
	Script []byte
}

// Proof is a proof of control: the signed transaction, the challenge its
// commitment input commits to, and the outputs its other inputs spend, in
// input order (PrevOuts[i] is spent by Tx.TxIn[i+1]).
type Proof struct {
	Challenge Challenge
	Tx        *wire.MsgTx
	PrevOuts  []PrevOut
}

// Decode parses a proof transaction from its hex serialization (with
// witnesses).
func Decode(txHex string) (*wire.MsgTx, error) {
	if len(txHex) > 2*MaxTxSize {
		return nil, fmt.Errorf("%w: the transaction is more than %d bytes", ErrInvalid, MaxTxSize)
	}
	b, err := hex.DecodeString(txHex)
	if err != nil || hex.EncodeToString(b) != txHex {
		return nil, fmt.Errorf("%w: the transaction is not lower-case hex", ErrInvalid)
	}
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("%w: the transaction does not decode: %v", ErrInvalid, err)
	}
	var again bytes.Buffer
	if err := tx.Serialize(&again); err != nil || !bytes.Equal(again.Bytes(), b) {
		return nil, fmt.Errorf("%w: the transaction has trailing or non-canonical bytes", ErrInvalid)
	}
	return tx, nil
}

// Encode returns the hex serialization of tx, with witnesses.
func Encode(tx *wire.MsgTx) (string, error) {
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b.Bytes()), nil
}

// InputError says why one input of a proof proves nothing.
type InputError struct {
	// Outpoint is the output the input spends, "txid:vout".
	Outpoint string
	// Reason is a plain English clause, the same in every implementation:
	// ReasonScript or ReasonCommit.
	Reason string
	// Detail is the script interpreter's own message, if any.
	Detail string
}

// The reasons an input proves nothing.
const (
	// ReasonScript: the input does not satisfy its previous output's script.
	ReasonScript = "does not verify against its script"
	// ReasonCommit: the input verifies whatever the commitment input spends.
	ReasonCommit = "does not commit to the challenge (a SIGHASH_ANYONECANPAY signature, or a script anyone can satisfy)"
)

func (e *InputError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("the proof's signature for output %s %s (%s)", e.Outpoint, e.Reason, e.Detail)
	}
	return fmt.Sprintf("the proof's signature for output %s %s", e.Outpoint, e.Reason)
}

func (e *InputError) Unwrap() error { return ErrInvalid }

// parallelChunk is how many inputs a worker of Verify takes at a time.
const parallelChunk = 32

// Verify checks the proof and returns the outpoints it proves control of,
// in input order, and an error for the proof as a whole (its shape: then
// nothing is proven) or one InputError per input that does not verify
// (then the other inputs are still proven). Errors wrap ErrInvalid.
func (p *Proof) Verify() (proven []wire.OutPoint, errs []error) {
	if err := p.checkShape(); err != nil {
		return nil, []error{err}
	}
	tx := p.Tx
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	fetcher.AddPrevOut(tx.TxIn[0].PreviousOutPoint, CommitmentPrevOut())
	for i, po := range p.PrevOuts {
		fetcher.AddPrevOut(tx.TxIn[i+1].PreviousOutPoint, wire.NewTxOut(po.Value, po.Script))
	}
	hashes := txscript.NewTxSigHashes(tx, fetcher)

	// The same transaction committing to another challenge: every
	// signature that still verifies on it does not commit to this one.
	moved := tx.Copy()
	moved.TxIn[0].PreviousOutPoint.Index = 1
	movedFetcher := txscript.NewMultiPrevOutFetcher(nil)
	movedFetcher.AddPrevOut(moved.TxIn[0].PreviousOutPoint, CommitmentPrevOut())
	for i, po := range p.PrevOuts {
		movedFetcher.AddPrevOut(moved.TxIn[i+1].PreviousOutPoint, wire.NewTxOut(po.Value, po.Script))
	}
	movedHashes := txscript.NewTxSigHashes(moved, movedFetcher)

	// Inputs are independent: check them on every core, as btcd checks a
	// block's inputs, then report in input order.
	verdicts := make([]error, len(p.PrevOuts))
	check := func(i int) {
		po, in := p.PrevOuts[i], i+1
		op := tx.TxIn[in].PreviousOutPoint.String()
		vm, err := txscript.NewEngine(po.Script, tx, in, txscript.StandardVerifyFlags, nil, hashes, po.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			verdicts[i] = &InputError{Outpoint: op, Reason: ReasonScript, Detail: err.Error()}
			return
		}
		vm, err = txscript.NewEngine(po.Script, moved, in, txscript.StandardVerifyFlags, nil, movedHashes, po.Value, movedFetcher)
		if err == nil && vm.Execute() == nil {
			verdicts[i] = &InputError{Outpoint: op, Reason: ReasonCommit}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(p.PrevOuts)+parallelChunk-1)/parallelChunk)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(parallelChunk)) - parallelChunk
				if start >= len(p.PrevOuts) {
					return
				}
				for i := start; i < min(start+parallelChunk, len(p.PrevOuts)); i++ {
					check(i)
				}
			}
		}()
	}
	wg.Wait()
	for i, v := range verdicts {
		if v != nil {
			errs = append(errs, v)
			continue
		}
		proven = append(proven, tx.TxIn[i+1].PreviousOutPoint)
	}
	return proven, errs
}

// checkShape checks everything but the inputs' scripts.
func (p *Proof) checkShape() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if err := p.Challenge.check(); err != nil {
		return bad("%v", err)
	}
	tx := p.Tx
	if tx == nil {
		return bad("there is no transaction")
	}
	if len(tx.TxIn) < 2 || len(tx.TxIn)-1 > MaxInputs {
		return bad("the transaction has %d inputs; a proof has the commitment input and 1 to %d reserve inputs", len(tx.TxIn), MaxInputs)
	}
	if len(p.PrevOuts) != len(tx.TxIn)-1 {
		return bad("the proof lists %d previous outputs for %d reserve inputs", len(p.PrevOuts), len(tx.TxIn)-1)
	}
	c := tx.TxIn[0]
	if want := p.Challenge.Commitment(); c.PreviousOutPoint != want {
		return bad("its first input spends %s, not the commitment %s to %q", c.PreviousOutPoint, want, p.Challenge.Message())
	}
	if len(c.SignatureScript) != 0 || len(c.Witness) != 0 {
		return bad("its commitment input carries a script or witness; it must be empty")
	}
	seen := map[wire.OutPoint]bool{c.PreviousOutPoint: true}
	var total int64
	for i, in := range tx.TxIn[1:] {
		if seen[in.PreviousOutPoint] {
			return bad("it spends %s twice, or spends the commitment outpoint", in.PreviousOutPoint)
		}
		seen[in.PreviousOutPoint] = true
		v := p.PrevOuts[i].Value
		if v <= 0 || v > 21_000_000*100_000_000 {
			return bad("the output %s it spends has value %d, not 1 sat to 21 million BTC", in.PreviousOutPoint, v)
		}
		total += v // bounded: 100,000 inputs of at most 2.1e15
	}
	if len(tx.TxOut) != 1 {
		return bad("the transaction has %d outputs; a proof has exactly one", len(tx.TxOut))
	}
	if tx.TxOut[0].Value != total {
		return bad("its output pays %d sats, not the %d sats its reserve inputs hold", tx.TxOut[0].Value, total)
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
