package attest

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/strictjson"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// AbsenceVersion is the version of the absence statement format.
const AbsenceVersion = 1

// Absence is the issuer's signed statement that an account is not in an
// asset's liability tree of one version 3 attestation (docs/proofs.md 5.1):
// what koshd hands a holder who asks for their inclusion bundle while the
// account held none of the asset at the cut-off. It names the account's
// last entry in the asset at or before the cut-off, so that a receipt the
// holder keeps either agrees with it (that entry left the balance at 0) or
// contradicts it, and then the two signed documents are the evidence.
type Absence struct {
	// Version is AbsenceVersion.
	Version int `json:"version"`
	// Attestation is the id of the attestation.
	Attestation string `json:"attestation"`
	// Seq is the attestation's sequence number.
	Seq int64 `json:"seq"`
	// Asset is the asset code.
	Asset string `json:"asset"`
	// Account is the account id.
	Account string `json:"account"`
	// LastSeq is the journal sequence of the account's last entry in the
	// asset at or before the cut-off; 0 when it never had one.
	LastSeq int64 `json:"last_seq"`
	// IssuerKey is the attestation's issuer key, 64 hex.
	IssuerKey string `json:"issuer_key"`
	// Signature is the issuer's BIP-340 signature over
	// TaggedHash("kosh/absence", canonical bytes without the signature).
	Signature string `json:"signature,omitempty"`
}

// absenceShape is the statement's shape (strictjson).
var absenceShape = strictjson.Object{
	{Name: "version", Shape: strictjson.Int},
	{Name: "attestation", Shape: strictjson.String},
	{Name: "seq", Shape: strictjson.Int},
	{Name: "asset", Shape: strictjson.String},
	{Name: "account", Shape: strictjson.String},
	{Name: "last_seq", Shape: strictjson.Int},
	{Name: "issuer_key", Shape: strictjson.String},
	{Name: "signature", Shape: strictjson.String},
}

// Digest is what the issuer signs.
func (s *Absence) Digest() ([32]byte, error) {
	c := *s
	c.Signature = ""
	b, err := jcs.Marshal(&c)
	if err != nil {
		return [32]byte{}, fmt.Errorf("absence statement: %w", err)
	}
	return sig.Digest(taghash.TagAbsence, b), nil
}

// Sign sets IssuerKey and signs the statement with the issuer's key.
func (s *Absence) Sign(key *btcec.PrivateKey) error { return s.sign(key, nil) }

// SignWithAux is Sign with caller-given BIP-340 auxiliary randomness, for
// reproducible test vectors only.
func (s *Absence) SignWithAux(key *btcec.PrivateKey, aux [32]byte) error { return s.sign(key, &aux) }

func (s *Absence) sign(key *btcec.PrivateKey, aux *[32]byte) error {
	s.IssuerKey = sig.EncodeKey(sig.XOnly(key.PubKey()))
	s.Signature = ""
	d, err := s.Digest()
	if err != nil {
		return err
	}
	s.Signature, err = sig.SignEncoded(key, d, aux)
	if err != nil {
		return fmt.Errorf("sign absence statement: %w", err)
	}
	return nil
}

// Marshal returns the statement's canonical bytes.
func (s *Absence) Marshal() ([]byte, error) { return jcs.Marshal(s) }

// ParseAbsence decodes a statement strictly (its shape, no trailing data)
// and checks its version; Verify checks the signature.
func ParseAbsence(b []byte) (*Absence, error) {
	if len(b) > 1<<16 {
		return nil, fail(ErrMalformed, "the absence statement is %d bytes, more than the limit of %d", len(b), 1<<16)
	}
	if err := strictjson.Check(b, absenceShape); err != nil {
		if errors.Is(err, strictjson.ErrSyntax) {
			return nil, wrap(ErrMalformed, err, "the absence statement is not valid JSON (%v)", err)
		}
		return nil, wrap(ErrMalformed, err, "the absence statement is not of the documented shape (%v)", err)
	}
	var s Absence
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, wrap(ErrMalformed, err, "the absence statement is not of the documented shape (%v)", err)
	}
	if s.Version != AbsenceVersion {
		return nil, fail(ErrMalformed, "the absence statement has version %d, but this verifier reads version %d", s.Version, AbsenceVersion)
	}
	return &s, nil
}

// Verify checks the statement's signature under the issuer key it names.
func (s *Absence) Verify() error {
	key, err := sig.ParseKey(s.IssuerKey)
	if err != nil {
		return fail(ErrMalformed, "the absence statement's issuer key is not a BIP-340 x-only public key in 64 lower-case hex digits")
	}
	sg, err := sig.ParseSignature(s.Signature)
	if err != nil {
		return fail(ErrMalformed, "the absence statement's signature is not 128 lower-case hex digits")
	}
	d, err := s.Digest()
	if err != nil {
		return wrap(ErrMalformed, err, "%v", err)
	}
	if err := sig.Verify(key, d, sg); err != nil {
		return wrap(ErrSignature, err, "the absence statement's signature does not verify under issuer key %s", s.IssuerKey)
	}
	return nil
}
