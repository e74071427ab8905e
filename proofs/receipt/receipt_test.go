package receipt

import (
	"bytes"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/field"
	"github.com/kosh-reserve/kosh/proofs/jcs"
)

// FuzzReceiptCanonical: the hand-written canonical encoder equals
// jcs.Marshal, with and without signature and batch, for any field values.
func FuzzReceiptCanonical(f *testing.F) {
	f.Add(2, "SAT", "acct-1", int64(5), int64(9), "2026-11-29T20:00:00Z", "k", "n", "s", uint32(0), uint32(1), "p", true)
	f.Add(1, "₹\u2028<&>", "a\"b\\c\x01\x7f", int64(0), int64(0), "", "", "", "", uint32(3), uint32(0), "", false)
	f.Add(-1, "\xff", "é\xc3", int64(-1), int64(1<<62), "t", "", "", "", uint32(1<<31), uint32(7), "\x00", true)
	f.Fuzz(func(t *testing.T, version int, asset, account string, bal, seq int64, tm, key, nonce, sg string,
		idx, size uint32, path string, batch bool) {
		r := &Receipt{Version: version, Asset: asset, Account: account, Balance: field.Amount(bal), Seq: field.Amount(seq),
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
