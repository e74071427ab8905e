package attest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// maxBundleSize bounds an inclusion bundle document.
const maxBundleSize = 1 << 20

// Bundle is what a wallet receives to check its own inclusion: the account,
// its per-attestation salt and balance, and the inclusion proof in its JSON
// form, for one asset of one attestation.
type Bundle struct {
	// Version is 1.
	Version int `json:"version"`
	// Attestation is the hex hash (id) of the attestation the proof is for.
	Attestation string `json:"attestation"`
	// Asset is the asset code.
	Asset string `json:"asset"`
	// Account is the holder's account id.
	Account string `json:"account"`
	// Salt is the account's salt in this attestation, 64 hex.
	Salt sumtree.Salt `json:"salt"`
	// Balance is the balance the tree holds for the account.
	Balance Amount `json:"balance"`
	// Proof is the inclusion proof.
	Proof *sumtree.Proof `json:"proof"`
}

// NewBundle makes the inclusion bundle of accountID from the asset's tree.
// id is the attestation's hex hash.
func NewBundle(id string, tree *sumtree.Tree, accountID string, balance int64) (*Bundle, error) {
	proof, salt, err := tree.Proof(accountID)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %s in %s: %w", accountID, tree.AssetCode(), err)
	}
	return &Bundle{Version: 1, Attestation: id, Asset: tree.AssetCode(), Account: accountID,
		Salt: salt, Balance: Amount(balance), Proof: proof}, nil
}

// ParseBundle decodes a bundle strictly (unknown members and trailing data
// are rejected; whitespace is allowed, since nothing signs the bundle).
func ParseBundle(b []byte) (*Bundle, error) {
	if len(b) > maxBundleSize {
		return nil, fail(ErrMalformed, "the inclusion bundle is %d bytes, more than the limit of %d", len(b), maxBundleSize)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var x Bundle
	if err := d.Decode(&x); err != nil {
		return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
	}
	if d.More() {
		return nil, fail(ErrMalformed, "the inclusion bundle has trailing data")
	}
	if x.Version != 1 {
		return nil, fail(ErrMalformed, "the inclusion bundle has version %d, but this verifier reads version 1", x.Version)
	}
	if x.Proof == nil {
		return nil, fail(ErrMalformed, "the inclusion bundle holds no proof")
	}
	return &x, nil
}

// VerifyBundle checks that the bundle's account, salt and balance are a leaf
// of the liability tree that attestation a publishes for the bundle's asset.
// a must already be verified (Verify). It returns nil or an *Error.
func VerifyBundle(a *Attestation, b *Bundle) error {
	id, err := a.ID()
	if err != nil {
		return wrap(ErrMalformed, err, "the attestation hash cannot be computed (%v)", err)
	}
	if b.Attestation != id {
		return fail(ErrInclusion, "the inclusion proof is for attestation %s, not for this attestation %s", b.Attestation, id)
	}
	var as *Asset
	for i := range a.Assets {
		if a.Assets[i].Code == b.Asset {
			as = &a.Assets[i]
		}
	}
	if as == nil {
		return fail(ErrInclusion, "the attestation lists no asset %q", b.Asset)
	}
	root, err := as.Root()
	if err != nil {
		return err
	}
	if err := sumtree.VerifyInclusion(root, b.Account, b.Salt, uint64(b.Balance), b.Proof); err != nil {
		return wrap(ErrInclusion, err, "account %s with balance %d is not in the %s liability tree of this attestation: %v", b.Account, b.Balance, b.Asset, err)
	}
	return nil
}

// Root returns the sumtree root the asset's liabilities publish.
func (as *Asset) Root() (sumtree.Root, error) {
	var r sumtree.Root
	if err := (*sumtree.Salt)(&r.Hash).UnmarshalText([]byte(as.Liabilities.Root)); err != nil {
		return r, fail(ErrMalformed, "the liability root of asset %s is not 64 lower-case hex digits", as.Code)
	}
	r.Sum, r.Height, r.Count = uint64(as.Liabilities.Total), as.Liabilities.Height, uint64(as.Liabilities.Accounts)
	return r, nil
}

// CheckReceipt compares a verified inclusion bundle with an issuer-signed
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
func CheckReceipt(a *Attestation, b *Bundle, r *receipt.Receipt) error {
	if err := r.Verify(a.IssuerKey); err != nil {
		return err
	}
	if r.Asset != b.Asset || r.Account != b.Account {
		return fail(ErrReceiptNotApplicable, "the receipt is for account %s in %s, not for account %s in %s", r.Account, r.Asset, b.Account, b.Asset)
	}
	if r.Seq > a.JournalCutoff {
		return fail(ErrReceiptNotApplicable, "the receipt was taken at journal sequence %d, after the attestation's cut-off %d, so it cannot be compared", r.Seq, a.JournalCutoff)
	}
	if r.Balance > b.Balance {
		return fail(ErrReceiptConflict, "the attestation shows account %s with %d in %s, but a receipt signed by the issuer at journal sequence %d, before the attestation's cut-off %d, shows %d",
			b.Account, b.Balance, b.Asset, r.Seq, a.JournalCutoff, r.Balance)
	}
	return nil
}
