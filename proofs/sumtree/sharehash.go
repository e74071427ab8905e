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
	n := putCommitment2(x.grow(commitment2Len(asset, id)), treeID, salt, asset, seq, id)
	return x.finish(&midAccount2, n)
}

// commitments2 computes two version 2 commitments of one tree at once.
func (x *hasher) commitments2(treeID *[32]byte, asset string, salt1 *Salt, seq1 uint64, id1 string, salt2 *Salt, seq2 uint64, id2 string) ([32]byte, [32]byte) {
	n1 := putCommitment2(x.grow(commitment2Len(asset, id1)), treeID, salt1, asset, seq1, id1)
	n2 := putCommitment2(x.grow2(commitment2Len(asset, id2)), treeID, salt2, asset, seq2, id2)
	return x.finish2(&midAccount2, n1, &midAccount2, n2)
}

func commitment2Len(asset, id string) int { return 64 + 4 + len(asset) + 8 + 4 + len(id) }

// putCommitment2 writes a version 2 commitment's message into b (of
// commitment2Len bytes) and returns its length.
func putCommitment2(b []byte, treeID *[32]byte, salt *Salt, asset string, seq uint64, id string) int {
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
	return len(b)
}

// leaf2 computes TaggedHash("kosh/leaf/2", commitment || u8(k) || u8(i) ||
// u64be(share)).
func (x *hasher) leaf2(commitment *[32]byte, k, i int, share uint64) [32]byte {
	putLeaf2(x.grow(42), commitment, k, i, share)
	return x.finish(&midLeaf2, 42)
}

// leaves2 computes two version 2 leaves at once.
func (x *hasher) leaves2(c1 *[32]byte, i1 int, share1 uint64, c2 *[32]byte, i2 int, share2 uint64, k int) ([32]byte, [32]byte) {
	putLeaf2(x.grow(42), c1, k, i1, share1)
	putLeaf2(x.grow2(42), c2, k, i2, share2)
	return x.finish2(&midLeaf2, 42, &midLeaf2, 42)
}

// putLeaf2 writes a version 2 leaf's 42-byte message into b.
func putLeaf2(b []byte, commitment *[32]byte, k, i int, share uint64) {
	copy(b, commitment[:])
	b[32] = uint8(k)
	b[33] = uint8(i)
	binary.BigEndian.PutUint64(b[34:], share)
}

// split writes the k shares of balance into out (len k): the cuts come
// from TaggedHash("kosh/split", salt), read as big-endian uint64s u_j, each
// scaled to c_j = floor(u_j · (balance+1) / 2^64) in [0, balance]; sorted,
// they cut [0, balance] into k parts.
func (x *hasher) split(salt *Salt, balance uint64, out []uint64) {
	if len(out) == 1 {
		out[0] = balance
		return
	}
	copy(x.grow(32), salt[:])
	cut(x.finish(&midSplit, 32), balance, out)
}

// splits splits two balances at once (see split).
func (x *hasher) splits(salt1 *Salt, balance1 uint64, out1 []uint64, salt2 *Salt, balance2 uint64, out2 []uint64) {
	if len(out1) == 1 {
		out1[0], out2[0] = balance1, balance2
		return
	}
	copy(x.grow(32), salt1[:])
	copy(x.grow2(32), salt2[:])
	d1, d2 := x.finish2(&midSplit, 32, &midSplit, 32)
	cut(d1, balance1, out1)
	cut(d2, balance2, out2)
}

// cut splits balance into len(out) shares at the cuts d gives (see split).
func cut(d [32]byte, balance uint64, out []uint64) {
	k := len(out)
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
