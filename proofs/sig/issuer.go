package sig

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Sizes of the issuer signature encodings.
const (
	// XOnlyKeySize is the length of a BIP-340 x-only public key.
	XOnlyKeySize = 32
	// SignatureSize is the length of a BIP-340 signature.
	SignatureSize = 64
)

// ErrBadSignature is wrapped by every error that reports a well-formed
// signature that does not verify, as opposed to malformed input.
var ErrBadSignature = errors.New("signature does not verify")

// Digest returns the message an issuer signature signs: the BIP-340 tagged
// hash of the canonical (RFC 8785) bytes of a document under tag, e.g.
// taghash.TagAttestation or taghash.TagReceipt.
func Digest(tag string, canonicalBytes []byte) [32]byte {
	return taghash.Sum(tag, canonicalBytes)
}

// XOnly returns the BIP-340 x-only serialization of pub.
func XOnly(pub *btcec.PublicKey) [XOnlyKeySize]byte {
	var k [XOnlyKeySize]byte
	copy(k[:], schnorr.SerializePubKey(pub))
	return k
}

// Sign signs digest with priv using BIP-340, with fresh auxiliary randomness
// from crypto/rand, and checks the signature before returning it.
func Sign(priv *btcec.PrivateKey, digest [32]byte) ([SignatureSize]byte, error) {
	var aux [32]byte
	if _, err := rand.Read(aux[:]); err != nil {
		return [SignatureSize]byte{}, fmt.Errorf("read randomness for a BIP-340 signature: %w", err)
	}
	return SignWithAux(priv, digest, aux)
}

// SignWithAux signs digest with priv using the BIP-340 default signing
// algorithm with the given auxiliary randomness. The result depends only on
// its inputs, so any BIP-340 implementation reproduces it; use Sign in
// production.
func SignWithAux(priv *btcec.PrivateKey, digest [32]byte, aux [32]byte) ([SignatureSize]byte, error) {
	var out [SignatureSize]byte
	if priv == nil {
		return out, errors.New("cannot sign without an issuer private key")
	}
	s, err := schnorr.Sign(priv, digest[:], schnorr.CustomNonce(aux))
	if err != nil {
		return out, fmt.Errorf("BIP-340 signing with issuer key %x failed: %w", XOnly(priv.PubKey()), err)
	}
	copy(out[:], s.Serialize())
	return out, nil
}

// SignEncoded signs digest with priv, with aux as the auxiliary randomness
// when it is given (reproducible signatures for vectors) and fresh
// randomness otherwise, and returns the signature in its published form
// (EncodeSignature).
func SignEncoded(priv *btcec.PrivateKey, digest [32]byte, aux *[32]byte) (string, error) {
	var (
		s   [SignatureSize]byte
		err error
	)
	if aux != nil {
		s, err = SignWithAux(priv, digest, *aux)
	} else {
		s, err = Sign(priv, digest)
	}
	if err != nil {
		return "", err
	}
	return EncodeSignature(s), nil
}

// Verify checks the BIP-340 signature sig of digest under the x-only issuer
// key pubXOnly. It returns nil only for a valid signature; an invalid one
// gives an error wrapping ErrBadSignature, a key that is not a point on the
// curve gives a different error.
func Verify(pubXOnly [XOnlyKeySize]byte, digest [32]byte, sig [SignatureSize]byte) error {
	pub, err := schnorr.ParsePubKey(pubXOnly[:])
	if err != nil {
		return fmt.Errorf("issuer key %x is not a valid x-only secp256k1 public key: %w", pubXOnly, err)
	}
	s, err := schnorr.ParseSignature(sig[:])
	if err != nil {
		// r ≥ p or s ≥ n: no key could have made it.
		return fmt.Errorf("%w under issuer key %x: it is malformed (%v)", ErrBadSignature, pubXOnly, err)
	}
	if !s.Verify(digest[:], pub) {
		return fmt.Errorf("%w under issuer key %x", ErrBadSignature, pubXOnly)
	}
	return nil
}

// EncodeKey returns the x-only key as 64 lower-case hex characters.
func EncodeKey(k [XOnlyKeySize]byte) string { return hex.EncodeToString(k[:]) }

// ParseKey parses an x-only public key written as 64 hex characters and
// checks that it is a point on the curve.
func ParseKey(s string) ([XOnlyKeySize]byte, error) {
	var k [XOnlyKeySize]byte
	if err := decodeLowerHex(k[:], s); err != nil {
		return k, fmt.Errorf("issuer key %q is not %d lower-case hex characters: %w", s, 2*XOnlyKeySize, err)
	}
	if _, err := schnorr.ParsePubKey(k[:]); err != nil {
		return k, fmt.Errorf("issuer key %s is not a valid x-only secp256k1 public key: %w", s, err)
	}
	return k, nil
}

// EncodeSignature returns the signature as 128 lower-case hex characters.
func EncodeSignature(s [SignatureSize]byte) string { return hex.EncodeToString(s[:]) }

// ParseSignature parses a signature written as 128 hex characters. It checks
// only the encoding; Verify checks the rest.
func ParseSignature(s string) ([SignatureSize]byte, error) {
	var out [SignatureSize]byte
	if err := decodeLowerHex(out[:], s); err != nil {
		return out, fmt.Errorf("issuer signature %q is not %d lower-case hex characters: %w", s, 2*SignatureSize, err)
	}
	return out, nil
}

// errNotLowerHex is the cause reported for hex text that is not canonical.
var errNotLowerHex = errors.New("wrong length or not lower-case hex")

// decodeLowerHex fills dst from exactly 2*len(dst) lower-case hex characters.
// Upper case is refused so that every key and signature has one spelling in
// signed documents.
func decodeLowerHex(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return errNotLowerHex
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return errNotLowerHex
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

// Signer signs many digests with one issuer key, by the BIP-340 default
// signing algorithm written out with everything that depends only on the
// key computed once: the x-only key, the secret negated for an even Y, and
// the BIP-340 tag prefixes. A signature then costs one scalar base
// multiplication, half of what schnorr.Sign costs (it derives the public
// key again on every call). Each signature uses fresh auxiliary randomness
// from crypto/rand and is not checked after signing (Sign does that). It is
// for high-volume documents (balance receipts); attestations use Sign.
type Signer struct {
	d   btcec.ModNScalar // secret key, negated if its point has an odd Y
	px  [32]byte         // x-only public key
	pub string           // px, hex
}

// BIP-340 tags, precomputed.
var (
	tagAux       = taghash.New("BIP0340/aux")
	tagNonce     = taghash.New("BIP0340/nonce")
	tagChallenge = taghash.New("BIP0340/challenge")
)

// NewSigner returns a Signer for priv.
func NewSigner(priv *btcec.PrivateKey) *Signer {
	s := &Signer{px: XOnly(priv.PubKey())}
	s.pub = EncodeKey(s.px)
	s.d.Set(&priv.Key)
	var p btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&s.d, &p)
	p.ToAffine()
	if p.Y.IsOdd() {
		s.d.Negate()
	}
	return s
}

// Key is the signer's x-only key, 64 lower-case hex.
func (s *Signer) Key() string { return s.pub }

// Sign signs digest (BIP-340) with fresh auxiliary randomness.
func (s *Signer) Sign(digest [32]byte) ([SignatureSize]byte, error) {
	var aux [32]byte
	if _, err := rand.Read(aux[:]); err != nil {
		return [SignatureSize]byte{}, fmt.Errorf("read randomness for a BIP-340 signature: %w", err)
	}
	return s.signAux(digest, aux)
}

// signAux is BIP-340's Sign(sk, m, a) with the key-dependent steps done in
// NewSigner.
func (s *Signer) signAux(digest, aux [32]byte) ([SignatureSize]byte, error) {
	var out [SignatureSize]byte
	// t = bytes(d) xor hash_BIP0340/aux(a)
	var t [32]byte
	s.d.PutBytes(&t)
	ha := tagAux.Sum(aux[:])
	for i := range t {
		t[i] ^= ha[i]
	}
	// k' = int(hash_BIP0340/nonce(t || bytes(P) || m)) mod n; k' != 0
	rnd := tagNonce.Sum(t[:], s.px[:], digest[:])
	var k btcec.ModNScalar
	k.SetBytes(&rnd)
	if k.IsZero() {
		return out, fmt.Errorf("BIP-340 signing with issuer key %s failed: the nonce is zero", s.pub)
	}
	// R = k'G; k = k' if has_even_y(R), else n - k'
	var r btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&k, &r)
	r.ToAffine()
	if r.Y.IsOdd() {
		k.Negate()
	}
	var rx [32]byte
	r.X.PutBytes(&rx)
	// e = int(hash_BIP0340/challenge(bytes(R) || bytes(P) || m)) mod n
	he := tagChallenge.Sum(rx[:], s.px[:], digest[:])
	var e btcec.ModNScalar
	e.SetBytes(&he)
	// sig = bytes(R) || bytes((k + e*d) mod n)
	e.Mul(&s.d).Add(&k)
	copy(out[:32], rx[:])
	e.PutBytesUnchecked(out[32:])
	return out, nil
}
