package attest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sig"
)

// signBatch signs rs as one batch with issuerKey, as koshd's receipt signer
// does: nonces, digests, one tree, one signature, each receipt its path.
func signBatch(t testing.TB, rs []*receipt.Receipt) {
	t.Helper()
	leaves := make([][32]byte, len(rs))
	for i, r := range rs {
		r.Version = receipt.ReceiptVersion
		r.IssuerKey = attest.IssuerKeyOf(issuerKey)
		r.Nonce = fmt.Sprintf("%032x", i+1)
		h, err := r.Hash()
		if err != nil {
			t.Fatal(err)
		}
		leaves[i] = h
	}
	root, paths := receipt.ReceiptBatchTree(leaves)
	for i, r := range rs {
		r.Batch = &receipt.ReceiptBatch{Index: uint32(i), Size: uint32(len(rs)), Path: receipt.EncodeReceiptPath(paths[i])}
	}
	// Sign the root once; every receipt carries the same signature.
	want := receipt.ReceiptBatchDigest(root, uint32(len(rs)))
	d, err := rs[0].SignedDigest()
	if err != nil || d != want {
		t.Fatalf("signed digest %x (%v), want %x", d, err, want)
	}
	sg, err := sig.SignWithAux(issuerKey, want, [32]byte{9})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		r.Signature = sig.EncodeSignature(sg)
	}
}

func mkReceipts(n int) []*receipt.Receipt {
	rs := make([]*receipt.Receipt, n)
	for i := range rs {
		rs[i] = &receipt.Receipt{Asset: "SAT", Account: fmt.Sprintf("acct-%d", i), Balance: attest.Amount(1000 + i),
			Seq: attest.Amount(50 + i/2), Time: "2026-11-29T20:00:00Z"}
	}
	return rs
}

// TestBatchedReceipts: every receipt of a batch verifies on its own after a
// round trip through its canonical bytes, and any change to a field, the
// nonce, the batch position or a path entry breaks it.
func TestBatchedReceipts(t *testing.T) {
	for _, n := range []int{1, 2, 5, 64} {
		rs := mkReceipts(n)
		signBatch(t, rs)
		for i, r := range rs {
			b, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			p, err := receipt.ParseReceipt(b)
			if err != nil {
				t.Fatalf("batch %d, receipt %d: %v\n%s", n, i, err, b)
			}
			if err := p.Verify(attest.IssuerKeyOf(issuerKey)); err != nil {
				t.Fatalf("batch %d, receipt %d: %v", n, i, err)
			}
			tamper := []struct {
				name string
				f    func(*receipt.Receipt)
				kind error
			}{
				{"balance", func(r *receipt.Receipt) { r.Balance++ }, attest.ErrSignature},
				{"account", func(r *receipt.Receipt) { r.Account += "x" }, attest.ErrSignature},
				{"nonce", func(r *receipt.Receipt) { r.Nonce = strings.Repeat("0", 32) }, attest.ErrSignature},
				{"index", func(r *receipt.Receipt) {
					if r.Batch.Size > 1 {
						r.Batch.Index = (r.Batch.Index + 1) % r.Batch.Size
					} else {
						r.Batch.Index = 1
					}
				}, nil},
				{"size", func(r *receipt.Receipt) { r.Batch.Size++ }, nil}, // same root for leading leaves: the digest binds it
				{"path entry", func(r *receipt.Receipt) {
					if len(r.Batch.Path) > 0 {
						r.Batch.Path[0] = strings.Repeat("ab", 32)
					} else {
						r.Seq++
					}
				}, attest.ErrSignature},
				{"no batch", func(r *receipt.Receipt) { r.Batch = nil }, attest.ErrMalformed},
				{"short nonce", func(r *receipt.Receipt) { r.Nonce = "00" }, attest.ErrMalformed},
				{"version 1 with a batch", func(r *receipt.Receipt) { r.Version = receipt.ReceiptVersionSingle }, attest.ErrMalformed},
			}
			for _, tc := range tamper {
				c, _ := receipt.ParseReceipt(b)
				tc.f(c)
				err := c.Verify("")
				if err == nil {
					t.Fatalf("batch %d, receipt %d: changed %s still verifies", n, i, tc.name)
				}
				if tc.kind != nil && !errors.Is(err, tc.kind) {
					t.Fatalf("batch %d, receipt %d: changed %s: %v, want %v", n, i, tc.name, err, tc.kind)
				}
			}
		}
	}
}

// TestReceiptSignAlone: Sign makes a version 2 receipt a batch of one, and
// still makes version 1 receipts as before.
func TestReceiptSignAlone(t *testing.T) {
	r := mkReceipts(1)[0]
	r.Version = receipt.ReceiptVersion
	r.Nonce = strings.Repeat("7", 32)
	if err := r.SignWithAux(issuerKey, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	if r.Batch == nil || r.Batch.Size != 1 || len(r.Batch.Path) != 0 {
		t.Fatalf("batch %+v", r.Batch)
	}
	if err := r.Verify(attest.IssuerKeyOf(issuerKey)); err != nil {
		t.Fatal(err)
	}
	v1 := mkReceipts(1)[0]
	v1.Version = receipt.ReceiptVersionSingle
	if err := v1.SignWithAux(issuerKey, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	if v1.Batch != nil {
		t.Fatal("a version 1 receipt got a batch")
	}
	if err := v1.Verify(attest.IssuerKeyOf(issuerKey)); err != nil {
		t.Fatal(err)
	}
}
