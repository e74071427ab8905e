package receipt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/failure"
	"github.com/kosh-reserve/kosh/proofs/field"
	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/strictjson"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Receipt format versions.
const (
	// ReceiptVersion is the version koshd issues: a receipt carries a
	// random nonce and the path that places it in a batch of receipts
	// signed together (one signature over the batch root).
	ReceiptVersion = 2
	// ReceiptVersionSingle is the first version: one signature per receipt,
	// over its own digest, with no nonce and no batch. Verifiers still
	// accept it, so receipts a holder kept stay evidence.
	ReceiptVersionSingle = 1
)

// Receipt batch limits.
const (
	// MaxReceiptBatch is the largest batch a receipt may claim.
	MaxReceiptBatch = 1 << 16
	// NonceSize is the nonce length in bytes (32 hex digits).
	NonceSize = 16
)

// maxReceiptSize bounds a receipt document.
const maxReceiptSize = 1 << 16

// Receipt is an issuer-signed statement of one account's balance after one
// journal entry: dispute evidence a holder keeps.
type Receipt struct {
	// Version is ReceiptVersion, or ReceiptVersionSingle for receipts made
	// before batching.
	Version int `json:"version"`
	// Asset is the asset code.
	Asset string `json:"asset"`
	// Account is the account id.
	Account string `json:"account"`
	// Balance is the account's balance after the entry, in base units.
	Balance field.Amount `json:"balance"`
	// Seq is the journal sequence of the entry.
	Seq field.Amount `json:"seq"`
	// Time of the entry, field.TimeLayout.
	Time string `json:"time"`
	// IssuerKey is the issuer's x-only key, 64 hex.
	IssuerKey string `json:"issuer_key"`
	// Nonce is 16 random bytes, 32 hex (version 2): it hides the receipt
	// from the other receipts of its batch, whose paths contain its digest.
	Nonce string `json:"nonce,omitempty"`
	// Batch places the receipt in the batch the signature covers (version
	// 2).
	Batch *ReceiptBatch `json:"batch,omitempty"`
	// Signature is BIP-340 over SignedDigest, 128 hex.
	Signature string `json:"signature,omitempty"`
}

// ReceiptBatch is a receipt's place in the batch of receipts signed with
// one signature: an RFC 9162 Merkle audit path from the receipt's digest to
// the batch root, with Kosh's tagged hashes.
type ReceiptBatch struct {
	// Index is the receipt's position in the batch, from 0.
	Index uint32 `json:"index"`
	// Size is the number of receipts in the batch.
	Size uint32 `json:"size"`
	// Path holds the audit path, leaf level first, each 64 hex.
	Path []string `json:"path"`
}

// Marshal returns the canonical bytes of the receipt, signature included.
func (r *Receipt) Marshal() ([]byte, error) {
	b, err := r.appendCanonical(make([]byte, 0, 512), true, true)
	if err != nil {
		return nil, fmt.Errorf("marshal receipt: %w", err)
	}
	return b, nil
}

// appendCanonical appends the RFC 8785 canonical form of the receipt, with
// or without its signature and batch members. It writes the fixed shape
// directly (members in canonical order), which is many times faster than
// jcs.Marshal; for a string that is not valid UTF-8 it falls back to
// jcs.Marshal, whose output it otherwise equals byte for byte
// (FuzzReceiptCanonical).
func (r *Receipt) appendCanonical(b []byte, withSig, withBatch bool) ([]byte, error) {
	valid := utf8.ValidString(r.Asset) && utf8.ValidString(r.Account) && utf8.ValidString(r.Time) &&
		utf8.ValidString(r.IssuerKey) && utf8.ValidString(r.Nonce) && utf8.ValidString(r.Signature)
	if withBatch && r.Batch != nil {
		for _, p := range r.Batch.Path {
			valid = valid && utf8.ValidString(p)
		}
	}
	if !valid || r.Balance < 0 || r.Seq < 0 {
		c := *r
		if !withSig {
			c.Signature = ""
		}
		if !withBatch {
			c.Batch = nil
		}
		out, err := jcs.Marshal(&c)
		if err != nil {
			return nil, err
		}
		return append(b, out...), nil
	}
	b = append(b, `{"account":`...)
	b = jcs.AppendString(b, r.Account)
	b = append(b, `,"asset":`...)
	b = jcs.AppendString(b, r.Asset)
	b = append(b, `,"balance":"`...)
	b = strconv.AppendInt(b, int64(r.Balance), 10)
	b = append(b, '"')
	if withBatch && r.Batch != nil {
		b = append(b, `,"batch":{"index":`...)
		b = strconv.AppendUint(b, uint64(r.Batch.Index), 10)
		b = append(b, `,"path":`...)
		if r.Batch.Path == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for i, p := range r.Batch.Path {
				if i > 0 {
					b = append(b, ',')
				}
				b = jcs.AppendString(b, p)
			}
			b = append(b, ']')
		}
		b = append(b, `,"size":`...)
		b = strconv.AppendUint(b, uint64(r.Batch.Size), 10)
		b = append(b, '}')
	}
	b = append(b, `,"issuer_key":`...)
	b = jcs.AppendString(b, r.IssuerKey)
	if r.Nonce != "" {
		b = append(b, `,"nonce":`...)
		b = jcs.AppendString(b, r.Nonce)
	}
	b = append(b, `,"seq":"`...)
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	b = append(b, '"')
	if withSig && r.Signature != "" {
		b = append(b, `,"signature":`...)
		b = jcs.AppendString(b, r.Signature)
	}
	b = append(b, `,"time":`...)
	b = jcs.AppendString(b, r.Time)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	return append(b, '}'), nil
}

// Hash returns the receipt digest, TaggedHash("kosh/receipt", canonical
// bytes of the receipt without its "signature" and "batch" members). A
// version 1 receipt is signed over it; a version 2 receipt is a leaf of the
// batch whose root is signed (SignedDigest).
func (r *Receipt) Hash() ([32]byte, error) {
	var buf [512]byte
	b, err := r.appendCanonical(buf[:0], false, false)
	if err != nil {
		return [32]byte{}, fmt.Errorf("marshal receipt: %w", err)
	}
	return sig.Digest(taghash.TagReceipt, b), nil
}

// SignedDigest returns what the issuer's signature covers: for version 1
// the receipt digest; for version 2 ReceiptBatchDigest of its batch's size
// and root, the root recomputed from the receipt digest and the batch path.
func (r *Receipt) SignedDigest() ([32]byte, error) {
	h, err := r.Hash()
	if err != nil {
		return h, err
	}
	if r.Version == ReceiptVersionSingle {
		return h, nil
	}
	if r.Batch == nil {
		return h, failure.New(failure.ErrMalformed, "the receipt has no batch")
	}
	path := make([][32]byte, len(r.Batch.Path))
	for i, p := range r.Batch.Path {
		if err := decodeHex32(&path[i], p); err != nil {
			return h, failure.New(failure.ErrMalformed, "batch path entry %d of the receipt is not 64 lower-case hex digits", i)
		}
	}
	root, err := ReceiptBatchRoot(h, r.Batch.Index, r.Batch.Size, path)
	if err != nil {
		return h, err
	}
	return ReceiptBatchDigest(root, r.Batch.Size), nil
}

// Sign sets IssuerKey and Signature of a receipt signed on its own: a
// version 1 receipt, or a version 2 receipt in a batch of one.
func (r *Receipt) Sign(key *btcec.PrivateKey) error { return r.sign(key, nil) }

// SignWithAux is Sign with fixed auxiliary randomness, for test vectors.
func (r *Receipt) SignWithAux(key *btcec.PrivateKey, aux [32]byte) error { return r.sign(key, &aux) }

func (r *Receipt) sign(key *btcec.PrivateKey, aux *[32]byte) error {
	if key == nil {
		return fmt.Errorf("sign receipt: no issuer key")
	}
	r.IssuerKey = sig.EncodeKey(sig.XOnly(key.PubKey()))
	if r.Version != ReceiptVersionSingle && r.Batch == nil {
		r.Batch = &ReceiptBatch{Index: 0, Size: 1, Path: []string{}}
	}
	h, err := r.SignedDigest()
	if err != nil {
		return err
	}
	if r.Signature, err = sig.SignEncoded(key, h, aux); err != nil {
		return fmt.Errorf("sign receipt: %w", err)
	}
	return nil
}

// receiptShape is the shape of a receipt of either version (strictjson);
// Verify requires nonce and batch in version 2 and refuses them in
// version 1.
var receiptShape = strictjson.Object{
	{Name: "version", Shape: strictjson.Int},
	{Name: "asset", Shape: strictjson.String},
	{Name: "account", Shape: strictjson.String},
	{Name: "balance", Shape: strictjson.String},
	{Name: "seq", Shape: strictjson.String},
	{Name: "time", Shape: strictjson.String},
	{Name: "issuer_key", Shape: strictjson.String},
	{Name: "nonce", Shape: strictjson.String, Optional: true},
	{Name: "batch", Shape: strictjson.Object{
		{Name: "index", Shape: strictjson.Int},
		{Name: "size", Shape: strictjson.Int},
		{Name: "path", Shape: strictjson.Array{Elem: strictjson.String}},
	}, Optional: true},
	{Name: "signature", Shape: strictjson.String, Optional: true},
}

// ParseReceipt decodes a receipt; like Parse it accepts only strict JSON
// of the receipt's shape (no unknown, repeated, case-variant or missing
// member, no wrong type) that is also the canonical encoding of the
// receipt's fields.
func ParseReceipt(b []byte) (*Receipt, error) {
	if len(b) > maxReceiptSize {
		return nil, failure.New(failure.ErrMalformed, "the receipt is %d bytes, more than the limit of %d", len(b), maxReceiptSize)
	}
	if err := strictjson.Check(b, receiptShape); err != nil {
		if errors.Is(err, strictjson.ErrSyntax) {
			return nil, failure.Wrap(failure.ErrMalformed, err, "the receipt is not valid JSON (%v)", err)
		}
		return nil, failure.Wrap(failure.ErrMalformed, err, "the receipt does not have the receipt shape (%v)", err)
	}
	c, err := jcs.Canonicalize(b)
	if err != nil {
		return nil, failure.Wrap(failure.ErrMalformed, err, "the receipt is not valid JSON (%v)", err)
	}
	if !bytes.Equal(c, b) {
		return nil, failure.New(failure.ErrNotCanonical, "the receipt is not in RFC 8785 canonical form")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var r Receipt
	if err := d.Decode(&r); err != nil {
		return nil, failure.Wrap(failure.ErrMalformed, err, "the receipt does not have the receipt shape (%v)", err)
	}
	if again, err := r.Marshal(); err != nil || !bytes.Equal(again, b) {
		return nil, failure.New(failure.ErrNotCanonical, "the receipt is canonical JSON but not the canonical encoding of its fields")
	}
	return &r, nil
}

// Verify checks the receipt's fields and its signature. If issuer is not
// empty, the receipt must also be signed by that key (64 hex).
func (r *Receipt) Verify(issuer string) error {
	switch r.Version {
	case ReceiptVersionSingle:
		if r.Nonce != "" || r.Batch != nil {
			return failure.New(failure.ErrMalformed, "a version 1 receipt has no nonce and no batch")
		}
	case ReceiptVersion:
		if !field.IsLowerHex(r.Nonce, 2*NonceSize) {
			return failure.New(failure.ErrMalformed, "the receipt's nonce is not %d lower-case hex digits", 2*NonceSize)
		}
		if r.Batch == nil {
			return failure.New(failure.ErrMalformed, "the receipt has no batch")
		}
		if r.Batch.Size == 0 || r.Batch.Size > MaxReceiptBatch || r.Batch.Index >= r.Batch.Size {
			return failure.New(failure.ErrMalformed, "the receipt's batch position %d of %d is impossible (size 1 to %d, index below size)",
				r.Batch.Index, r.Batch.Size, MaxReceiptBatch)
		}
		if r.Batch.Path == nil {
			return failure.New(failure.ErrMalformed, "the receipt's batch has no path")
		}
	default:
		return failure.New(failure.ErrMalformed, "the receipt has version %d, but this verifier reads versions %d and %d",
			r.Version, ReceiptVersionSingle, ReceiptVersion)
	}
	if r.Asset == "" || len(r.Asset) > sumtree.MaxAssetCodeLen {
		return failure.New(failure.ErrMalformed, "the receipt's asset code is not 1 to %d bytes long", sumtree.MaxAssetCodeLen)
	}
	if r.Account == "" || len(r.Account) > sumtree.MaxIDLen {
		return failure.New(failure.ErrMalformed, "the receipt's account id is not 1 to %d bytes long", sumtree.MaxIDLen)
	}
	if uint64(r.Balance) > sumtree.MaxSum {
		return failure.New(failure.ErrMalformed, "the receipt's balance exceeds the maximum sum")
	}
	if _, err := field.ParseTime(r.Time); err != nil {
		return err
	}
	if issuer != "" && r.IssuerKey != issuer {
		return failure.New(failure.ErrSignature, "the receipt is signed by issuer key %s, not by the expected %s", r.IssuerKey, issuer)
	}
	key, err := sig.ParseKey(r.IssuerKey)
	if err != nil {
		return failure.New(failure.ErrMalformed, "the receipt's issuer key %q is not a BIP-340 x-only key in 64 lower-case hex digits", r.IssuerKey)
	}
	s, err := sig.ParseSignature(r.Signature)
	if err != nil {
		return failure.New(failure.ErrSignature, "the receipt's signature is missing or is not 128 lower-case hex digits")
	}
	h, err := r.SignedDigest()
	var e *failure.Error
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return failure.Wrap(failure.ErrMalformed, err, "the receipt hash cannot be computed (%v)", err)
	}
	if err := sig.Verify(key, h, s); err != nil {
		return failure.Wrap(failure.ErrSignature, err, "the receipt's signature does not verify under issuer key %s", r.IssuerKey)
	}
	return nil
}
