package sumtree

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Hashes of the version 2 tree (docs/proofs.md 3.15).

var (
	midAccount2 = newMidstate(taghash.TagAccount2)
	midLeaf2    = newMidstate(taghash.TagLeaf2)
	midSplit    = newMidstate(taghash.TagSplit)
)

// commitment2 computes TaggedHash("kosh/account/2", treeID || salt ||
// u32be(len(asset)) || asset || u64be(seq) || u32be(len(id)) || id).
func (x *hasher) commitment2(treeID *[32]byte, salt *Salt, asset string, seq uint64, id string) [32]byte {
	b := x.grow(64 + 4 + len(asset) + 8 + 4 + len(id))
	n := copy(b, treeID[:])
	n += copy(b[n:], salt[:])
	binary.BigEndian.PutUint32(b[n:], uint32(len(asset)))
	n += 4
	n += copy(b[n:], asset)
	binary.BigEndian.PutUint64(b[n:], seq)
	n += 8
	binary.BigEndian.PutUint32(b[n:], uint32(len(id)))
	n += 4
	copy(b[n:], id)
	return x.finish(midAccount2, len(b))
}

// leaf2 computes TaggedHash("kosh/leaf/2", commitment || u8(k) || u8(i) ||
// u64be(share)).
func (x *hasher) leaf2(commitment *[32]byte, k, i int, share uint64) [32]byte {
	b := x.grow(42)
	copy(b, commitment[:])
	b[32] = uint8(k)
	b[33] = uint8(i)
	binary.BigEndian.PutUint64(b[34:], share)
	return x.finish(midLeaf2, 42)
}

// split writes the k shares of balance into out (len k): the cuts come
// from TaggedHash("kosh/split", salt), read as big-endian uint64s u_j, each
// scaled to c_j = floor(u_j · (balance+1) / 2^64) in [0, balance]; sorted,
// they cut [0, balance] into k parts.
func (x *hasher) split(salt *Salt, balance uint64, out []uint64) {
	k := len(out)
	if k == 1 {
		out[0] = balance
		return
	}
	b := x.grow(32)
	copy(b, salt[:])
	d := x.finish(midSplit, 32)
	var cuts [MaxShares - 1]uint64
	for j := 0; j < k-1; j++ {
		cuts[j], _ = bits.Mul64(binary.BigEndian.Uint64(d[8*j:]), balance+1)
	}
	c := cuts[:k-1]
	slices.Sort(c)
	prev := uint64(0)
	for j, v := range c {
		out[j] = v - prev
		prev = v
	}
	out[k-1] = balance - prev
}

// SplitShares returns the k shares of balance that the salt derives (see
// docs/proofs.md 3.15.4). k must be 1, 2 or 4; balance at most MaxSum.
func SplitShares(salt Salt, balance uint64, k int) []uint64 {
	out := make([]uint64, k)
	newHasher().split(&salt, balance, out)
	return out
}

// TreeID returns the public id of the version 2 tree of one asset in one
// attestation: TaggedHash("kosh/tree", seed || u32be(len(asset)) || asset).
func TreeID(seed [32]byte, assetCode string) [32]byte {
	return taghash.Sum(taghash.TagTree, treeHead(&seed, assetCode))
}

// Commitment2 returns a version 2 account commitment.
func Commitment2(treeID [32]byte, salt Salt, assetCode string, seq uint64, accountID string) [32]byte {
	return newHasher().commitment2(&treeID, &salt, assetCode, seq, accountID)
}

// LeafHash2 returns the hash of share i of k: TaggedHash("kosh/leaf/2",
// commitment || u8(k) || u8(i) || u64be(share)).
func LeafHash2(commitment [32]byte, k, i int, share uint64) [32]byte {
	return newHasher().leaf2(&commitment, k, i, share)
}

// windowKey returns the ChaCha8 key of window g's share shuffle:
// TaggedHash("kosh/window", head || u64be(g)).
func windowKey(head []byte, g uint64) [32]byte {
	return taghash.Sum(taghash.TagWindow, head, binary.BigEndian.AppendUint64(nil, g))
}
