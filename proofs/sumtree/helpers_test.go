package sumtree

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Reference implementations written straight from docs/proofs.md with
// taghash.Sum, sharing no code with the fast hasher.

func u32(n int) []byte    { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func refSalt(seed [32]byte, asset, id string) [32]byte {
	return taghash.Sum("kosh/salt", seed[:], u32(len(asset)), []byte(asset), u32(len(id)), []byte(id))
}

func refCommitment(salt [32]byte, id string) [32]byte {
	return taghash.Sum("kosh/account", salt[:], u32(len(id)), []byte(id))
}

func refLeaf(c [32]byte, bal uint64) [32]byte {
	return taghash.Sum("kosh/leaf", c[:], u64(bal))
}

func refNode(lh [32]byte, ls uint64, rh [32]byte, rs uint64) [32]byte {
	return taghash.Sum("kosh/node", lh[:], u64(ls), rh[:], u64(rs))
}

func refPad(seed [32]byte, asset string, level int, index uint64) [32]byte {
	return taghash.Sum("kosh/pad", seed[:], u32(len(asset)), []byte(asset), []byte{byte(level)}, u64(index))
}

// refRoot computes the node at (level, index) recursively: a subtree with
// no account is one pad node; order[p] is the account at position p.
func refRoot(seed [32]byte, asset string, accts []Account, order []uint32, level int, index uint64) ([32]byte, uint64) {
	n := uint64(len(order))
	if index<<level >= n {
		return refPad(seed, asset, level, index), 0
	}
	if level == 0 {
		a := accts[order[index]]
		return refLeaf(refCommitment(refSalt(seed, asset, a.ID), a.ID), a.Balance), a.Balance
	}
	lh, ls := refRoot(seed, asset, accts, order, level-1, 2*index)
	rh, rs := refRoot(seed, asset, accts, order, level-1, 2*index+1)
	return refNode(lh, ls, rh, rs), ls + rs
}

func seedOf(b byte) [32]byte {
	var s [32]byte
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

func mkAccounts(n int, bal func(i int) uint64) []Account {
	a := make([]Account, n)
	for i := range a {
		a[i] = Account{ID: fmt.Sprintf("acct-%06d", i), Balance: bal(i)}
	}
	return a
}

func mustBuild(t testing.TB, asset string, seed [32]byte, accts []Account, opts ...Option) *Tree {
	t.Helper()
	tr, err := Build(context.Background(), asset, seed, accts, opts...)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return tr
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func asError(err error, target **Error) bool { return errors.As(err, target) }
