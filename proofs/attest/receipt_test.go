package attest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/sig"
)

// signBatch signs rs as one batch with issuerKey, as koshd's receipt signer
// does: nonces, digests, one tree, one signature, each receipt its path.
func signBatch(t testing.TB, rs []*Receipt) {
	t.Helper()
	leaves := make([][32]byte, len(rs))
	for i, r := range rs {
		r.Version = ReceiptVersion
		r.IssuerKey = IssuerKeyOf(issuerKey)
		r.Nonce = fmt.Sprintf("%032x", i+1)
		h, err := r.Hash()
		if err != nil {
			t.Fatal(err)
		}
		leaves[i] = h
	}
	root, paths := ReceiptBatchTree(leaves)
	for i, r := range rs {
		r.Batch = &ReceiptBatch{Index: uint32(i), Size: uint32(len(rs)), Path: EncodeReceiptPath(paths[i])}
	}
	// Sign the root once; every receipt carries the same signature.
	want := ReceiptBatchDigest(root, uint32(len(rs)))
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

func mkReceipts(n int) []*Receipt {
	rs := make([]*Receipt, n)
	for i := range rs {
		rs[i] = &Receipt{Asset: "SAT", Account: fmt.Sprintf("acct-%d", i), Balance: Amount(1000 + i),
			Seq: Amount(50 + i/2), Time: "2026-11-29T20:00:00Z"}
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
			p, err := ParseReceipt(b)
			if err != nil {
				t.Fatalf("batch %d, receipt %d: %v\n%s", n, i, err, b)
			}
			if err := p.Verify(IssuerKeyOf(issuerKey)); err != nil {
				t.Fatalf("batch %d, receipt %d: %v", n, i, err)
			}
			tamper := []struct {
				name string
				f    func(*Receipt)
				kind error
			}{
				{"balance", func(r *Receipt) { r.Balance++ }, ErrSignature},
				{"account", func(r *Receipt) { r.Account += "x" }, ErrSignature},
				{"nonce", func(r *Receipt) { r.Nonce = strings.Repeat("0", 32) }, ErrSignature},
				{"index", func(r *Receipt) {
					if r.Batch.Size > 1 {
						r.Batch.Index = (r.Batch.Index + 1) % r.Batch.Size
					} else {
						r.Batch.Index = 1
					}
				}, nil},
				{"size", func(r *Receipt) { r.Batch.Size++ }, nil}, // same root for leading leaves: the digest binds it
				{"path entry", func(r *Receipt) {
					if len(r.Batch.Path) > 0 {
						r.Batch.Path[0] = strings.Repeat("ab", 32)
					} else {
						r.Seq++
					}
				}, ErrSignature},
				{"no batch", func(r *Receipt) { r.Batch = nil }, ErrMalformed},
				{"short nonce", func(r *Receipt) { r.Nonce = "00" }, ErrMalformed},
				{"version 1 with a batch", func(r *Receipt) { r.Version = ReceiptVersionSingle }, ErrMalformed},
			}
			for _, tc := range tamper {
				c, _ := ParseReceipt(b)
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
	r.Version = ReceiptVersion
	r.Nonce = strings.Repeat("7", 32)
	if err := r.SignWithAux(issuerKey, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	if r.Batch == nil || r.Batch.Size != 1 || len(r.Batch.Path) != 0 {
		t.Fatalf("batch %+v", r.Batch)
	}
	if err := r.Verify(IssuerKeyOf(issuerKey)); err != nil {
		t.Fatal(err)
	}
	v1 := mkReceipts(1)[0]
	v1.Version = ReceiptVersionSingle
	if err := v1.SignWithAux(issuerKey, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	if v1.Batch != nil {
		t.Fatal("a version 1 receipt got a batch")
	}
	if err := v1.Verify(IssuerKeyOf(issuerKey)); err != nil {
		t.Fatal(err)
	}
}

// FuzzReceiptCanonical: the hand-written canonical encoder equals
// jcs.Marshal, with and without signature and batch, for any field values.
func FuzzReceiptCanonical(f *testing.F) {
	f.Add(2, "SAT", "acct-1", int64(5), int64(9), "2026-11-29T20:00:00Z", "k", "n", "s", uint32(0), uint32(1), "p", true)
	f.Add(1, "₹\u2028<&>", "a\"b\\c\x01\x7f", int64(0), int64(0), "", "", "", "", uint32(3), uint32(0), "", false)
	f.Add(-1, "\xff", "é\xc3", int64(-1), int64(1<<62), "t", "", "", "", uint32(1<<31), uint32(7), "\x00", true)
	f.Fuzz(func(t *testing.T, version int, asset, account string, bal, seq int64, tm, key, nonce, sg string,
		idx, size uint32, path string, batch bool) {
		r := &Receipt{Version: version, Asset: asset, Account: account, Balance: Amount(bal), Seq: Amount(seq),
			Time: tm, IssuerKey: key, Nonce: nonce, Signature: sg}
		if batch {
			r.Batch = &ReceiptBatch{Index: idx, Size: size, Path: []string{path, path + "1"}}
			if path == "" {
				r.Batch.Path = []string{}
			}
		}
		for _, withSig := range []bool{false, true} {
			for _, withBatch := range []bool{false, true} {
				c := *r
				if !withSig {
					c.Signature = ""
				}
				if !withBatch {
					c.Batch = nil
				}
				want, werr := jcs.Marshal(&c)
				got, gerr := r.appendCanonical(nil, withSig, withBatch)
				if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
					t.Fatalf("sig %v batch %v:\n got %s (%v)\nwant %s (%v)", withSig, withBatch, got, gerr, want, werr)
				}
			}
		}
	})
}
