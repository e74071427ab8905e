package sumtree

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/kosh-reserve/kosh/proofs/internal/sha256blocks"
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

// midstate is the SHA-256 chaining value right after a tag prefix (64
// bytes, one whole block) has been absorbed. Starting from it costs a copy
// of eight words instead of the compression of the prefix.
type midstate = sha256blocks.State

func newMidstate(tag string) midstate {
	st := sha256blocks.IV
	sha256blocks.Blocks(&st, taghash.New(tag).Prefix())
	return st
}

var (
	midLeaf    = newMidstate(taghash.TagLeaf)
	midNode    = newMidstate(taghash.TagNode)
	midAccount = newMidstate(taghash.TagAccount)
	midSalt    = newMidstate(taghash.TagSalt)
)

// hasher computes tagged hashes of messages that follow a one-block tag
// prefix, one at a time or two at once. It pads each message itself, runs
// the compression function from the prefix's midstate over the padded
// blocks (package sha256blocks) and reads the digest from the chaining
// value: no hash.Hash buffering and no copies of the state. Two messages
// hashed together (finish2) share the compression unit, which overlaps
// their rounds. It never allocates after its buffers have grown to the
// longest message. One per goroutine.
type hasher struct {
	buf  []byte // the first message's scratch, padded in place
	buf2 []byte // the second message's, for finish2
}

func newHasher() *hasher {
	return &hasher{buf: make([]byte, 0, 192), buf2: make([]byte, 0, 192)}
}

// grow returns the scratch buffer with room for an n-byte message and its
// padding.
func (x *hasher) grow(n int) []byte {
	if need := paddedLen(n); cap(x.buf) < need {
		x.buf = make([]byte, 0, need)
	}
	return x.buf[:n]
}

// grow2 is grow for the second message of finish2.
func (x *hasher) grow2(n int) []byte {
	if need := paddedLen(n); cap(x.buf2) < need {
		x.buf2 = make([]byte, 0, need)
	}
	return x.buf2[:n]
}

// paddedLen is the length of an n-byte message after the 64-byte prefix,
// padded as SHA-256 pads: a 0x80 byte, zeros, and the 64-bit bit length,
// to a multiple of 64.
func paddedLen(n int) int { return (n + 9 + 63) &^ 63 }

// padIn pads the n-byte message at the start of buf (which has room, from
// grow) and returns the padded blocks.
func padIn(buf []byte, n int) []byte {
	b := buf[:paddedLen(n)]
	b[n] = 0x80
	clear(b[n+1 : len(b)-8])
	binary.BigEndian.PutUint64(b[len(b)-8:], uint64(64+n)*8)
	return b
}

// finish returns TaggedHash(tag, msg) where mid is the state after the
// tag's prefix and msg is x.buf[:n] (from grow).
func (x *hasher) finish(mid *midstate, n int) [32]byte {
	st := *mid
	sha256blocks.Blocks(&st, padIn(x.buf, n))
	return st.Digest()
}

// finish2 returns the tagged hashes of two messages at once: x.buf[:n1]
// (from grow) after mid1 and x.buf2[:n2] (from grow2) after mid2. Their
// common blocks run together; the longer one's remaining blocks run alone.
func (x *hasher) finish2(mid1 *midstate, n1 int, mid2 *midstate, n2 int) (d1, d2 [32]byte) {
	b1, b2 := padIn(x.buf, n1), padIn(x.buf2, n2)
	st1, st2 := *mid1, *mid2
	c := min(len(b1), len(b2))
	sha256blocks.Blocks2(&st1, &st2, b1[:c], b2[:c])
	if len(b1) > c {
		sha256blocks.Blocks(&st1, b1[c:])
	}
	if len(b2) > c {
		sha256blocks.Blocks(&st2, b2[c:])
	}
	return st1.Digest(), st2.Digest()
}

// salt computes the salt of id; head is the tree's seed and asset code (see
// treeHead).
func (x *hasher) salt(head []byte, id string) Salt {
	return x.finish(&midSalt, putSalt(x.grow(saltLen(head, id)), head, id))
}

// salts computes the salts of two ids at once.
func (x *hasher) salts(head []byte, id1, id2 string) (Salt, Salt) {
	n1 := putSalt(x.grow(saltLen(head, id1)), head, id1)
	n2 := putSalt(x.grow2(saltLen(head, id2)), head, id2)
	return x.finish2(&midSalt, n1, &midSalt, n2)
}

func saltLen(head []byte, id string) int { return len(head) + 4 + len(id) }

// putSalt writes the salt's message, head || u32be(len(id)) || id, into b
// (of saltLen bytes) and returns its length.
func putSalt(b []byte, head []byte, id string) int {
	n := copy(b, head)
	binary.BigEndian.PutUint32(b[n:], uint32(len(id)))
	copy(b[n+4:], id)
	return len(b)
}

// commitment computes TaggedHash("kosh/account", salt || u32be(len) || id).
func (x *hasher) commitment(salt *Salt, id string) [32]byte {
	return x.finish(&midAccount, putCommitment(x.grow(36+len(id)), salt, id))
}

// commitments computes two commitments at once.
func (x *hasher) commitments(salt1 *Salt, id1 string, salt2 *Salt, id2 string) ([32]byte, [32]byte) {
	n1 := putCommitment(x.grow(36+len(id1)), salt1, id1)
	n2 := putCommitment(x.grow2(36+len(id2)), salt2, id2)
	return x.finish2(&midAccount, n1, &midAccount, n2)
}

// putCommitment writes a commitment's message into b (36+len(id) bytes)
// and returns its length.
func putCommitment(b []byte, salt *Salt, id string) int {
	copy(b, salt[:])
	binary.BigEndian.PutUint32(b[32:], uint32(len(id)))
	copy(b[36:], id)
	return len(b)
}

// leaf computes TaggedHash("kosh/leaf", commitment || u64be(balance)).
func (x *hasher) leaf(commitment *[32]byte, balance uint64) [32]byte {
	putLeaf(x.grow(40), commitment, balance)
	return x.finish(&midLeaf, 40)
}

// leaves computes two leaves at once.
func (x *hasher) leaves(c1 *[32]byte, balance1 uint64, c2 *[32]byte, balance2 uint64) ([32]byte, [32]byte) {
	putLeaf(x.grow(40), c1, balance1)
	putLeaf(x.grow2(40), c2, balance2)
	return x.finish2(&midLeaf, 40, &midLeaf, 40)
}

// putLeaf writes a leaf's 40-byte message into b.
func putLeaf(b []byte, commitment *[32]byte, balance uint64) {
	copy(b, commitment[:])
	binary.BigEndian.PutUint64(b[32:], balance)
}

// node computes TaggedHash("kosh/node", lh || u64be(ls) || rh || u64be(rs)).
func (x *hasher) node(lh *[32]byte, ls uint64, rh *[32]byte, rs uint64) [32]byte {
	putNode(x.grow(80), lh, ls, rh, rs)
	return x.finish(&midNode, 80)
}

// nodes computes two nodes at once: the parents of (l1, r1) and (l2, r2).
func (x *hasher) nodes(l1, r1, l2, r2 *node) ([32]byte, [32]byte) {
	putNode(x.grow(80), &l1.hash, l1.sum, &r1.hash, r1.sum)
	putNode(x.grow2(80), &l2.hash, l2.sum, &r2.hash, r2.sum)
	return x.finish2(&midNode, 80, &midNode, 80)
}

// putNode writes a node's 80-byte message into b.
func putNode(b []byte, lh *[32]byte, ls uint64, rh *[32]byte, rs uint64) {
	copy(b, lh[:])
	binary.BigEndian.PutUint64(b[32:], ls)
	copy(b[40:], rh[:])
	binary.BigEndian.PutUint64(b[72:], rs)
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

// BlockFunction names the SHA-256 block function the trees are hashed
// with: "SHA-NI" (amd64 with the SHA extensions) or "generic".
func BlockFunction() string { return sha256blocks.Implementation() }
