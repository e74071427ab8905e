package verify

import (
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/proofs/field"
)

// checkShapeV2 checks the members version 2 adds, and that a version 1
// document has none of them.
func checkShapeV2(a *attest.Attestation, p attest.Problems) attest.Problems {
	if a.Version < 2 {
		v2 := a.Counting.ProofMaxAge != nil || a.Counting.LightningClaimed != nil || len(a.Reserves.Proofs) > 0 ||
			a.Reserves.Totals.LightningClaimed != nil || a.Anchor != nil || len(a.IssuerAccounts) > 0
		for _, u := range a.Reserves.Onchain {
			v2 = v2 || u.Script != "" || u.Proof != nil
		}
		for _, n := range a.Reserves.Lightning {
			for _, c := range n.Channels {
				v2 = v2 || c.ShortChannelID != "" || c.Evidence != ""
			}
		}
		if v2 {
			p = append(p, fail(attest.ErrMalformed, "the attestation is version %d but has members of version 2", a.Version))
		}
		return p
	}
	p = checkAnchorRef(a, p)
	if a.Counting.ProofMaxAge == nil || *a.Counting.ProofMaxAge < 0 {
		p = append(p, fail(attest.ErrMalformed, "the counting rules state no proof age (proof_max_age, a number of blocks, at least 0)"))
	}
	if r := a.Counting.LightningClaimed; r == nil {
		p = append(p, fail(attest.ErrMalformed, "the counting rules state no rule for claimed channels (lightning_claimed)"))
	} else if r.HaircutBps < 0 || r.HaircutBps > attest.BasisPoints {
		p = append(p, fail(attest.ErrMalformed, "the %s haircut of %d basis points is outside 0 to 10000", attest.ClassLightningClaimed, r.HaircutBps))
	}
	if a.Reserves.Totals.LightningClaimed == nil {
		p = append(p, fail(attest.ErrMalformed, "the reserve totals have no claimed-channel totals (lightning_claimed)"))
	}
	used := make([]bool, len(a.Reserves.Proofs))
	for _, u := range a.Reserves.Onchain {
		if b, err := hex.DecodeString(u.Script); err != nil || len(b) == 0 || len(b) > attest.MaxScriptSize || hex.EncodeToString(b) != u.Script {
			p = append(p, fail(attest.ErrMalformed, "on-chain output %s has script %q, not 1 to %d bytes in lower-case hex", u.Outpoint, u.Script, attest.MaxScriptSize))
		}
		if u.Proof != nil {
			if *u.Proof < 0 || *u.Proof >= len(a.Reserves.Proofs) {
				p = append(p, fail(attest.ErrMalformed, "on-chain output %s names proof %d, but %d proofs are listed", u.Outpoint, *u.Proof, len(a.Reserves.Proofs)))
			} else {
				used[*u.Proof] = true
			}
		}
	}
	for i, pr := range a.Reserves.Proofs {
		if !used[i] {
			p = append(p, fail(attest.ErrMalformed, "proof %d is named by no listed output", i))
		}
		if pr.Block.Height < 0 || !field.IsLowerHex(pr.Block.Hash, 64) {
			p = append(p, fail(attest.ErrMalformed, "proof %d names block %d %q, not a height and 64 lower-case hex digits", i, pr.Block.Height, pr.Block.Hash))
		}
		if pr.Block.Height == a.Block.Height && pr.Block.Hash != a.Block.Hash {
			p = append(p, fail(attest.ErrControl, "proof %d commits to block %s at height %d, but the attested block at that height is %s", i, pr.Block.Hash, pr.Block.Height, a.Block.Hash))
		}
		if i > 0 && attest.CompareProofs(&a.Reserves.Proofs[i-1], &pr) >= 0 {
			p = append(p, fail(attest.ErrMalformed, "proof %d is out of order or repeated (proofs must be sorted by block height, then transaction)", i))
		}
	}
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			switch c.Evidence {
			case attest.EvidenceAnnounced, attest.EvidenceClaimed:
			default:
				p = append(p, fail(attest.ErrMalformed, "channel %s has evidence %q, neither %q nor %q", c.ChannelPoint, c.Evidence, attest.EvidenceAnnounced, attest.EvidenceClaimed))
			}
			switch h, _, _, ok := attest.ParseShortChannelID(c.ShortChannelID); {
			case c.ShortChannelID == "":
				if c.Evidence == attest.EvidenceAnnounced {
					p = append(p, fail(attest.ErrMalformed, "announced channel %s has no short channel id", c.ChannelPoint))
				}
			case !ok:
				p = append(p, fail(attest.ErrMalformed, "channel %s has short channel id %q, not block x tx x output", c.ChannelPoint, c.ShortChannelID))
			case int64(h) > a.Block.Height && c.Confirmations != 0 || int64(h) <= a.Block.Height && c.Confirmations != a.Block.Height-int64(h)+1:
				p = append(p, fail(attest.ErrMalformed, "channel %s has %d confirmations, but its short channel id %s puts its funding at block %d", c.ChannelPoint, c.Confirmations, c.ShortChannelID, h))
			}
		}
	}
	return p
}

// checkProofs verifies every proof of control with the script interpreter
// and requires each output that names a proof to be proven by it, spending
// exactly the listed value and script: an issuer that names evidence must
// have it, whether or not the output counts.
func checkProofs(a *attest.Attestation, p attest.Problems) attest.Problems {
	if a.Version < 2 {
		return p
	}
	type provenBy struct {
		proof int
		prev  attest.Prevout
		ok    bool
		why   string
	}
	byOutpoint := map[string]provenBy{}
	for i := range a.Reserves.Proofs {
		cp, err := a.ControlProof(i)
		if err != nil {
			p = append(p, wrap(attest.ErrControl, err, "proof %d cannot be read: %v", i, err))
			continue
		}
		proven, errs := cp.Verify()
		whole := ""
		if proven == nil && len(errs) > 0 {
			p = append(p, wrap(attest.ErrControl, errs[0], "proof %d proves nothing: %v", i, errs[0]))
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
			op := in.PreviousOutPoint.String()
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
			p = append(p, fail(attest.ErrControl, "on-chain output %s names proof %d, which does not spend it", u.Outpoint, *u.Proof))
		case pb.prev.Value != u.Value || pb.prev.Script != u.Script:
			p = append(p, fail(attest.ErrControl, "on-chain output %s is listed with %d sats and script %s, but proof %d spends it as %d sats and script %s",
				u.Outpoint, u.Value, u.Script, *u.Proof, pb.prev.Value, pb.prev.Script))
		case !pb.ok:
			p = append(p, fail(attest.ErrControl, "the proof of control over on-chain output %s (proof %d) %s", u.Outpoint, *u.Proof, pb.why))
		}
	}
	return p
}

// checkAnchorRef checks the shape of the anchor a version 2 document
// lists (docs/proofs.md 4.14): an earlier attestation of the chain, and
// well-formed hashes. Whether the transaction exists and commits to it is
// the node check's (package anchor).
func checkAnchorRef(a *attest.Attestation, p attest.Problems) attest.Problems {
	r := a.Anchor
	if r == nil {
		return p
	}
	if r.Seq < 1 || r.Seq >= a.Seq {
		p = append(p, fail(attest.ErrMalformed, "the anchor commits to attestation %d; an attestation lists an anchor of an earlier one (1 to %d)", r.Seq, a.Seq-1))
	}
	for _, h := range []struct{ name, v string }{{"id", r.ID}, {"txid", r.Txid}, {"block_hash", r.BlockHash}} {
		if !field.IsLowerHex(h.v, 64) {
			p = append(p, fail(attest.ErrMalformed, "the anchor's %s %q is not 64 lower-case hex digits", h.name, h.v))
		}
	}
	if r.Height < 1 {
		p = append(p, fail(attest.ErrMalformed, "the anchor's block height %d is not positive", r.Height))
	}
	return p
}

// checkIssuerAccounts checks the issuer-held accounts a version 2 document
// lists (docs/proofs.md 4.15): sorted by asset, then account, each once;
// of a listed asset; named; with a positive balance; and with an inclusion
// proof that verifies against that asset's liability root with exactly
// that balance, so the published balance is the one counted in the
// liabilities. Whether every account the issuer holds is listed cannot be
// seen in one document.
func checkIssuerAccounts(a *attest.Attestation, p attest.Problems) attest.Problems {
	if a.Version < 2 {
		return p // a version 1 document lists none (checkShapeV2)
	}
	for i := range a.IssuerAccounts {
		ia := &a.IssuerAccounts[i]
		if i > 0 && attest.CompareIssuerAccounts(&a.IssuerAccounts[i-1], ia) >= 0 {
			p = append(p, fail(attest.ErrMalformed, "issuer account %s in %s is out of order or repeated (issuer accounts must be sorted by asset, then account)", ia.Account, ia.Asset))
		}
		if ia.Name == "" {
			p = append(p, fail(attest.ErrMalformed, "issuer account %s in %s has no name", ia.Account, ia.Asset))
		}
		if ia.Balance <= 0 {
			p = append(p, fail(attest.ErrMalformed, "issuer account %s in %s has a balance of %d; only positive balances are listed", ia.Account, ia.Asset, ia.Balance))
		}
		var as *attest.Asset
		for j := range a.Assets {
			if a.Assets[j].Code == ia.Asset {
				as = &a.Assets[j]
			}
		}
		if as == nil {
			p = append(p, fail(attest.ErrMalformed, "issuer account %s names asset %q, which the attestation does not list", ia.Account, ia.Asset))
			continue
		}
		if err := issuerAccountInTree(a, as, ia); err != nil {
			p = append(p, err.(*attest.Error))
		}
	}
	return p
}
