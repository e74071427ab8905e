package attest

import (
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/kosh-reserve/kosh/proofs/control"
)

// MaxScriptSize bounds a listed output script, in bytes (the consensus
// limit on a script).
const MaxScriptSize = 10_000

// ProofMaxAge is the stated proof age, or -1 when absent (version 1).
func (a *Attestation) ProofMaxAge() int64 {
	if a.Counting.ProofMaxAge == nil {
		return -1
	}
	return *a.Counting.ProofMaxAge
}

// provenAtBlock reports whether output u's proof, if any, is within the
// proof age at the attested block. It does not verify the proof:
// proofs/verify does, and fails the document when a named proof does not
// prove u.
func (a *Attestation) provenAtBlock(u *UTXO) bool {
	if u.Proof == nil || *u.Proof < 0 || *u.Proof >= len(a.Reserves.Proofs) {
		return false
	}
	x := a.Reserves.Proofs[*u.Proof].Block.Height
	return x <= a.Block.Height && a.Block.Height-x <= a.ProofMaxAge()
}

// utxoEligible reports whether an output counts toward the eligible
// on-chain total: enough confirmations and, in version 2, a proof of
// control within the proof age.
func (a *Attestation) utxoEligible(u *UTXO) bool {
	if u.Confirmations < a.Counting.MinConfirmations {
		return false
	}
	return a.Version < 2 || a.provenAtBlock(u)
}

// UncountedReason says why a listed output does not count, or "" if it
// counts: for koshverify and the page.
func (a *Attestation) UncountedReason(u *UTXO) string {
	switch {
	case u.Confirmations < a.Counting.MinConfirmations:
		return strconv.FormatInt(u.Confirmations, 10) + " confirmations, fewer than " + strconv.FormatInt(a.Counting.MinConfirmations, 10)
	case a.Version < 2:
		return ""
	case u.Proof == nil:
		return "no proof of control"
	case !a.provenAtBlock(u):
		x := a.Reserves.Proofs[*u.Proof].Block.Height
		if x > a.Block.Height {
			return "its proof of control is from block " + strconv.FormatInt(x, 10) + ", after the attested block"
		}
		return "its proof of control from block " + strconv.FormatInt(x, 10) + " is older than " + strconv.FormatInt(a.ProofMaxAge(), 10) + " blocks"
	}
	return ""
}

// channelClass is the class a channel's Counted adds to.
func (a *Attestation) channelClass(c *Channel) string {
	if a.Version >= 2 && c.Evidence == EvidenceClaimed {
		return ClassLightningClaimed
	}
	return ClassLightning
}

// ParseShortChannelID parses "block x tx x output" with canonical decimal
// parts (block < 2^24, tx < 2^24, output < 2^16).
func ParseShortChannelID(s string) (block, tx, out uint32, ok bool) {
	parts := strings.Split(s, "x")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var v [3]uint32
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != p {
			return 0, 0, 0, false
		}
		v[i] = uint32(n)
	}
	if v[0] >= 1<<24 || v[1] >= 1<<24 || v[2] >= 1<<16 {
		return 0, 0, 0, false
	}
	return v[0], v[1], v[2], true
}

// CompareProofs orders proofs of control as Reserves.Proofs lists them: by
// challenge block height, then by transaction.
func CompareProofs(x, y *Proof) int {
	switch {
	case x.Block.Height < y.Block.Height:
		return -1
	case x.Block.Height > y.Block.Height:
		return 1
	}
	return strings.Compare(x.Tx, y.Tx)
}

// sortProofs sorts the proofs and renumbers the outputs' references.
func sortProofs(a *Attestation) {
	if len(a.Reserves.Proofs) == 0 {
		return
	}
	order := make([]int, len(a.Reserves.Proofs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return CompareProofs(&a.Reserves.Proofs[i], &a.Reserves.Proofs[j]) })
	newIndex := make([]int, len(order))
	sorted := make([]Proof, len(order))
	for to, from := range order {
		newIndex[from] = to
		sorted[to] = a.Reserves.Proofs[from]
	}
	a.Reserves.Proofs = sorted
	for i := range a.Reserves.Onchain {
		if r := a.Reserves.Onchain[i].Proof; r != nil && *r >= 0 && *r < len(newIndex) {
			v := newIndex[*r]
			a.Reserves.Onchain[i].Proof = &v
		}
	}
}

// ControlProof returns proof i as package control verifies it.
func (a *Attestation) ControlProof(i int) (*control.Proof, error) {
	pr := a.Reserves.Proofs[i]
	tx, err := control.Decode(pr.Tx)
	if err != nil {
		return nil, err
	}
	cp := &control.Proof{Challenge: control.Challenge{IssuerKey: a.IssuerKey, Height: pr.Block.Height, Hash: pr.Block.Hash}, Tx: tx}
	for _, po := range pr.Prevouts {
		s, err := hex.DecodeString(po.Script)
		if err != nil || hex.EncodeToString(s) != po.Script || len(s) > MaxScriptSize {
			return nil, errors.New("a listed previous output's script is not lower-case hex")
		}
		cp.PrevOuts = append(cp.PrevOuts, control.PrevOut{Value: int64(po.Value), Script: s})
	}
	return cp, nil
}
