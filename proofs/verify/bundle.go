package verify

import (
	"fmt"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// Bundle checks that the bundle's account, salt and balance are a leaf
// of the liability tree that attestation a publishes for the bundle's asset.
// a must already be verified (Attestation). It returns nil or an *Error.
func Bundle(a *attest.Attestation, b *attest.Bundle) error {
	id, err := a.ID()
	if err != nil {
		return wrap(attest.ErrMalformed, err, "the attestation hash cannot be computed (%v)", err)
	}
	if b.Attestation != id {
		return fail(attest.ErrInclusion, "the inclusion proof is for attestation %s, not for this attestation %s", b.Attestation, id)
	}
	var as *attest.Asset
	for i := range a.Assets {
		if a.Assets[i].Code == b.Asset {
			as = &a.Assets[i]
		}
	}
	if as == nil {
		return fail(attest.ErrInclusion, "the attestation lists no asset %q", b.Asset)
	}
	switch {
	case a.Version < 3 && b.Version != 1:
		return fail(attest.ErrInclusion, "a version %d inclusion bundle cannot prove inclusion in a version %d attestation, whose trees take version 1 bundles", b.Version, a.Version)
	case a.Version >= 3 && b.Version != 2:
		return fail(attest.ErrInclusion, "a version %d inclusion bundle cannot prove inclusion in a version %d attestation, whose trees take version 2 bundles", b.Version, a.Version)
	case b.Version == 1:
		root, err := as.Root()
		if err != nil {
			return err
		}
		if err := sumtree.VerifyInclusion(root, b.Account, b.Salt, uint64(b.Balance), b.Proof); err != nil {
			return wrap(attest.ErrInclusion, err, "account %s with balance %d is not in the %s liability tree of this attestation: %v", b.Account, b.Balance, b.Asset, err)
		}
		return nil
	}
	root, err := as.ShareRoot()
	if err != nil {
		return err
	}
	if b.Seq > int64(a.JournalCutoff) {
		return fail(attest.ErrInclusion, "the bundle says account %s's last entry is at journal sequence %d, after the attestation's cut-off %d", b.Account, b.Seq, a.JournalCutoff)
	}
	if err := sumtree.VerifyShares(root, b.Asset, b.Account, uint64(b.Seq), b.Salt, uint64(b.Balance), b.ShareProof); err != nil {
		return wrap(attest.ErrInclusion, err, "account %s with balance %d at journal sequence %d is not in the %s liability tree of this attestation: %v", b.Account, b.Balance, b.Seq, b.Asset, err)
	}
	return nil
}

// Receipt compares a verified inclusion bundle with an issuer-signed
// receipt of the same holder (docs/proofs.md 6.2). It returns the receipt's
// own verification error when it is invalid or signed by another issuer,
// an *Error wrapping ErrReceiptNotApplicable when the receipt is for
// another asset or account, was taken after the attestation's cut-off or
// (version 2 bundles) is superseded by a later entry the leaf commits to,
// and an *Error wrapping ErrReceiptConflict when the two cannot both be
// true:
//
//   - version 2 bundle (the leaf commits to the account's last journal
//     sequence s): a receipt at a sequence after s and at or before the
//     cut-off shows an entry the tree leaves out; a receipt at s must show
//     the leaf's balance exactly;
//   - version 1 bundle: a receipt at or before the cut-off showing more
//     than the attestation does (a later entry before the cut-off may have
//     lowered the balance, so less is not a conflict).
func Receipt(a *attest.Attestation, b *attest.Bundle, r *receipt.Receipt) error {
	if err := r.Verify(a.IssuerKey); err != nil {
		return err
	}
	if r.Asset != b.Asset || r.Account != b.Account {
		return fail(attest.ErrReceiptNotApplicable, "the receipt is for account %s in %s, not for account %s in %s", r.Account, r.Asset, b.Account, b.Asset)
	}
	if r.Seq > a.JournalCutoff {
		return fail(attest.ErrReceiptNotApplicable, "the receipt was taken at journal sequence %d, after the attestation's cut-off %d, so it cannot be compared", r.Seq, a.JournalCutoff)
	}
	if b.Version == 2 {
		return seqRule(r, b.Seq, b.Balance, fmt.Sprintf("the %s liability tree of attestation %d", b.Asset, a.Seq), a.JournalCutoff)
	}
	if r.Balance > b.Balance {
		return fail(attest.ErrReceiptConflict, "the attestation shows account %s with %d in %s, but a receipt signed by the issuer at journal sequence %d, before the attestation's cut-off %d, shows %d",
			b.Account, b.Balance, b.Asset, r.Seq, a.JournalCutoff, r.Balance)
	}
	return nil
}

// seqRule compares a receipt taken at or before the cut-off with what the
// issuer committed to for the same account: its last entry at seq and its
// balance then (0 for an account it says is absent).
func seqRule(r *receipt.Receipt, seq int64, balance attest.Amount, where string, cutoff attest.Amount) error {
	switch {
	case int64(r.Seq) < seq:
		return fail(attest.ErrReceiptNotApplicable, "the receipt was taken at journal sequence %d, before the account's last entry at %d that %s commits to, so a later entry superseded it; your history holds a receipt of every entry of yours, and if it has none at %d, the tree names an entry you never made",
			r.Seq, seq, where, seq)
	case int64(r.Seq) > seq:
		return fail(attest.ErrReceiptConflict, "%s says account %s's last entry at or before the cut-off %d is at journal sequence %d, but a receipt signed by the issuer shows an entry at %d (balance %d): the tree leaves it out",
			where, r.Account, cutoff, seq, r.Seq, r.Balance)
	case attest.Amount(r.Balance) != balance:
		return fail(attest.ErrReceiptConflict, "%s shows account %s with %d at journal sequence %d, but a receipt signed by the issuer at that sequence shows %d",
			where, r.Account, balance, seq, r.Balance)
	}
	return nil
}

// Absence checks an issuer's absence statement against the verified
// attestation it names: the same id, sequence and issuer key, a version 3
// document (whose trees commit to each account's last entry), an asset the
// attestation lists, a last entry at or before the cut-off, and the
// statement's signature.
func Absence(a *attest.Attestation, s *attest.Absence) error {
	id, err := a.ID()
	if err != nil {
		return wrap(attest.ErrMalformed, err, "the attestation hash cannot be computed (%v)", err)
	}
	switch {
	case s.Attestation != id || s.Seq != a.Seq:
		return fail(attest.ErrInclusion, "the absence statement is for attestation %d (%s), not for this attestation %d (%s)", s.Seq, s.Attestation, a.Seq, id)
	case s.IssuerKey != a.IssuerKey:
		return fail(attest.ErrSignature, "the absence statement is signed by issuer key %s, not by this attestation's %s", s.IssuerKey, a.IssuerKey)
	case a.Version < 3:
		return fail(attest.ErrInclusion, "attestation %d is version %d; absence statements are made for version 3 attestations", a.Seq, a.Version)
	case s.LastSeq < 0 || s.LastSeq > int64(a.JournalCutoff):
		return fail(attest.ErrMalformed, "the absence statement names last entry %d, outside 0 to the attestation's cut-off %d", s.LastSeq, a.JournalCutoff)
	}
	found := false
	for i := range a.Assets {
		found = found || a.Assets[i].Code == s.Asset
	}
	if !found {
		return fail(attest.ErrInclusion, "the attestation lists no asset %q", s.Asset)
	}
	return s.Verify()
}

// AbsenceReceipt compares a verified absence statement with a receipt of
// the same account, by the rule of Receipt for version 2 bundles with a
// balance of 0 (docs/proofs.md 6.2): a receipt after the statement's last
// entry and at or before the cut-off, or one at that entry showing a
// balance, contradicts the statement.
func AbsenceReceipt(a *attest.Attestation, s *attest.Absence, r *receipt.Receipt) error {
	if err := r.Verify(a.IssuerKey); err != nil {
		return err
	}
	if r.Asset != s.Asset || r.Account != s.Account {
		return fail(attest.ErrReceiptNotApplicable, "the receipt is for account %s in %s, not for account %s in %s", r.Account, r.Asset, s.Account, s.Asset)
	}
	if r.Seq > a.JournalCutoff {
		return fail(attest.ErrReceiptNotApplicable, "the receipt was taken at journal sequence %d, after the attestation's cut-off %d, so it cannot be compared", r.Seq, a.JournalCutoff)
	}
	return seqRule(r, s.LastSeq, 0, fmt.Sprintf("the issuer's absence statement for the %s liability tree of attestation %d", s.Asset, a.Seq), a.JournalCutoff)
}
