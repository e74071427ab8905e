package receipts

import (
	"fmt"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sig"
)

func testSigner(t testing.TB) *Signer {
	t.Helper()
	k, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return New(sig.NewSigner(k))
}

func testReceipt(i int) *receipt.Receipt {
	return &receipt.Receipt{Asset: "SAT", Account: fmt.Sprintf("acct-%d", i), Balance: attest.Amount(i),
		Seq: attest.Amount(i), Time: "2026-11-29T20:00:00Z"}
}

// TestConcurrentSign signs from 64 goroutines at once, two receipts per
// call: every receipt verifies on its own after a round trip through its
// bytes, nonces are all different, and calls were batched (fewer
// signatures than calls).
func TestConcurrentSign(t *testing.T) {
	s := testSigner(t)
	const callers, calls = 64, 40
	var wg sync.WaitGroup
	out := make([][]*receipt.Receipt, callers)
	for g := range callers {
		wg.Go(func() {
			for c := range calls {
				a, b := testReceipt(g*1000+2*c), testReceipt(g*1000+2*c+1)
				if err := s.Sign(a, b); err != nil {
					t.Error(err)
					return
				}
				out[g] = append(out[g], a, b)
			}
		})
	}
	wg.Wait()
	sigs := map[string]bool{}
	nonces := map[string]bool{}
	maxSize := uint32(0)
	for _, rs := range out {
		for _, r := range rs {
			b, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			p, err := receipt.ParseReceipt(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Verify(s.Key()); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if nonces[r.Nonce] {
				t.Fatalf("nonce %s used twice", r.Nonce)
			}
			nonces[r.Nonce] = true
			sigs[r.Signature] = true
			maxSize = max(maxSize, r.Batch.Size)
		}
	}
	if len(nonces) != callers*calls*2 {
		t.Fatalf("%d receipts, want %d", len(nonces), callers*calls*2)
	}
	t.Logf("%d calls, %d signatures, largest batch %d receipts", callers*calls, len(sigs), maxSize)
	if st := s.Stats(); st.Receipts != callers*calls*2 || st.Signatures != uint64(len(sigs)) {
		t.Fatalf("stats %+v, want %d receipts under %d signatures", st, callers*calls*2, len(sigs))
	}
	if len(sigs) >= callers*calls {
		t.Fatalf("%d signatures for %d concurrent calls: nothing was batched", len(sigs), callers*calls)
	}
}

// TestSignAlone: a single call is a batch of its own receipts, and more
// than MaxBatch receipts are split into several batches that all verify.
func TestSignAlone(t *testing.T) {
	s := testSigner(t)
	r := testReceipt(1)
	if err := s.Sign(r); err != nil {
		t.Fatal(err)
	}
	if r.Batch.Size != 1 || len(r.Batch.Path) != 0 || r.Verify(s.Key()) != nil {
		t.Fatalf("lone receipt: %+v, %v", r.Batch, r.Verify(s.Key()))
	}
	many := make([]*receipt.Receipt, MaxBatch+3)
	for i := range many {
		many[i] = testReceipt(i)
	}
	if err := s.Sign(many...); err != nil {
		t.Fatal(err)
	}
	for i, r := range many {
		if err := r.Verify(s.Key()); err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
	}
	if many[0].Batch.Size != MaxBatch || many[MaxBatch].Batch.Size != 3 {
		t.Fatalf("batch sizes %d and %d", many[0].Batch.Size, many[MaxBatch].Batch.Size)
	}
	if err := s.Sign(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSign measures receipts signed per second by 64 concurrent
// callers with two receipts each (a transfer), next to one BIP-340
// signature per receipt, the cost before batching, in the same run.
func BenchmarkSign(b *testing.B) {
	s := testSigner(b)
	b.Run("batched", func(b *testing.B) {
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := s.Sign(testReceipt(i), testReceipt(i+1)); err != nil {
					b.Error(err)
				}
				i += 2
			}
		})
	})
	b.Run("one-signature-each", func(b *testing.B) {
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				for j := range 2 {
					r := testReceipt(j)
					r.Version = receipt.ReceiptVersionSingle
					r.IssuerKey = s.Key()
					h, _ := r.Hash()
					if _, err := s.key.Sign(h); err != nil {
						b.Error(err)
					}
				}
			}
		})
	})
}
