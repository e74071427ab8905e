package verify

import (
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/field"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// checkShapeV3 checks the members version 3 adds (version 2 liability
// trees, docs/proofs.md 3.15 and 4.2), and that an older document has none
// of them: every asset states its share count, window and tree id, no two
// assets share a tree id, and each issuer-held account carries its journal
// sequence and a share-set proof instead of a version 1 proof.
func checkShapeV3(a *attest.Attestation, p attest.Problems) attest.Problems {
	if a.Version < 3 {
		v3 := false
		for _, as := range a.Assets {
			l := as.Liabilities
			v3 = v3 || l.Shares != 0 || l.Window != nil || l.TreeID != ""
		}
		for _, ia := range a.IssuerAccounts {
			v3 = v3 || ia.Seq != nil || ia.ShareProof != nil
		}
		if v3 {
			p = append(p, fail(attest.ErrMalformed, "the attestation is version %d but has members of version 3", a.Version))
		}
		return p
	}
	seen := map[string]string{}
	for _, as := range a.Assets {
		l := as.Liabilities
		if !sumtree.ValidShares(l.Shares) {
			p = append(p, fail(attest.ErrMalformed, "the liabilities of asset %s split every balance into %d shares, not 1, 2 or 4", as.Code, l.Shares))
		} else if l.Height >= 0 && l.Height <= sumtree.MaxHeight && uint64(l.Accounts) <= 1<<sumtree.MaxHeight &&
			uint64(l.Accounts)*uint64(l.Shares) > 1<<l.Height {
			p = append(p, fail(attest.ErrMalformed, "asset %s claims %d accounts of %d shares, more leaves than a tree of height %d holds", as.Code, l.Accounts, l.Shares, l.Height))
		}
		if l.Window == nil {
			p = append(p, fail(attest.ErrMalformed, "the liabilities of asset %s state no window", as.Code))
		} else if *l.Window < 0 || *l.Window > l.Height {
			p = append(p, fail(attest.ErrMalformed, "the liabilities of asset %s have window %d, outside 0 to the tree height %d", as.Code, *l.Window, l.Height))
		} else if l.Accounts > 0 && sumtree.ValidShares(l.Shares) && 1<<*l.Window < l.Shares {
			p = append(p, fail(attest.ErrMalformed, "the liabilities of asset %s have window %d, too small for %d shares (2^window must be at least the share count)", as.Code, *l.Window, l.Shares))
		}
		if !field.IsLowerHex(l.TreeID, 64) {
			p = append(p, fail(attest.ErrMalformed, "the liability tree id of asset %s is not 64 lower-case hex digits", as.Code))
		} else if other, dup := seen[l.TreeID]; dup {
			p = append(p, fail(attest.ErrMalformed, "assets %s and %s publish the same liability tree id %s; every tree has its own", other, as.Code, l.TreeID))
		} else {
			seen[l.TreeID] = as.Code
		}
	}
	for _, ia := range a.IssuerAccounts {
		if ia.Proof != nil {
			p = append(p, fail(attest.ErrMalformed, "issuer account %s in %s has a version 1 proof; a version 3 attestation lists share-set proofs (share_proof)", ia.Account, ia.Asset))
		}
		if ia.Seq == nil || *ia.Seq < 0 {
			p = append(p, fail(attest.ErrMalformed, "issuer account %s in %s states no journal sequence (seq, at least 0)", ia.Account, ia.Asset))
		} else if *ia.Seq > int64(a.JournalCutoff) {
			p = append(p, fail(attest.ErrMalformed, "issuer account %s in %s has journal sequence %d, after the attestation's cut-off %d", ia.Account, ia.Asset, *ia.Seq, a.JournalCutoff))
		}
	}
	return p
}

// issuerAccountInTree verifies one issuer-held account's proof against its
// asset's tree, by the document's version.
func issuerAccountInTree(a *attest.Attestation, as *attest.Asset, ia *attest.IssuerAccount) error {
	if a.Version < 3 {
		root, err := as.Root()
		if err != nil {
			return nil // reported by checkAsset
		}
		if ia.Proof == nil {
			return fail(attest.ErrInclusion, "issuer account %s in %s has no inclusion proof", ia.Account, ia.Asset)
		}
		if err := sumtree.VerifyInclusion(root, ia.Account, ia.Salt, uint64(ia.Balance), ia.Proof); err != nil {
			return wrap(attest.ErrInclusion, err, "issuer account %s with balance %d is not in the %s liability tree of this attestation: %v", ia.Account, ia.Balance, ia.Asset, err)
		}
		return nil
	}
	root, err := as.ShareRoot()
	if err != nil || ia.Seq == nil || *ia.Seq < 0 {
		return nil // reported by checkAsset and checkShapeV3
	}
	if ia.ShareProof == nil {
		return fail(attest.ErrInclusion, "issuer account %s in %s has no share-set proof", ia.Account, ia.Asset)
	}
	if err := sumtree.VerifyShares(root, as.Code, ia.Account, uint64(*ia.Seq), ia.Salt, uint64(ia.Balance), ia.ShareProof); err != nil {
		return wrap(attest.ErrInclusion, err, "issuer account %s with balance %d is not in the %s liability tree of this attestation: %v", ia.Account, ia.Balance, ia.Asset, err)
	}
	return nil
}

// checkTreeIDs fails a chain in which two attestations publish one tree id:
// the id hashes the attestation's fresh seed, so a repeated id is a tree
// replayed from an earlier attestation.
func checkTreeIDs(list []*attest.Attestation, p attest.Problems) attest.Problems {
	seen := map[string]int64{}
	for _, a := range list {
		if a.Version < 3 {
			continue
		}
		for _, as := range a.Assets {
			id := as.Liabilities.TreeID
			if id == "" {
				continue
			}
			if s, dup := seen[id]; dup && s != a.Seq {
				p = append(p, fail(attest.ErrChain, "attestation %d publishes the %s liability tree id %s of attestation %d: a tree replayed from an earlier attestation", a.Seq, as.Code, id, s))
			}
			seen[id] = a.Seq
		}
	}
	return p
}
