package receipt

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"strconv"

	"github.com/kosh-reserve/kosh/proofs/failure"
	"github.com/kosh-reserve/kosh/proofs/field"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// A receipt batch is a Merkle tree over receipt digests shaped as RFC 9162
// (Certificate Transparency 2.0) section 2.1.1 shapes it, with Kosh's
// tagged hashes in place of the 0x00/0x01 prefixes:
//
//	leaf      = receipt digest = TaggedHash("kosh/receipt", receipt bytes)
//	MTH({d})  = d
//	MTH(D[n]) = TaggedHash("kosh/receipt-node", MTH(D[0:k]) || MTH(D[k:n]))
//	            where k is the largest power of two smaller than n
//
// The issuer signs ReceiptBatchDigest(MTH, size), which binds the size (a
// root alone does not: the first leaves of a batch of 5 have the same paths
// as in a batch of 6); each receipt carries its index, the batch size and
// its audit path (RFC 9162 section 2.1.3.1), and is checked with the
// algorithm of section 2.1.3.2.

var (
	receiptNodeTag  = taghash.New(taghash.TagReceiptNode)
	receiptBatchTag = taghash.New(taghash.TagReceiptBatch)
)

// ReceiptBatchDigest returns what the issuer signs for a batch of receipts:
// TaggedHash("kosh/receipt-batch", u32be(size) || root).
func ReceiptBatchDigest(root [32]byte, size uint32) [32]byte {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], size)
	return receiptBatchTag.Sum(n[:], root[:])
}

func receiptNode(l, r *[32]byte) [32]byte { return receiptNodeTag.Sum(l[:], r[:]) }

// ReceiptBatchRoot recomputes the root of a receipt batch of the given size
// from the digest of the receipt at index and its audit path (leaf level
// first), by RFC 9162 section 2.1.3.2.
func ReceiptBatchRoot(leaf [32]byte, index, size uint32, path [][32]byte) ([32]byte, error) {
	if size == 0 || index >= size {
		return leaf, failure.New(failure.ErrMalformed, "the receipt's batch position %d of %d is impossible", index, size)
	}
	fn, sn := index, size-1
	r := leaf
	for i := range path {
		if sn == 0 {
			return leaf, failure.New(failure.ErrMalformed, "the receipt's batch path has %s, more than a batch of %d needs", entries(len(path)), size)
		}
		if fn&1 == 1 || fn == sn {
			r = receiptNode(&path[i], &r)
			if fn&1 == 0 {
				// A right-edge node with no sibling at these levels: skip
				// them (RFC 9162: until LSB(fn) is set or fn is 0; here
				// fn == sn != 0, so fn has a set bit).
				shift := bits.TrailingZeros32(fn)
				fn >>= shift
				sn >>= shift
			}
		} else {
			r = receiptNode(&r, &path[i])
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return leaf, failure.New(failure.ErrMalformed, "the receipt's batch path has %s, fewer than a batch of %d needs", entries(len(path)), size)
	}
	return r, nil
}

// entries says "1 entry" or "n entries".
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return strconv.Itoa(n) + " entries"
}

// ReceiptBatchTree returns the root of the batch of leaves (receipt
// digests, at least one) and each leaf's audit path, leaf level first.
func ReceiptBatchTree(leaves [][32]byte) (root [32]byte, paths [][][32]byte) {
	paths = make([][][32]byte, len(leaves))
	root = batchSubtree(leaves, paths)
	return root, paths
}

// batchSubtree returns MTH(leaves) and appends, to each paths[i], the audit
// path of leaves[i] within this subtree (RFC 9162 section 2.1.3.1, built
// bottom-up: the deeper entries first).
func batchSubtree(leaves [][32]byte, paths [][][32]byte) [32]byte {
	n := len(leaves)
	if n == 1 {
		return leaves[0]
	}
	k := 1 << (bits.Len(uint(n-1)) - 1) // largest power of two < n
	left := batchSubtree(leaves[:k], paths[:k])
	right := batchSubtree(leaves[k:], paths[k:])
	for i := range paths[:k] {
		paths[i] = append(paths[i], right)
	}
	for i := range paths[k:] {
		paths[k+i] = append(paths[k+i], left)
	}
	return receiptNode(&left, &right)
}

// EncodeReceiptPath returns path as 64-hex strings, for ReceiptBatch.Path.
func EncodeReceiptPath(path [][32]byte) []string {
	out := make([]string, len(path))
	for i := range path {
		out[i] = hex.EncodeToString(path[i][:])
	}
	return out
}

// decodeHex32 decodes exactly 64 lower-case hex digits.
func decodeHex32(dst *[32]byte, s string) error {
	if !field.IsLowerHex(s, 64) {
		return failure.New(failure.ErrMalformed, "not 64 lower-case hex digits")
	}
	_, err := hex.Decode(dst[:], []byte(s))
	return err
}
