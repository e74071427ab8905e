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

// midstate is a SHA-256 state serialized right after a tag prefix (64 bytes,
// one whole block) has been absorbed. Restoring it costs a copy instead of
// the compression of the prefix.
type midstate []byte

func newMidstate(tag string) midstate {
	h := sha256.New()
	taghash.New(tag).Write(h)
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
	midSalt    = newMidstate(taghash.TagSalt)
)

// stateDigest is where the chaining value sits in the binary form of a
// crypto/sha256 state: after the 4-byte magic "sha\x03", eight big-endian
// uint32 words. After a fully padded message has been absorbed, the chaining
// value is the digest. TestHasherMatchesSHA256 pins this for every message
// length a tree uses and beyond.
const stateDigest = 4

// hasher computes tagged hashes of messages that follow a one-block tag
// prefix. It pads each message itself, writes the padded blocks into a
// restored midstate in one call (no buffering inside the hash) and reads
// the digest from the state, which saves the copies and the extra Write of
// hash.Hash.Sum. It never allocates after its buffer has grown to the
// longest message. One per goroutine.
type hasher struct {
	h   hash.Hash
	u   encoding.BinaryUnmarshaler
	a   encoding.BinaryAppender
	buf []byte // message scratch, padded in place
	st  []byte // state scratch
}

func newHasher() *hasher {
	h := sha256.New()
	return &hasher{
		h:   h,
		u:   h.(encoding.BinaryUnmarshaler),
		a:   h.(encoding.BinaryAppender),
		buf: make([]byte, 0, 192),
		st:  make([]byte, 0, 128),
	}
}

// grow returns the scratch buffer with room for an n-byte message and its
// padding.
func (x *hasher) grow(n int) []byte {
	if need := paddedLen(n); cap(x.buf) < need {
		x.buf = make([]byte, 0, need)
	}
	return x.buf[:n]
}

// paddedLen is the length of an n-byte message after the 64-byte prefix,
// padded as SHA-256 pads: a 0x80 byte, zeros, and the 64-bit bit length,
// to a multiple of 64.
func paddedLen(n int) int { return (n + 9 + 63) &^ 63 }

// finish returns TaggedHash(tag, msg) where mid is the state after the
// tag's prefix and msg is x.buf[:n] (from grow).
func (x *hasher) finish(mid midstate, n int) [32]byte {
	b := x.buf[:paddedLen(n)]
	b[n] = 0x80
	clear(b[n+1 : len(b)-8])
	binary.BigEndian.PutUint64(b[len(b)-8:], uint64(64+n)*8)
	if err := x.u.UnmarshalBinary(mid); err != nil {
		panic(fmt.Sprintf("sha256 state cannot be restored: %v", err))
	}
	x.h.Write(b)
	st, err := x.a.AppendBinary(x.st[:0])
	if err != nil {
		panic(fmt.Sprintf("sha256 state cannot be read: %v", err))
	}
	return [32]byte(st[stateDigest : stateDigest+32])
}

// salt computes the salt of id; head is the tree's seed and asset code (see
// treeHead).
func (x *hasher) salt(head []byte, id string) Salt {
	b := x.grow(len(head) + 4 + len(id))
	n := copy(b, head)
	binary.BigEndian.PutUint32(b[n:], uint32(len(id)))
	copy(b[n+4:], id)
	return x.finish(midSalt, len(b))
}

// commitment computes TaggedHash("kosh/account", salt || u32be(len) || id).
func (x *hasher) commitment(salt *Salt, id string) [32]byte {
	b := x.grow(36 + len(id))
	copy(b, salt[:])
	binary.BigEndian.PutUint32(b[32:], uint32(len(id)))
	copy(b[36:], id)
	return x.finish(midAccount, len(b))
}

// leaf computes TaggedHash("kosh/leaf", commitment || u64be(balance)).
func (x *hasher) leaf(commitment *[32]byte, balance uint64) [32]byte {
	b := x.grow(40)
	copy(b, commitment[:])
	binary.BigEndian.PutUint64(b[32:], balance)
	return x.finish(midLeaf, 40)
}

// node computes TaggedHash("kosh/node", lh || u64be(ls) || rh || u64be(rs)).
func (x *hasher) node(lh *[32]byte, ls uint64, rh *[32]byte, rs uint64) [32]byte {
	b := x.grow(80)
	copy(b, lh[:])
	binary.BigEndian.PutUint64(b[32:], ls)
	copy(b[40:], rh[:])
	binary.BigEndian.PutUint64(b[72:], rs)
	return x.finish(midNode, 80)
}

// treeHead is the message head shared by the salt, pad and shuffle-key
// derivations of one tree: seed || u32be(len(assetCode)) || assetCode.
func treeHead(seed *[32]byte, assetCode string) []byte {
	b := make([]byte, 0, 36+len(assetCode))
	b = append(b, seed[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(assetCode)))
	return append(b, assetCode...)
}

// DeriveSalt returns the salt of an account in one attestation:
//
//	TaggedHash("kosh/salt", seed || u32be(len(assetCode)) || assetCode ||
//	                        u32be(len(accountID)) || accountID)
//
// The seed is the attestation's secret; the issuer hands each holder only
// their own salt.
func DeriveSalt(seed [32]byte, assetCode, accountID string) Salt {
	return newHasher().salt(treeHead(&seed, assetCode), accountID)
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
