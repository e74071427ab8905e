package sumtree

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzProofBinary: decoding never panics, and whatever decodes re-encodes
// to the same bytes (the binary form is canonical).
func FuzzProofBinary(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Proof
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded proof does not re-encode: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, out)
		}
	})
}

// FuzzProofJSON: decoding never panics, and whatever decodes survives a
// round trip through both encodings unchanged.
func FuzzProofJSON(f *testing.F) {
	f.Add([]byte(`{"version":1,"height":0,"leaf_index":0,"siblings":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Proof
		if err := json.Unmarshal(b, &p); err != nil {
			return
		}
		bin, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded JSON proof does not encode: %v", err)
		}
		var q Proof
		if err := q.UnmarshalBinary(bin); err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(&q)
		var r Proof
		if err := json.Unmarshal(js, &r); err != nil {
			t.Fatalf("re-encoded JSON rejected: %v", err)
		}
		b2, _ := r.MarshalBinary()
		if !bytes.Equal(bin, b2) {
			t.Fatal("JSON round trip changed the proof")
		}
	})
}

// FuzzVerify: against a fixed tree, arbitrary proof bytes and a balance
// offset never panic, and verification succeeds only for the genuine
// (proof, balance) pair — soundness within the fuzzer's reach.
func FuzzVerify(f *testing.F) {
	accts := mkAccounts(3, func(i int) uint64 { return uint64(10 * (i + 1)) })
	tr := mustBuild(f, "SAT", seedOf(1), accts, WithHeight(2))
	genuine, salt, _ := tr.ProofAt(1)
	gb, _ := genuine.MarshalBinary()
	root := tr.Root()
	f.Add(gb, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, delta uint64) {
		var p Proof
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		bal := accts[1].Balance + delta
		err := VerifyInclusion(root, accts[1].ID, salt, bal, &p)
		if err == nil && (delta != 0 || !bytes.Equal(b, gb)) {
			t.Fatalf("forged proof verified: balance %d, proof %x", bal, b)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
