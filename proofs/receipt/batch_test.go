package receipt

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/failure"
)

// TestReceiptBatchPaths builds batches of every size from 1 to 70 with the
// recursive definition and checks every leaf's path with the iterative RFC
// 9162 verifier, and that a wrong index, size, leaf or path entry, or a
// path one entry too short or too long, never yields the root.
func TestReceiptBatchPaths(t *testing.T) {
	for n := 1; n <= 70; n++ {
		leaves := make([][32]byte, n)
		for i := range leaves {
			leaves[i] = sha256.Sum256([]byte{byte(n), byte(i)})
		}
		root, paths := ReceiptBatchTree(leaves)
		for i := range leaves {
			got, err := ReceiptBatchRoot(leaves[i], uint32(i), uint32(n), paths[i])
			if err != nil || got != root {
				t.Fatalf("size %d, leaf %d: root %x, %v; want %x", n, i, got, err, root)
			}
			mismatch := func(what string, leaf [32]byte, idx, size uint32, path [][32]byte) {
				t.Helper()
				if got, err := ReceiptBatchRoot(leaf, idx, size, path); err == nil && got == root {
					t.Fatalf("size %d, leaf %d: %s still gives the root", n, i, what)
				}
			}
			if n > 1 {
				mismatch("the next index", leaves[i], uint32((i+1)%n), uint32(n), paths[i])
				mismatch("another leaf", leaves[(i+1)%n], uint32(i), uint32(n), paths[i])
				p := append([][32]byte(nil), paths[i]...)
				p[len(p)-1][0] ^= 1
				mismatch("a changed path entry", leaves[i], uint32(i), uint32(n), p)
				mismatch("a path one entry short", leaves[i], uint32(i), uint32(n), paths[i][:len(paths[i])-1])
			}
			mismatch("a path one entry long", leaves[i], uint32(i), uint32(n), append(append([][32]byte(nil), paths[i]...), root))
			if i < n-1 {
				mismatch("a larger size", leaves[i], uint32(i), uint32(2*n+1), paths[i])
			}
		}
	}
}

// TestReceiptBatchShape pins the tree shape of RFC 9162 on five leaves:
// MTH = N(N(N(a,b),N(c,d)), e), so e's path is the single left subtree.
func TestReceiptBatchShape(t *testing.T) {
	var l [5][32]byte
	for i := range l {
		l[i][0] = byte(i + 1)
	}
	ab, cd := receiptNode(&l[0], &l[1]), receiptNode(&l[2], &l[3])
	abcd := receiptNode(&ab, &cd)
	want := receiptNode(&abcd, &l[4])
	root, paths := ReceiptBatchTree(l[:])
	if root != want {
		t.Fatalf("root %x, want %x", root, want)
	}
	if len(paths[4]) != 1 || paths[4][0] != abcd {
		t.Fatalf("path of the last leaf = %x, want [%x]", paths[4], abcd)
	}
	if len(paths[0]) != 3 || paths[0][0] != l[1] || paths[0][1] != cd || paths[0][2] != l[4] {
		t.Fatalf("path of the first leaf = %x", paths[0])
	}
	if _, err := ReceiptBatchRoot(l[0], 5, 5, nil); !errors.Is(err, failure.ErrMalformed) {
		t.Fatalf("index = size: %v", err)
	}
}
