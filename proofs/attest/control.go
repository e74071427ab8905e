package attest

import (
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/proofs/field"
)

// MaxScriptSize bounds a listed output script, in bytes (the consensus
// limit on a script).
const MaxScriptSize = 10_000

// proofMaxAge is the stated proof age, or -1 when absent (version 1).
func (a *Attestation) proofMaxAge() int64 {
	if a.Counting.ProofMaxAge == nil {
		return -1
	}
	return *a.Counting.ProofMaxAge
}

// provenAtBlock reports whether output u's proof, if any, is within the
// proof age at the attested block. It does not verify the proof: Verify
// does, and fails the document when a named proof does not prove u.
func (a *Attestation) provenAtBlock(u *UTXO) bool {
	if u.Proof == nil || *u.Proof < 0 || *u.Proof >= len(a.Reserves.Proofs) {
		return false
	}
	x := a.Reserves.Proofs[*u.Proof].Block.Height
	return x <= a.Block.Height && a.Block.Height-x <= a.proofMaxAge()
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
		return "its proof of control from block " + strconv.FormatInt(x, 10) + " is older than " + strconv.FormatInt(a.proofMaxAge(), 10) + " blocks"
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

// checkShapeV2 checks the members version 2 adds, and that a version 1
// document has none of them.
func (a *Attestation) checkShapeV2(p Problems) Problems {
	if a.Version < 2 {
		v2 := a.Counting.ProofMaxAge != nil || a.Counting.LightningClaimed != nil || len(a.Reserves.Proofs) > 0 ||
			a.Reserves.Totals.LightningClaimed != nil
		for _, u := range a.Reserves.Onchain {
			v2 = v2 || u.Script != "" || u.Proof != nil
		}
		for _, n := range a.Reserves.Lightning {
			for _, c := range n.Channels {
				v2 = v2 || c.ShortChannelID != "" || c.Evidence != ""
			}
		}
		if v2 {
			p = append(p, fail(ErrMalformed, "the attestation is version %d but has members of version 2", a.Version))
		}
		return p
	}
	if a.Counting.ProofMaxAge == nil || *a.Counting.ProofMaxAge < 0 {
		p = append(p, fail(ErrMalformed, "the counting rules state no proof age (proof_max_age, a number of blocks, at least 0)"))
	}
	if r := a.Counting.LightningClaimed; r == nil {
		p = append(p, fail(ErrMalformed, "the counting rules state no rule for claimed channels (lightning_claimed)"))
	} else if r.HaircutBps < 0 || r.HaircutBps > BasisPoints {
		p = append(p, fail(ErrMalformed, "the %s haircut of %d basis points is outside 0 to 10000", ClassLightningClaimed, r.HaircutBps))
	}
	if a.Reserves.Totals.LightningClaimed == nil {
		p = append(p, fail(ErrMalformed, "the reserve totals have no claimed-channel totals (lightning_claimed)"))
	}
	used := make([]bool, len(a.Reserves.Proofs))
	for _, u := range a.Reserves.Onchain {
		if b, err := hex.DecodeString(u.Script); err != nil || len(b) == 0 || len(b) > MaxScriptSize || hex.EncodeToString(b) != u.Script {
			p = append(p, fail(ErrMalformed, "on-chain output %s has script %q, not 1 to %d bytes in lower-case hex", u.Outpoint, u.Script, MaxScriptSize))
		}
		if u.Proof != nil {
			if *u.Proof < 0 || *u.Proof >= len(a.Reserves.Proofs) {
				p = append(p, fail(ErrMalformed, "on-chain output %s names proof %d, but %d proofs are listed", u.Outpoint, *u.Proof, len(a.Reserves.Proofs)))
			} else {
				used[*u.Proof] = true
			}
		}
	}
	for i, pr := range a.Reserves.Proofs {
		if !used[i] {
			p = append(p, fail(ErrMalformed, "proof %d is named by no listed output", i))
		}
		if pr.Block.Height < 0 || !field.IsLowerHex(pr.Block.Hash, 64) {
			p = append(p, fail(ErrMalformed, "proof %d names block %d %q, not a height and 64 lower-case hex digits", i, pr.Block.Height, pr.Block.Hash))
		}
		if pr.Block.Height == a.Block.Height && pr.Block.Hash != a.Block.Hash {
			p = append(p, fail(ErrControl, "proof %d commits to block %s at height %d, but the attested block at that height is %s", i, pr.Block.Hash, pr.Block.Height, a.Block.Hash))
		}
		if i > 0 && compareProofs(&a.Reserves.Proofs[i-1], &pr) >= 0 {
			p = append(p, fail(ErrMalformed, "proof %d is out of order or repeated (proofs must be sorted by block height, then transaction)", i))
		}
	}
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			switch c.Evidence {
			case EvidenceAnnounced, EvidenceClaimed:
			default:
				p = append(p, fail(ErrMalformed, "channel %s has evidence %q, neither %q nor %q", c.ChannelPoint, c.Evidence, EvidenceAnnounced, EvidenceClaimed))
			}
			switch h, _, _, ok := ParseShortChannelID(c.ShortChannelID); {
			case c.ShortChannelID == "":
				if c.Evidence == EvidenceAnnounced {
					p = append(p, fail(ErrMalformed, "announced channel %s has no short channel id", c.ChannelPoint))
				}
			case !ok:
				p = append(p, fail(ErrMalformed, "channel %s has short channel id %q, not block x tx x output", c.ChannelPoint, c.ShortChannelID))
			case int64(h) > a.Block.Height && c.Confirmations != 0 || int64(h) <= a.Block.Height && c.Confirmations != a.Block.Height-int64(h)+1:
				p = append(p, fail(ErrMalformed, "channel %s has %d confirmations, but its short channel id %s puts its funding at block %d", c.ChannelPoint, c.Confirmations, c.ShortChannelID, h))
			}
		}
	}
	return p
}

func compareProofs(x, y *Proof) int {
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
	slices.SortStableFunc(order, func(i, j int) int { return compareProofs(&a.Reserves.Proofs[i], &a.Reserves.Proofs[j]) })
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

// checkProofs verifies every proof of control with the script interpreter
// and requires each output that names a proof to be proven by it, spending
// exactly the listed value and script: an issuer that names evidence must
// have it, whether or not the output counts.
func (a *Attestation) checkProofs(p Problems) Problems {
	if a.Version < 2 {
		return p
	}
	type provenBy struct {
		proof int
		prev  Prevout
		ok    bool
		why   string
	}
	byOutpoint := map[string]provenBy{}
	for i := range a.Reserves.Proofs {
		cp, err := a.ControlProof(i)
		if err != nil {
			p = append(p, wrap(ErrControl, err, "proof %d cannot be read: %v", i, err))
			continue
		}
		proven, errs := cp.Verify()
		whole := ""
		if proven == nil && len(errs) > 0 {
			p = append(p, wrap(ErrControl, errs[0], "proof %d proves nothing: %v", i, errs[0]))
			whole = "is in a proof that proves nothing"
		}
		failed := map[string]string{}
		for _, e := range errs {
			var ie *control.InputError
			if errors.As(e, &ie) {
				failed[ie.Outpoint] = ie.Reason
			}
		}
		for j, in := range cp.Tx.TxIn[1:] {
			if j >= len(a.Reserves.Proofs[i].Prevouts) {
				break
			}
			op := outpointString(in.PreviousOutPoint)
			why, bad := failed[op]
			if whole != "" {
				why, bad = whole, true
			}
			byOutpoint[op+"#"+strconv.Itoa(i)] = provenBy{proof: i, prev: a.Reserves.Proofs[i].Prevouts[j], ok: !bad, why: why}
		}
	}
	for _, u := range a.Reserves.Onchain {
		if u.Proof == nil || *u.Proof < 0 || *u.Proof >= len(a.Reserves.Proofs) {
			continue
		}
		pb, found := byOutpoint[u.Outpoint+"#"+strconv.Itoa(*u.Proof)]
		switch {
		case !found:
			p = append(p, fail(ErrControl, "on-chain output %s names proof %d, which does not spend it", u.Outpoint, *u.Proof))
		case pb.prev.Value != u.Value || pb.prev.Script != u.Script:
			p = append(p, fail(ErrControl, "on-chain output %s is listed with %d sats and script %s, but proof %d spends it as %d sats and script %s",
				u.Outpoint, u.Value, u.Script, *u.Proof, pb.prev.Value, pb.prev.Script))
		case !pb.ok:
			p = append(p, fail(ErrControl, "the proof of control over on-chain output %s (proof %d) %s", u.Outpoint, *u.Proof, pb.why))
		}
	}
	return p
}

// outpointString formats an outpoint as documents do: txid:vout.
func outpointString(op wire.OutPoint) string { return op.String() }
