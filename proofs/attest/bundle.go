package attest

import (
	"bytes"
	"encoding/json"
	"fmt"

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

// Root returns the sumtree root the asset's liabilities publish.
func (as *Asset) Root() (sumtree.Root, error) {
	var r sumtree.Root
	if err := (*sumtree.Salt)(&r.Hash).UnmarshalText([]byte(as.Liabilities.Root)); err != nil {
		return r, fail(ErrMalformed, "the liability root of asset %s is not 64 lower-case hex digits", as.Code)
	}
	r.Sum, r.Height, r.Count = uint64(as.Liabilities.Total), as.Liabilities.Height, uint64(as.Liabilities.Accounts)
	return r, nil
}
