package descriptor

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

// hardened is the first hardened BIP 32 child index.
const hardened = hdkeychain.HardenedKeyStart

// keyContext says where a key expression stands, which decides the public key
// encodings it may use.
type keyContext int

const (
	ctxSegwit  keyContext = iota // wpkh, wsh: compressed keys only
	ctxTaproot                   // tr: compressed or x-only keys, used x-only
)

// origin is the optional [fingerprint/path] of a key expression.
type origin struct {
	fingerprint [4]byte
	path        []uint32
}

// keyExpr is one parsed KEY: a fixed public key, or an extended public key with
// an unhardened derivation path and an optional final wildcard.
type keyExpr struct {
	origin *origin

	// Fixed hex public key (ext == nil).
	pub      *btcec.PublicKey
	pubBytes []byte // as written: 33 bytes compressed or 32 bytes x-only

	// Extended public key (ext != nil).
	ext    *hdkeychain.ExtendedKey
	extStr string   // the xpub as written (base58 is canonical)
	path   []uint32 // unhardened steps after the xpub, without the wildcard
	ranged bool     // path ends in /*

	// base is ext derived along path: for a ranged key the parent of every
	// child, for an unranged key the key itself (then fixed is its pubkey).
	base  *hdkeychain.ExtendedKey
	fixed *btcec.PublicKey

	// For a ranged key, base's public point, serialized key and chain code,
	// kept so that deriving a child costs one HMAC, one base-point
	// multiplication and one addition, without decompressing the parent
	// and the child as hdkeychain does on every call.
	basePoint btcec.JacobianPoint
	baseSer   []byte
	chainCode []byte
}

// pubKey returns the public key at child index (ignored unless ranged).
func (k *keyExpr) pubKey(index uint32) (*btcec.PublicKey, error) {
	if k.ext == nil {
		return k.pub, nil
	}
	if !k.ranged {
		return k.fixed, nil
	}
	if index >= hardened {
		return nil, fmt.Errorf("%w: %d is a hardened index; ranged keys derive 0..%d",
			ErrIndexOutOfRange, index, hardened-1)
	}
	return k.childPub(index)
}

// prepareRanged caches base's point, serialization and chain code.
func (k *keyExpr) prepareRanged() error {
	if k.base.Depth() == math.MaxUint8 {
		return fmt.Errorf("derive child: %w", hdkeychain.ErrDeriveBeyondMaxDepth)
	}
	pub, err := k.base.ECPubKey()
	if err != nil {
		return fmt.Errorf("derive child: %w", err)
	}
	pub.AsJacobian(&k.basePoint)
	k.baseSer = pub.SerializeCompressed()
	k.chainCode = k.base.ChainCode()
	return nil
}

// childPub is BIP-32 CKDpub for a non-hardened index: with
// I = HMAC-SHA512(chain code, serP(parent) || ser32(index)), the child is
// parse256(I_L)·G + parent, invalid if I_L >= n or the sum is the point at
// infinity (probability below 2^-127; reported as an error, as hdkeychain
// does). TestChildPubMatchesHDKeychain checks it against hdkeychain.
func (k *keyExpr) childPub(index uint32) (*btcec.PublicKey, error) {
	var data [37]byte
	copy(data[:33], k.baseSer)
	binary.BigEndian.PutUint32(data[33:], index)
	mac := hmac.New(sha512.New, k.chainCode)
	mac.Write(data[:])
	il := mac.Sum(nil)[:32]
	var scalar btcec.ModNScalar
	if overflow := scalar.SetByteSlice(il); overflow {
		return nil, fmt.Errorf("derive child %d: %w", index, hdkeychain.ErrInvalidChild)
	}
	var point btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&scalar, &point)
	btcec.AddNonConst(&point, &k.basePoint, &point)
	if (point.X.IsZero() && point.Y.IsZero()) || point.Z.IsZero() {
		return nil, fmt.Errorf("derive child %d: %w", index, hdkeychain.ErrInvalidChild)
	}
	point.ToAffine()
	return btcec.NewPublicKey(&point.X, &point.Y), nil
}

// String writes the key expression in canonical form.
func (k *keyExpr) String() string {
	var b strings.Builder
	if k.origin != nil {
		b.WriteByte('[')
		b.WriteString(hex.EncodeToString(k.origin.fingerprint[:]))
		writePath(&b, k.origin.path)
		b.WriteByte(']')
	}
	if k.ext == nil {
		b.WriteString(hex.EncodeToString(k.pubBytes))
		return b.String()
	}
	b.WriteString(k.extStr)
	writePath(&b, k.path)
	if k.ranged {
		b.WriteString("/*")
	}
	return b.String()
}

func writePath(b *strings.Builder, path []uint32) {
	for _, step := range path {
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(uint64(step&^hardened), 10))
		if step >= hardened {
			b.WriteByte('h')
		}
	}
}

// parseKey parses a KEY expression for network net in context ctx.
func parseKey(s string, net *chaincfg.Params, ctx keyContext) (*keyExpr, error) {
	k := &keyExpr{}
	rest := s
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, fmt.Errorf("%w: key origin %q has no closing ']'", ErrSyntax, shorten(s))
		}
		o, err := parseOrigin(rest[1:end])
		if err != nil {
			return nil, err
		}
		k.origin = o
		rest = rest[end+1:]
		if strings.HasPrefix(rest, "[") {
			return nil, fmt.Errorf("%w: more than one key origin", ErrSyntax)
		}
	}
	if strings.ContainsAny(rest, "[]") {
		return nil, fmt.Errorf("%w: misplaced '[' or ']' in key %q (key origin must come first)",
			ErrSyntax, shorten(rest))
	}
	tok, pathStr, hasPath := strings.Cut(rest, "/")
	if tok == "" {
		return nil, fmt.Errorf("%w: missing key", ErrSyntax)
	}

	// Hex public key.
	if isHex(tok) && (len(tok) == 64 || len(tok) == 66 || len(tok) == 130) {
		if hasPath {
			return nil, fmt.Errorf("%w: derivation path after a non-extended key %q",
				ErrSyntax, shorten(tok))
		}
		return k, k.setHexKey(tok, ctx)
	}

	// A WIF private key.
	if _, err := btcutil.DecodeWIF(tok); err == nil {
		return nil, fmt.Errorf("%w: WIF private key", ErrPrivateKey)
	}

	ext, err := hdkeychain.NewKeyFromString(tok)
	if err != nil {
		if isPrivatePrefix(tok) {
			return nil, fmt.Errorf("%w: extended private key (and it does not decode: %w)",
				ErrPrivateKey, err)
		}
		return nil, fmt.Errorf("%w: %q is neither a hex public key nor an extended public key: %w",
			ErrInvalidKey, shorten(tok), err)
	}
	if ext.IsPrivate() {
		return nil, fmt.Errorf("%w: extended private key %s", ErrPrivateKey, shorten(tok))
	}
	if err := checkExtNet(ext, net); err != nil {
		return nil, err
	}
	k.ext, k.extStr = ext, tok
	if hasPath {
		if err := k.parseExtPath(pathStr); err != nil {
			return nil, err
		}
	}
	k.base = ext
	for _, step := range k.path {
		if k.base, err = k.base.Derive(step); err != nil {
			return nil, fmt.Errorf("%w: derive %s: %w", ErrInvalidKey, shorten(k.String()), err)
		}
	}
	if k.ranged {
		// Fail now, not at the first Script call, if the depth limit
		// forbids children.
		if err := k.prepareRanged(); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidKey, shorten(k.String()), err)
		}
		if _, err := k.pubKey(0); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidKey, shorten(k.String()), err)
		}
	} else if k.fixed, err = k.base.ECPubKey(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidKey, shorten(k.String()), err)
	}
	return k, nil
}

// setHexKey sets k to the hex public key tok.
func (k *keyExpr) setHexKey(tok string, ctx keyContext) error {
	raw, _ := hex.DecodeString(tok) // isHex checked
	var err error
	switch len(raw) {
	case 65:
		return fmt.Errorf("%w: uncompressed public key %s: segwit and taproot need compressed keys",
			ErrInvalidKey, shorten(tok))
	case 32:
		if ctx != ctxTaproot {
			return fmt.Errorf("%w: x-only public key %s is only allowed in tr()",
				ErrInvalidKey, shorten(tok))
		}
		k.pub, err = schnorr.ParsePubKey(raw)
	default: // 33
		if raw[0] != 0x02 && raw[0] != 0x03 {
			return fmt.Errorf("%w: %s is not a compressed public key (must start with 02 or 03)",
				ErrInvalidKey, shorten(tok))
		}
		k.pub, err = btcec.ParsePubKey(raw)
	}
	if err != nil {
		return fmt.Errorf("%w: public key %s: %w", ErrInvalidKey, shorten(tok), err)
	}
	k.pubBytes = raw
	return nil
}

// parseExtPath parses the steps after an extended public key: unhardened
// indexes, optionally ending in the wildcard *.
func (k *keyExpr) parseExtPath(s string) error {
	steps := strings.Split(s, "/")
	for i, step := range steps {
		if step == "*" || step == "*h" || step == "*'" {
			if i != len(steps)-1 {
				return fmt.Errorf("%w: wildcard '*' must be the last derivation step", ErrSyntax)
			}
			if step != "*" {
				return fmt.Errorf("%w: hardened wildcard %q needs the private key", ErrHardenedDerivation, step)
			}
			k.ranged = true
			break
		}
		idx, err := parseStep(step)
		if err != nil {
			return err
		}
		if idx >= hardened {
			return fmt.Errorf("%w: step %q needs the private key; derive the xpub past it and put the hardened steps in the key origin",
				ErrHardenedDerivation, step)
		}
		k.path = append(k.path, idx)
	}
	return nil
}

// parseOrigin parses the inside of [fingerprint/path].
func parseOrigin(s string) (*origin, error) {
	fp, pathStr, hasPath := strings.Cut(s, "/")
	if len(fp) != 8 || !isHex(fp) {
		return nil, fmt.Errorf("%w: key origin fingerprint %q is not 8 hex characters", ErrSyntax, fp)
	}
	o := &origin{}
	_, _ = hex.Decode(o.fingerprint[:], []byte(fp))
	if !hasPath {
		return o, nil
	}
	for _, step := range strings.Split(pathStr, "/") {
		idx, err := parseStep(step)
		if err != nil {
			return nil, fmt.Errorf("key origin: %w", err)
		}
		o.path = append(o.path, idx)
	}
	return o, nil
}

// parseStep parses one derivation step: a decimal index below 2^31, followed
// by h or ' when hardened.
func parseStep(step string) (uint32, error) {
	num, isHardened := step, false
	if n := len(step); n > 0 && (step[n-1] == 'h' || step[n-1] == '\'') {
		num, isHardened = step[:n-1], true
	}
	if num == "" {
		return 0, fmt.Errorf("%w: empty derivation step", ErrSyntax)
	}
	if num == "*" {
		return 0, fmt.Errorf("%w: wildcard '*' is not allowed here", ErrSyntax)
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, fmt.Errorf("%w: invalid derivation step %q", ErrSyntax, step)
		}
	}
	v, err := strconv.ParseUint(num, 10, 32)
	if err != nil || v >= hardened {
		return 0, fmt.Errorf("%w: derivation index %s out of range (max %d)", ErrSyntax, num, hardened-1)
	}
	idx := uint32(v)
	if isHardened {
		idx += hardened
	}
	return idx, nil
}

// checkExtNet checks that ext carries the public version bytes of net.
func checkExtNet(ext *hdkeychain.ExtendedKey, net *chaincfg.Params) error {
	v := ext.Version()
	if bytes.Equal(v, net.HDPublicKeyID[:]) {
		return nil
	}
	for _, other := range knownNets {
		if bytes.Equal(v, other.HDPublicKeyID[:]) {
			return fmt.Errorf("%w: %s is for %s, network is %s",
				ErrWrongNetwork, extPrefix(other), netFamily(other), net.Name)
		}
	}
	return fmt.Errorf("%w: extended public key version %08x is not %s's %08x (SLIP-132 ypub/zpub keys must be converted to %s)",
		ErrInvalidKey, binary.BigEndian.Uint32(v), net.Name,
		binary.BigEndian.Uint32(net.HDPublicKeyID[:]), extPrefix(net))
}

// extPrefix names the extended public keys of net.
func extPrefix(net *chaincfg.Params) string {
	switch net.HDPublicKeyID {
	case chaincfg.MainNetParams.HDPublicKeyID:
		return "xpub"
	case chaincfg.TestNet3Params.HDPublicKeyID:
		return "tpub"
	}
	return "extended key"
}

// isPrivatePrefix reports whether tok looks like an extended private key.
func isPrivatePrefix(tok string) bool {
	return len(tok) >= 4 && tok[1:4] == "prv"
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return len(s) > 0 && len(s)%2 == 0
}
