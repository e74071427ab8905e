package verify

import (
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
	root, err := as.Root()
	if err != nil {
		return err
	}
	if err := sumtree.VerifyInclusion(root, b.Account, b.Salt, uint64(b.Balance), b.Proof); err != nil {
		return wrap(attest.ErrInclusion, err, "account %s with balance %d is not in the %s liability tree of this attestation: %v", b.Account, b.Balance, b.Asset, err)
	}
	return nil
}

// Receipt compares a verified inclusion bundle with an issuer-signed
// receipt of the same holder. It returns an *Error wrapping
// ErrReceiptConflict when the receipt was taken at or before the
// attestation's journal cut-off and shows a larger balance than the
// attestation does. It returns nil when they agree, an *Error wrapping
// ErrReceiptNotApplicable when the receipt is for another asset or account
// or was taken after the cut-off, and the receipt's own verification error
// when it is invalid or signed by another issuer. The receipt is only evidence if it
// is the holder's latest receipt at or before the cut-off: a later entry
// before the cut-off (one the holder made, with its own receipt) may
// legitimately have lowered the balance.
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
	if r.Balance > b.Balance {
		return fail(attest.ErrReceiptConflict, "the attestation shows account %s with %d in %s, but a receipt signed by the issuer at journal sequence %d, before the attestation's cut-off %d, shows %d",
			b.Account, b.Balance, b.Asset, r.Seq, a.JournalCutoff, r.Balance)
	}
	return nil
}
