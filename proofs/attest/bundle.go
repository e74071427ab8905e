package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kosh-reserve/kosh/proofs/strictjson"
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

// bundleShape is the shape of a bundle (strictjson).
var bundleShape = strictjson.Object{
	{Name: "version", Shape: strictjson.Int},
	{Name: "attestation", Shape: strictjson.String},
	{Name: "asset", Shape: strictjson.String},
	{Name: "account", Shape: strictjson.String},
	{Name: "salt", Shape: strictjson.String},
	{Name: "balance", Shape: strictjson.String},
	{Name: "proof", Shape: sumtree.ProofShape},
}

// ParseBundle decodes a bundle strictly: strict JSON of the bundle's shape
// (no unknown, repeated, case-variant or missing member, no wrong type, no
// trailing data; whitespace is allowed, since nothing signs the bundle),
// then the version, the salt, the balance and the proof, in that order.
func ParseBundle(b []byte) (*Bundle, error) {
	if len(b) > maxBundleSize {
		return nil, fail(ErrMalformed, "the inclusion bundle is %d bytes, more than the limit of %d", len(b), maxBundleSize)
	}
	if err := strictjson.Check(b, bundleShape); err != nil {
		if errors.Is(err, strictjson.ErrSyntax) {
			return nil, wrap(ErrMalformed, err, "the inclusion bundle is not valid JSON (%v)", err)
		}
		return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
	}
	var raw struct {
		Version     int             `json:"version"`
		Attestation string          `json:"attestation"`
		Asset       string          `json:"asset"`
		Account     string          `json:"account"`
		Salt        string          `json:"salt"`
		Balance     string          `json:"balance"`
		Proof       json.RawMessage `json:"proof"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		// Unreachable after Check, which leaves one reading of b.
		return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
	}
	if raw.Version != 1 {
		return nil, fail(ErrMalformed, "the inclusion bundle has version %d, but this verifier reads version 1", raw.Version)
	}
	x := Bundle{Version: raw.Version, Attestation: raw.Attestation, Asset: raw.Asset, Account: raw.Account, Proof: new(sumtree.Proof)}
	if err := x.Salt.UnmarshalText([]byte(raw.Salt)); err != nil {
		return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
	}
	bal, err := strconv.ParseInt(raw.Balance, 10, 64)
	if err != nil || bal < 0 || strconv.FormatInt(bal, 10) != raw.Balance {
		return nil, fail(ErrMalformed, "the inclusion bundle is not of the documented shape (its balance is not a canonical decimal amount up to 2^63-1)")
	}
	x.Balance = Amount(bal)
	if err := x.Proof.UnmarshalJSON(raw.Proof); err != nil {
		return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
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
