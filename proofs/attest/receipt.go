package attest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// ReceiptVersion is the receipt format version.
const ReceiptVersion = 1

// maxReceiptSize bounds a receipt document.
const maxReceiptSize = 1 << 16

// Receipt is an issuer-signed statement of one account's balance after one
// journal entry: dispute evidence a holder keeps.
type Receipt struct {
	// Version is 1.
	Version int `json:"version"`
	// Asset is the asset code.
	Asset string `json:"asset"`
	// Account is the account id.
	Account string `json:"account"`
	// Balance is the account's balance after the entry, in base units.
	Balance Amount `json:"balance"`
	// Seq is the journal sequence of the entry.
	Seq Amount `json:"seq"`
	// Time of the entry, TimeLayout.
	Time string `json:"time"`
	// IssuerKey is the issuer's x-only key, 64 hex.
	IssuerKey string `json:"issuer_key"`
	// Signature is BIP-340 over ReceiptHash, 128 hex.
	Signature string `json:"signature,omitempty"`
}

// Marshal returns the canonical bytes of the receipt, signature included.
func (r *Receipt) Marshal() ([]byte, error) {
	b, err := jcs.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("marshal receipt: %w", err)
	}
	return b, nil
}

// Hash returns TaggedHash("kosh/receipt", canonical bytes of the receipt
// without its "signature" member): what the issuer signs.
func (r *Receipt) Hash() ([32]byte, error) {
	c := *r
	c.Signature = ""
	b, err := c.Marshal()
	if err != nil {
		return [32]byte{}, err
	}
	return sig.Digest(taghash.TagReceipt, b), nil
}

// Sign sets IssuerKey and Signature.
func (r *Receipt) Sign(key *btcec.PrivateKey) error { return r.sign(key, nil) }

// SignWith sets IssuerKey and Signature using a Signer (for servers signing
// a receipt per operation).
func (r *Receipt) SignWith(s *sig.Signer) error {
	r.IssuerKey = s.Key()
	h, err := r.Hash()
	if err != nil {
		return err
	}
	sg, err := s.Sign(h)
	if err != nil {
		return fmt.Errorf("sign receipt: %w", err)
	}
	r.Signature = sig.EncodeSignature(sg)
	return nil
}

// SignWithAux is Sign with fixed auxiliary randomness, for test vectors.
func (r *Receipt) SignWithAux(key *btcec.PrivateKey, aux [32]byte) error { return r.sign(key, &aux) }

func (r *Receipt) sign(key *btcec.PrivateKey, aux *[32]byte) error {
	if key == nil {
		return fmt.Errorf("sign receipt: no issuer key")
	}
	r.IssuerKey = sig.EncodeKey(sig.XOnly(key.PubKey()))
	h, err := r.Hash()
	if err != nil {
		return err
	}
	var s [sig.SignatureSize]byte
	if aux != nil {
		s, err = sig.SignWithAux(key, h, *aux)
	} else {
		s, err = sig.Sign(key, h)
	}
	if err != nil {
		return fmt.Errorf("sign receipt: %w", err)
	}
	r.Signature = sig.EncodeSignature(s)
	return nil
}

// ParseReceipt decodes a receipt; like Parse it accepts only the canonical
// encoding of the receipt's fields.
func ParseReceipt(b []byte) (*Receipt, error) {
	if len(b) > maxReceiptSize {
		return nil, fail(ErrMalformed, "the receipt is %d bytes, more than the limit of %d", len(b), maxReceiptSize)
	}
	if _, err := jcs.Canonicalize(b); err != nil {
		return nil, wrap(ErrMalformed, err, "the receipt is not valid JSON (%v)", err)
	}
	if !jcs.IsCanonical(b) {
		return nil, fail(ErrNotCanonical, "the receipt is not in RFC 8785 canonical form")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var r Receipt
	if err := d.Decode(&r); err != nil {
		return nil, wrap(ErrMalformed, err, "the receipt does not have the receipt shape (%v)", err)
	}
	if again, err := r.Marshal(); err != nil || !bytes.Equal(again, b) {
		return nil, fail(ErrNotCanonical, "the receipt is canonical JSON but not the canonical encoding of its fields")
	}
	return &r, nil
}

// Verify checks the receipt's fields and its signature. If issuer is not
// empty, the receipt must also be signed by that key (64 hex).
func (r *Receipt) Verify(issuer string) error {
	if r.Version != ReceiptVersion {
		return fail(ErrMalformed, "the receipt has version %d, but this verifier reads version %d", r.Version, ReceiptVersion)
	}
	if r.Asset == "" || len(r.Asset) > sumtree.MaxAssetCodeLen {
		return fail(ErrMalformed, "the receipt's asset code is not 1 to %d bytes long", sumtree.MaxAssetCodeLen)
	}
	if r.Account == "" || len(r.Account) > sumtree.MaxIDLen {
		return fail(ErrMalformed, "the receipt's account id is not 1 to %d bytes long", sumtree.MaxIDLen)
	}
	if uint64(r.Balance) > sumtree.MaxSum {
		return fail(ErrMalformed, "the receipt's balance exceeds the maximum sum")
	}
	if _, err := ParseTime(r.Time); err != nil {
		return err
	}
	if issuer != "" && r.IssuerKey != issuer {
		return fail(ErrSignature, "the receipt is signed by issuer key %s, not by the expected %s", r.IssuerKey, issuer)
	}
	key, err := sig.ParseKey(r.IssuerKey)
	if err != nil {
		return fail(ErrMalformed, "the receipt's issuer key %q is not a BIP-340 x-only key in 64 lower-case hex digits", r.IssuerKey)
	}
	s, err := sig.ParseSignature(r.Signature)
	if err != nil {
		return fail(ErrSignature, "the receipt's signature is missing or is not 128 lower-case hex digits")
	}
	h, err := r.Hash()
	if err != nil {
		return wrap(ErrMalformed, err, "the receipt hash cannot be computed (%v)", err)
	}
	if err := sig.Verify(key, h, s); err != nil {
		return wrap(ErrSignature, err, "the receipt's signature does not verify under issuer key %s", r.IssuerKey)
	}
	return nil
}
