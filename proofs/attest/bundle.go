package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/kosh-reserve/kosh/proofs/strictjson"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// maxBundleSize bounds an inclusion bundle document.
const maxBundleSize = 1 << 20

// Bundle is what a wallet receives to check its own inclusion: the account,
// its per-attestation salt and balance, and the inclusion proof in its JSON
// form, for one asset of one attestation. Version 1 carries a version 1
// proof (attestation versions 1 and 2); version 2 also the account's last
// journal sequence, with a share-set proof (attestation version 3).
type Bundle struct {
	// Version is 1 or 2.
	Version int
	// Attestation is the hex hash (id) of the attestation the proof is for.
	Attestation string
	// Asset is the asset code.
	Asset string
	// Account is the holder's account id.
	Account string
	// Salt is the account's salt in this attestation, 64 hex.
	Salt sumtree.Salt
	// Balance is the balance the tree holds for the account.
	Balance Amount
	// Seq is the journal sequence of the last entry applied to the
	// account at the cut-off (version 2).
	Seq int64
	// Proof is the inclusion proof (version 1).
	Proof *sumtree.Proof
	// ShareProof is the share-set proof (version 2).
	ShareProof *sumtree.ShareProof
}

type bundleV1JSON struct {
	Version     int            `json:"version"`
	Attestation string         `json:"attestation"`
	Asset       string         `json:"asset"`
	Account     string         `json:"account"`
	Salt        sumtree.Salt   `json:"salt"`
	Balance     Amount         `json:"balance"`
	Proof       *sumtree.Proof `json:"proof"`
}

type bundleV2JSON struct {
	Version     int                 `json:"version"`
	Attestation string              `json:"attestation"`
	Asset       string              `json:"asset"`
	Account     string              `json:"account"`
	Salt        sumtree.Salt        `json:"salt"`
	Balance     Amount              `json:"balance"`
	Seq         int64               `json:"seq"`
	Proof       *sumtree.ShareProof `json:"proof"`
}

// MarshalJSON writes the bundle in the form of its version.
func (b *Bundle) MarshalJSON() ([]byte, error) {
	if b.Version == 2 {
		return json.Marshal(bundleV2JSON{b.Version, b.Attestation, b.Asset, b.Account, b.Salt, b.Balance, b.Seq, b.ShareProof})
	}
	return json.Marshal(bundleV1JSON{b.Version, b.Attestation, b.Asset, b.Account, b.Salt, b.Balance, b.Proof})
}

// NewBundle makes the version 1 inclusion bundle of accountID from the
// asset's tree. id is the attestation's hex hash.
func NewBundle(id string, tree *sumtree.Tree, accountID string, balance int64) (*Bundle, error) {
	proof, salt, err := tree.Proof(accountID)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %s in %s: %w", accountID, tree.AssetCode(), err)
	}
	return &Bundle{Version: 1, Attestation: id, Asset: tree.AssetCode(), Account: accountID,
		Salt: salt, Balance: Amount(balance), Proof: proof}, nil
}

// NewBundle2 makes the version 2 inclusion bundle of accountID from the
// asset's version 2 tree. id is the attestation's hex hash.
func NewBundle2(id string, tree *sumtree.ShareTree, accountID string) (*Bundle, error) {
	proof, salt, h, err := tree.Proof(accountID)
	if err != nil {
		return nil, fmt.Errorf("share-set proof of %s in %s: %w", accountID, tree.AssetCode(), err)
	}
	return &Bundle{Version: 2, Attestation: id, Asset: tree.AssetCode(), Account: accountID,
		Salt: salt, Balance: Amount(h.Balance), Seq: int64(h.Seq), ShareProof: proof}, nil
}

// bundleShape and bundleShape2 are the shapes of bundles of versions 1
// and 2 (strictjson).
var (
	bundleShape = strictjson.Object{
		{Name: "version", Shape: strictjson.Int},
		{Name: "attestation", Shape: strictjson.String},
		{Name: "asset", Shape: strictjson.String},
		{Name: "account", Shape: strictjson.String},
		{Name: "salt", Shape: strictjson.String},
		{Name: "balance", Shape: strictjson.String},
		{Name: "proof", Shape: sumtree.ProofShape},
	}
	// bundleShape2 is bundleShape's first six members, seq and the
	// share-set proof.
	bundleShape2 = append(slices.Clone(bundleShape[:6]),
		strictjson.Member{Name: "seq", Shape: strictjson.Int},
		strictjson.Member{Name: "proof", Shape: sumtree.ShareProofShape})
)

// ParseBundle decodes a bundle strictly: strict JSON of the shape of the
// bundle's version (no unknown, repeated, case-variant or missing member,
// no wrong type, no trailing data; whitespace is allowed, since nothing
// signs the bundle), then the version, the salt, the balance, the
// sequence and the proof, in that order.
func ParseBundle(b []byte) (*Bundle, error) {
	if len(b) > maxBundleSize {
		return nil, fail(ErrMalformed, "the inclusion bundle is %d bytes, more than the limit of %d", len(b), maxBundleSize)
	}
	// The version picks the shape; the strict check below rejects any
	// case-variant spelling that this lenient read let through.
	var v struct {
		Version int `json:"version"`
	}
	_ = json.Unmarshal(b, &v)
	shape := bundleShape
	if v.Version == 2 {
		shape = bundleShape2
	}
	if err := strictjson.Check(b, shape); err != nil {
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
		Seq         int64           `json:"seq"`
		Proof       json.RawMessage `json:"proof"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		// Unreachable after Check, which leaves one reading of b.
		return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
	}
	if raw.Version != 1 && raw.Version != 2 {
		return nil, fail(ErrMalformed, "the inclusion bundle has version %d, but this verifier reads versions 1 and 2", raw.Version)
	}
	x := Bundle{Version: raw.Version, Attestation: raw.Attestation, Asset: raw.Asset, Account: raw.Account}
	if err := x.Salt.UnmarshalText([]byte(raw.Salt)); err != nil {
		return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
	}
	bal, err := strconv.ParseInt(raw.Balance, 10, 64)
	if err != nil || bal < 0 || strconv.FormatInt(bal, 10) != raw.Balance {
		return nil, fail(ErrMalformed, "the inclusion bundle is not of the documented shape (its balance is not a canonical decimal amount up to 2^63-1)")
	}
	x.Balance = Amount(bal)
	if x.Version == 1 {
		x.Proof = new(sumtree.Proof)
		if err := x.Proof.UnmarshalJSON(raw.Proof); err != nil {
			return nil, wrap(ErrMalformed, err, "the inclusion bundle is not of the documented shape (%v)", err)
		}
		return &x, nil
	}
	if raw.Seq < 0 {
		return nil, fail(ErrMalformed, "the inclusion bundle is not of the documented shape (its seq %d is negative)", raw.Seq)
	}
	x.Seq = raw.Seq
	x.ShareProof = new(sumtree.ShareProof)
	if err := x.ShareProof.UnmarshalJSON(raw.Proof); err != nil {
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

// ShareRoot returns the version 2 tree root the asset's liabilities
// publish (attestation version 3).
func (as *Asset) ShareRoot() (sumtree.ShareRoot, error) {
	r, err := as.Root()
	if err != nil {
		return sumtree.ShareRoot{}, err
	}
	l := &as.Liabilities
	sr := sumtree.ShareRoot{Root: r, Shares: l.Shares}
	if l.Window == nil {
		return sr, fail(ErrMalformed, "the liabilities of asset %s state no window", as.Code)
	}
	sr.Window = *l.Window
	if err := (*sumtree.Salt)(&sr.TreeID).UnmarshalText([]byte(l.TreeID)); err != nil {
		return sr, fail(ErrMalformed, "the liability tree id of asset %s is not 64 lower-case hex digits", as.Code)
	}
	return sr, nil
}
