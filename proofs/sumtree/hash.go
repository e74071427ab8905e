package sumtree

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// TagShuffle domain-separates the key of the leaf-order shuffle. It never
// appears in a proof; it is listed with the other tags in docs/proofs.md.
const TagShuffle = "kosh/shuffle"

// MaxSum is the largest balance and the largest sum the tree accepts:
// 2^63-1, the largest int64, so every amount fits a signed 64-bit integer
// in any language and no sum can wrap.
const MaxSum uint64 = 1<<63 - 1

// Salt is the per-account, per-attestation secret that hides an account id
// in its commitment. It is hex-encoded in text form.
type Salt [32]byte

// MarshalText encodes the salt as 64 lowercase hex digits.
func (s Salt) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(s[:])), nil
}

// UnmarshalText decodes 64 hex digits.
func (s *Salt) UnmarshalText(b []byte) error {
	return decodeHash32((*[32]byte)(s), string(b), "salt")
}

// String returns the hex form.
func (s Salt) String() string { return hex.EncodeToString(s[:]) }

func decodeHash32(dst *[32]byte, s, what string) error {
	if len(s) != 64 {
		return fail(ErrMalformedProof, "%s must be 64 hex digits, not %d characters", what, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fail(ErrMalformedProof, "%s must be lowercase hex", what)
		}
	}
	if _, err := hex.Decode(dst[:], []byte(s)); err != nil {
		return fail(ErrMalformedProof, "%s is not valid hex", what)
	}
	return nil
}

// midstate is a SHA-256 state serialized after the tag prefix (and possibly
// a fixed message head) has been absorbed. Restoring it costs a copy instead
// of the compression of the 64-byte prefix.
type midstate []byte

func newMidstate(tag string, head ...[]byte) midstate {
	h := sha256.New()
	taghash.New(tag).Write(h, head...)
	st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("sha256 state cannot be marshaled: %v", err))
	}
	return st
}

var (
	midLeaf    = newMidstate(taghash.TagLeaf)
	midNode    = newMidstate(taghash.TagNode)
	midAccount = newMidstate(taghash.TagAccount)
)

// hasher computes tagged hashes with one reusable hash.Hash and scratch
// buffers; it never allocates. One per goroutine.
type hasher struct {
	h   hash.Hash
	u   encoding.BinaryUnmarshaler
	buf [96]byte
	out [32]byte
}

func newHasher() *hasher {
	h := sha256.New()
	return &hasher{h: h, u: h.(encoding.BinaryUnmarshaler)}
}

// sum returns TaggedHash(tag, head || parts...) where mid holds the state
// after tag prefix and head.
func (x *hasher) sum(mid midstate, parts ...[]byte) [32]byte {
	if err := x.u.UnmarshalBinary(mid); err != nil {
		panic(fmt.Sprintf("sha256 state cannot be restored: %v", err))
	}
	for _, p := range parts {
		x.h.Write(p)
	}
	x.h.Sum(x.out[:0])
	return x.out
}

// salt computes the salt of id; mid is the state after the salt tag, seed
// and asset code (see saltMidstate).
func (x *hasher) salt(mid midstate, id string) Salt {
	if err := x.u.UnmarshalBinary(mid); err != nil {
		panic(fmt.Sprintf("sha256 state cannot be restored: %v", err))
	}
	binary.BigEndian.PutUint32(x.buf[:4], uint32(len(id)))
	x.h.Write(x.buf[:4])
	writeString(x.h, id, x.buf[:])
	x.h.Sum(x.out[:0])
	return x.out
}

// commitment computes TaggedHash("kosh/account", salt || u32be(len) || id).
func (x *hasher) commitment(salt *Salt, id string) [32]byte {
	if err := x.u.UnmarshalBinary(midAccount); err != nil {
		panic(fmt.Sprintf("sha256 state cannot be restored: %v", err))
	}
	copy(x.buf[:32], salt[:])
	binary.BigEndian.PutUint32(x.buf[32:36], uint32(len(id)))
	if len(id) <= len(x.buf)-36 {
		n := copy(x.buf[36:], id)
		x.h.Write(x.buf[:36+n])
	} else {
		x.h.Write(x.buf[:36])
		writeString(x.h, id, x.buf[:])
	}
	x.h.Sum(x.out[:0])
	return x.out
}

// leaf computes TaggedHash("kosh/leaf", commitment || u64be(balance)).
func (x *hasher) leaf(commitment *[32]byte, balance uint64) [32]byte {
	if err := x.u.UnmarshalBinary(midLeaf); err != nil {
		panic(fmt.Sprintf("sha256 state cannot be restored: %v", err))
	}
	copy(x.buf[:32], commitment[:])
	binary.BigEndian.PutUint64(x.buf[32:40], balance)
	x.h.Write(x.buf[:40])
	x.h.Sum(x.out[:0])
	return x.out
}

// node computes TaggedHash("kosh/node", lh || u64be(ls) || rh || u64be(rs)).
func (x *hasher) node(lh *[32]byte, ls uint64, rh *[32]byte, rs uint64) [32]byte {
	if err := x.u.UnmarshalBinary(midNode); err != nil {
		panic(fmt.Sprintf("sha256 state cannot be restored: %v", err))
	}
	copy(x.buf[:32], lh[:])
	binary.BigEndian.PutUint64(x.buf[32:40], ls)
	copy(x.buf[40:72], rh[:])
	binary.BigEndian.PutUint64(x.buf[72:80], rs)
	x.h.Write(x.buf[:80])
	x.h.Sum(x.out[:0])
	return x.out
}

// writeString writes s through scratch without converting it to a []byte
// (which would allocate).
func writeString(h hash.Hash, s string, scratch []byte) {
	for len(s) > 0 {
		n := copy(scratch, s)
		h.Write(scratch[:n])
		s = s[n:]
	}
}

// treeHead is the message head shared by the salt, pad and shuffle-key
// derivations of one tree: seed || u32be(len(assetCode)) || assetCode.
func treeHead(seed *[32]byte, assetCode string) []byte {
	b := make([]byte, 0, 36+len(assetCode))
	b = append(b, seed[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(assetCode)))
	return append(b, assetCode...)
}

func saltMidstate(seed *[32]byte, assetCode string) midstate {
	return newMidstate(taghash.TagSalt, treeHead(seed, assetCode))
}

// DeriveSalt returns the salt of an account in one attestation:
//
//	TaggedHash("kosh/salt", seed || u32be(len(assetCode)) || assetCode ||
//	                        u32be(len(accountID)) || accountID)
//
// The seed is the attestation's secret; the issuer hands each holder only
// their own salt.
func DeriveSalt(seed [32]byte, assetCode, accountID string) Salt {
	return newHasher().salt(saltMidstate(&seed, assetCode), accountID)
}

// Commitment returns the account commitment that a leaf hides the account
// id behind: TaggedHash("kosh/account", salt || u32be(len(accountID)) ||
// accountID).
func Commitment(salt Salt, accountID string) [32]byte {
	return newHasher().commitment(&salt, accountID)
}

// LeafHash returns TaggedHash("kosh/leaf", commitment || u64be(balance)).
func LeafHash(commitment [32]byte, balance uint64) [32]byte {
	return newHasher().leaf(&commitment, balance)
}

// padHash returns the hash of the opaque empty subtree at (level, index):
// TaggedHash("kosh/pad", seed || u32be(len(assetCode)) || assetCode ||
// u8(level) || u64be(index)).
func padHash(head []byte, level int, index uint64) [32]byte {
	var b [9]byte
	b[0] = uint8(level)
	binary.BigEndian.PutUint64(b[1:], index)
	return taghash.Sum(taghash.TagPad, head, b[:])
}

// shuffleKey returns the ChaCha8 key of the leaf-order shuffle:
// TaggedHash("kosh/shuffle", seed || u32be(len(assetCode)) || assetCode).
func shuffleKey(head []byte) [32]byte {
	return taghash.Sum(TagShuffle, head)
}
