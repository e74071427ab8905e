package anchor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Magic starts every anchor payload.
const Magic = "KOSH"

// Version is the payload version this package writes and reads.
const Version = 1

// PayloadSize is the length of an anchor payload.
const PayloadSize = len(Magic) + 1 + 8 + 32 + 4

// CommitmentOutput is the index of the OP_RETURN output of an anchor
// transaction; SealOutput is the index of its seal, the output the next
// anchor spends.
const (
	CommitmentOutput = 0
	SealOutput       = 1
)

// ErrNotAnchor means a script or transaction carries no Kosh anchor.
var ErrNotAnchor = errors.New("not a kosh anchor")

var anchorTag = taghash.New(taghash.TagAnchor)

// Commit is the commitment an anchor carries for the attestation id at seq
// of the issuer's chain.
func Commit(issuerKey [32]byte, seq uint64, id [32]byte) [32]byte {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	return anchorTag.Sum(issuerKey[:], s[:], id[:])
}

// Payload is what an anchor's OP_RETURN output holds.
type Payload struct {
	// Seq is the attestation the anchor commits to.
	Seq uint64
	// Commitment is Commit(issuer key, Seq, id of attestation Seq).
	Commitment [32]byte
	// PrevHeight is the block height of the previous anchor; 0 marks the
	// genesis anchor, which spends no seal.
	PrevHeight uint32
}

// Encode returns the payload's 49 bytes.
func (p Payload) Encode() []byte {
	b := make([]byte, 0, PayloadSize)
	b = append(b, Magic...)
	b = append(b, Version)
	b = binary.BigEndian.AppendUint64(b, p.Seq)
	b = append(b, p.Commitment[:]...)
	b = binary.BigEndian.AppendUint32(b, p.PrevHeight)
	return b
}

// Script returns the OP_RETURN script carrying the payload.
func (p Payload) Script() []byte {
	s, err := txscript.NullDataScript(p.Encode())
	if err != nil { // 49 bytes are always within the 80-byte limit
		panic(fmt.Sprintf("anchor script: %v", err))
	}
	return s
}

// ParseScript decodes an anchor payload from an output script: exactly
// OP_RETURN followed by one push of the 49 payload bytes. Anything else is
// ErrNotAnchor, or an error naming what is wrong when the script starts
// like an anchor.
func ParseScript(script []byte) (Payload, error) {
	if len(script) != 2+PayloadSize || script[0] != txscript.OP_RETURN || script[1] != byte(PayloadSize) {
		return Payload{}, ErrNotAnchor
	}
	data := script[2:]
	if !bytes.HasPrefix(data, []byte(Magic)) {
		return Payload{}, ErrNotAnchor
	}
	if v := data[len(Magic)]; v != Version {
		return Payload{}, fmt.Errorf("anchor payload version %d is not %d", v, Version)
	}
	var p Payload
	rest := data[len(Magic)+1:]
	p.Seq = binary.BigEndian.Uint64(rest[:8])
	copy(p.Commitment[:], rest[8:40])
	p.PrevHeight = binary.BigEndian.Uint32(rest[40:44])
	if p.Seq == 0 {
		return Payload{}, errors.New("anchor payload commits to seq 0")
	}
	return p, nil
}

// FromTx reads the anchor payload of a transaction: output 0 must carry it
// and output 1 (the seal) must exist and not be an OP_RETURN.
func FromTx(tx *wire.MsgTx) (Payload, error) {
	if len(tx.TxOut) <= SealOutput {
		return Payload{}, ErrNotAnchor
	}
	p, err := ParseScript(tx.TxOut[CommitmentOutput].PkScript)
	if err != nil {
		return Payload{}, err
	}
	if txscript.GetScriptClass(tx.TxOut[SealOutput].PkScript) == txscript.NullDataTy {
		return Payload{}, errors.New("anchor transaction's seal (output 1) is an OP_RETURN")
	}
	return p, nil
}

// SpendsSeal reports whether tx spends the seal of the anchor transaction
// prev.
func SpendsSeal(tx *wire.MsgTx, prev chainhash.Hash) bool {
	for _, in := range tx.TxIn {
		if in.PreviousOutPoint.Hash == prev && in.PreviousOutPoint.Index == SealOutput {
			return true
		}
	}
	return false
}
