package sumtree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/strictjson"
)

// TestEveryProofVerifies is a property test: random trees (sizes, heights,
// balances including 0 and large ones), and every account's proof verifies
// and survives both encodings.
func TestEveryProofVerifies(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for iter := range 60 {
		n := r.IntN(300)
		if iter == 0 {
			n = 1
		}
		minH := 0
		for 1<<minH < n {
			minH++
		}
		height := minH + r.IntN(4)
		limit := MaxSum / uint64(max(n, 1))
		accts := mkAccounts(n, func(i int) uint64 {
			switch r.IntN(4) {
			case 0:
				return 0
			case 1:
				return limit
			default:
				return r.Uint64N(limit + 1)
			}
		})
		var total uint64
		for _, a := range accts {
			total += a.Balance
		}
		seed := seedOf(byte(iter))
		tr := mustBuild(t, "SAT", seed, accts, WithHeight(height), WithWorkers(1+iter%3))
		root := tr.Root()
		if root.Sum != total || root.Count != uint64(n) || root.Height != height {
			t.Fatalf("iter %d: root %+v, want sum %d count %d height %d", iter, root, total, n, height)
		}
		seen := make(map[uint32]bool)
		w := tr.NewProofWriter()
		for i, a := range accts {
			p, salt, err := w.ProofAt(i)
			if err != nil {
				t.Fatal(err)
			}
			if salt != DeriveSalt(seed, "SAT", a.ID) {
				t.Fatalf("iter %d: salt of account %d is not DeriveSalt", iter, i)
			}
			if seen[p.LeafIndex] {
				t.Fatalf("iter %d: leaf index %d given twice", iter, p.LeafIndex)
			}
			seen[p.LeafIndex] = true
			if err := VerifyInclusion(root, a.ID, salt, a.Balance, p); err != nil {
				t.Fatalf("iter %d account %d: %v", iter, i, err)
			}
			bin, err := p.MarshalBinary()
			if err != nil || len(bin) != EncodedLen(height) {
				t.Fatalf("MarshalBinary: %d bytes, %v", len(bin), err)
			}
			var q Proof
			if err := q.UnmarshalBinary(bin); err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var pj Proof
			if err := json.Unmarshal(js, &pj); err != nil {
				t.Fatal(err)
			}
			for _, d := range []*Proof{&q, &pj} {
				if err := VerifyInclusion(root, a.ID, salt, a.Balance, d); err != nil {
					t.Fatalf("decoded proof fails: %v", err)
				}
			}
			if byID, _, err := tr.Proof(a.ID); err != nil || byID.LeafIndex != p.LeafIndex {
				t.Fatalf("Proof(id) disagrees with ProofAt: %v", err)
			}
		}
	}
}

func clone(p *Proof) *Proof {
	q := *p
	q.Siblings = append([]Sibling(nil), p.Siblings...)
	return &q
}

// TestTamperingFails changes one thing at a time and expects failure.
func TestTamperingFails(t *testing.T) {
	seed := seedOf(4)
	accts := mkAccounts(13, func(i int) uint64 { return uint64(100 + i) })
	tr := mustBuild(t, "SAT", seed, accts, WithHeight(4))
	root := tr.Root()
	const me, other = 5, 6
	p, salt, err := tr.ProofAt(me)
	if err != nil {
		t.Fatal(err)
	}
	op, osalt, _ := tr.ProofAt(other)
	id, bal := accts[me].ID, accts[me].Balance
	type input struct {
		root    Root
		id      string
		salt    Salt
		balance uint64
		proof   *Proof
	}
	base := func() input { return input{root, id, salt, bal, clone(p)} }
	var tests []struct {
		name string
		in   input
	}
	add := func(name string, f func(*input)) {
		in := base()
		f(&in)
		tests = append(tests, struct {
			name string
			in   input
		}{name, in})
	}
	add("balance+1", func(in *input) { in.balance++ })
	add("balance-1", func(in *input) { in.balance-- })
	add("balance 0", func(in *input) { in.balance = 0 })
	add("salt bit", func(in *input) { in.salt[31] ^= 1 })
	add("other's salt", func(in *input) { in.salt = osalt })
	add("other id", func(in *input) { in.id = accts[other].ID })
	add("root hash", func(in *input) { in.root.Hash[0] ^= 0x80 })
	add("root sum+1", func(in *input) { in.root.Sum++ })
	add("root sum-1", func(in *input) { in.root.Sum-- })
	add("root height", func(in *input) { in.root.Height++ })
	add("other's proof", func(in *input) { in.proof = clone(op) })
	for l := range p.Siblings {
		add("sibling hash level "+string(rune('0'+l)), func(in *input) { in.proof.Siblings[l].Hash[l] ^= 1 })
		add("sibling sum+1 level "+string(rune('0'+l)), func(in *input) { in.proof.Siblings[l].Sum++ })
		if p.Siblings[l].Sum > 0 {
			add("sibling sum-1 level "+string(rune('0'+l)), func(in *input) { in.proof.Siblings[l].Sum-- })
		}
		add("index bit "+string(rune('0'+l)), func(in *input) { in.proof.LeafIndex ^= 1 << l })
	}
	add("siblings swapped 0,1", func(in *input) {
		in.proof.Siblings[0], in.proof.Siblings[1] = in.proof.Siblings[1], in.proof.Siblings[0]
	})
	add("sibling dropped", func(in *input) { in.proof.Siblings = in.proof.Siblings[:3] })
	// Moving value from the holder to a sibling keeps the total right.
	add("balance moved to sibling", func(in *input) { in.balance -= 50; in.proof.Siblings[0].Sum += 50 })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if err := VerifyInclusion(in.root, in.id, in.salt, in.balance, in.proof); err == nil {
				t.Fatal("tampered input verified")
			}
		})
	}
	if err := VerifyInclusion(root, id, salt, bal, p); err != nil {
		t.Fatalf("untampered proof fails: %v", err)
	}
}

// TestOverflowRejected builds forged proofs whose sums would wrap, and
// checks they are refused with one-sentence errors before any hashing could
// hide them.
func TestOverflowRejected(t *testing.T) {
	seed := seedOf(2)
	accts := mkAccounts(9, func(i int) uint64 { return 1 })
	tr := mustBuild(t, "SAT", seed, accts, WithHeight(5))
	root := tr.Root()
	p, salt, _ := tr.ProofAt(0)
	id := accts[0].ID
	tests := []struct {
		name    string
		mutate  func(*Proof, *Root, *uint64)
		wantMsg string
	}{
		{"sibling sum above MaxSum", func(p *Proof, _ *Root, _ *uint64) { p.Siblings[2].Sum = MaxSum + 1 },
			"sibling sum at level 2 exceeds the maximum sum"},
		{"sibling sum 2^64-1 (a -1)", func(p *Proof, _ *Root, _ *uint64) { p.Siblings[0].Sum = 1<<64 - 1 },
			"sibling sum at level 0 exceeds the maximum sum"},
		{"siblings summing past MaxSum", func(p *Proof, _ *Root, _ *uint64) {
			p.Siblings[1].Sum = MaxSum / 2
			p.Siblings[3].Sum = MaxSum / 2
		}, "sibling sum at level 3 makes the total overflow"},
		{"balance and sibling past MaxSum", func(p *Proof, _ *Root, b *uint64) { *b = MaxSum; p.Siblings[0].Sum = 1 },
			"sibling sum at level 0 makes the total overflow"},
		{"balance above MaxSum", func(_ *Proof, _ *Root, b *uint64) { *b = MaxSum + 1 },
			"the balance exceeds the maximum sum"},
		{"attested total above MaxSum", func(_ *Proof, r *Root, _ *uint64) { r.Sum = MaxSum + 1 },
			"the attested total exceeds the maximum sum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, r, b := clone(p), root, accts[0].Balance
			tc.mutate(q, &r, &b)
			err := VerifyInclusion(r, id, salt, b, q)
			if !errors.Is(err, ErrOverflow) || err.Error() != tc.wantMsg {
				t.Fatalf("error = %v, want %q (ErrOverflow)", err, tc.wantMsg)
			}
			if _, err := q.MarshalBinary(); q.Siblings[0].Sum > MaxSum || q.Siblings[2].Sum > MaxSum {
				if !errors.Is(err, ErrOverflow) {
					t.Fatalf("MarshalBinary accepted a sum above MaxSum: %v", err)
				}
			}
		})
	}
}

func TestErrorSentences(t *testing.T) {
	seed := seedOf(2)
	accts := mkAccounts(3, func(i int) uint64 { return 5 })
	tr := mustBuild(t, "SAT", seed, accts, WithHeight(2))
	root := tr.Root()
	p, salt, _ := tr.ProofAt(1)
	tests := []struct {
		name   string
		root   Root
		bal    uint64
		proof  *Proof
		target error
		msg    string
	}{
		{"hash", Root{Hash: [32]byte{1}, Sum: 15, Height: 2, Count: 3}, 5, p, ErrMismatch, "root hash does not match the attested root"},
		{"total", Root{Hash: root.Hash, Sum: 16, Height: 2, Count: 3}, 5, p, ErrMismatch, "root total does not match the attested total"},
		{"height", Root{Hash: root.Hash, Sum: 15, Height: 3, Count: 3}, 5, p, ErrMalformedProof, "proof has 2 levels but the attested tree has height 3"},
		{"index", Root{Hash: root.Hash, Sum: 15, Height: 2, Count: uint64(p.LeafIndex)}, 5, p, ErrMalformedProof, ""},
		{"nil", root, 5, nil, ErrMalformedProof, "the proof is missing"},
	}
	for _, tc := range tests {
		err := VerifyInclusion(tc.root, accts[1].ID, salt, tc.bal, tc.proof)
		if !errors.Is(err, tc.target) || (tc.msg != "" && err.Error() != tc.msg) {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.msg)
		}
		if err != nil && (strings.Contains(err.Error(), ":") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("%s: %q is not one plain sentence", tc.name, err)
		}
	}
}

// TestCrossAttestation: a proof from one attestation (seed) or asset never
// verifies against another's root, whichever salt the holder is given.
func TestCrossAttestation(t *testing.T) {
	accts := mkAccounts(20, func(i int) uint64 { return uint64(i + 1) })
	a := mustBuild(t, "SAT", seedOf(1), accts)
	b := mustBuild(t, "SAT", seedOf(2), accts)
	c := mustBuild(t, "INR", seedOf(1), accts)
	if a.Root().Sum != b.Root().Sum || a.Root().Hash == b.Root().Hash || a.Root().Hash == c.Root().Hash {
		t.Fatal("roots of different seeds or assets must differ and totals agree")
	}
	for i, acc := range accts {
		pa, sa, _ := a.ProofAt(i)
		_, sb, _ := b.ProofAt(i)
		_, sc, _ := c.ProofAt(i)
		if sa == sb || sa == sc {
			t.Fatal("salts repeat across attestations or assets")
		}
		for _, other := range []*Tree{b, c} {
			for _, s := range []Salt{sa, sb, sc} {
				if err := VerifyInclusion(other.Root(), acc.ID, s, acc.Balance, pa); err == nil {
					t.Fatalf("account %d: proof of attestation A verified against another root", i)
				}
			}
		}
	}
}

func TestProofUnknownAccount(t *testing.T) {
	tr := mustBuild(t, "SAT", seedOf(1), mkAccounts(3, func(int) uint64 { return 1 }))
	if _, _, err := tr.Proof("nobody"); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("Proof(unknown) error = %v", err)
	}
	if _, _, err := tr.ProofAt(3); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("ProofAt(3) error = %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	tr := mustBuild(t, "SAT", seedOf(1), mkAccounts(3, func(int) uint64 { return 1 }), WithHeight(2))
	p, _, _ := tr.ProofAt(0)
	good, _ := p.MarshalBinary()
	mod := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	bin := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"header only cut", good[:5]},
		{"version 0", mod(func(b []byte) []byte { b[0] = 0; return b })},
		{"version 2", mod(func(b []byte) []byte { b[0] = 2; return b })},
		{"height 33", mod(func(b []byte) []byte { b[1] = 33; return b })},
		{"height says 3", mod(func(b []byte) []byte { b[1] = 3; return b })},
		{"height says 1", mod(func(b []byte) []byte { b[1] = 1; return b })},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"missing byte", good[:len(good)-1]},
		{"index outside tree", mod(func(b []byte) []byte { b[5] = 4; return b })},
		{"sum above MaxSum", mod(func(b []byte) []byte { b[6+32] = 0x80; return b })},
	}
	for _, tc := range bin {
		var q Proof
		if err := q.UnmarshalBinary(tc.b); err == nil {
			t.Errorf("binary %s: decoded", tc.name)
		}
	}
	var q Proof
	if err := q.UnmarshalBinary(good); err != nil {
		t.Fatalf("good proof rejected: %v", err)
	}

	js, _ := json.Marshal(p)
	good64 := strings.Repeat("ab", 32)
	sib := `{"hash":"` + good64 + `","sum":"1"}`
	jsonCases := []struct{ name, s string }{
		{"unknown field", strings.Replace(string(js), `"version":1`, `"version":1,"x":1`, 1)},
		{"trailing data", string(js) + `{}`},
		{"version 2", strings.Replace(string(js), `"version":1`, `"version":2`, 1)},
		{"no version", `{"height":1,"leaf_index":0,"siblings":[` + sib + `]}`},
		{"height mismatch", `{"version":1,"height":2,"leaf_index":0,"siblings":[` + sib + `]}`},
		{"upper hex", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + strings.ToUpper(good64) + `","sum":"1"}]}`},
		{"short hex", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"abcd","sum":"1"}]}`},
		{"leading zero", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + good64 + `","sum":"01"}]}`},
		{"negative", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + good64 + `","sum":"-1"}]}`},
		{"sum as number", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + good64 + `","sum":1}]}`},
		{"sum above MaxSum", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + good64 + `","sum":"9223372036854775808"}]}`},
		{"index outside", `{"version":1,"height":1,"leaf_index":2,"siblings":[` + sib + `]}`},
		{"negative index", `{"version":1,"height":1,"leaf_index":-1,"siblings":[` + sib + `]}`},
		// Strict reading (docs/proofs.md §1): encoding/json alone accepts
		// each of these, the last three with another meaning than the
		// browser's.
		{"no leaf index", `{"version":1,"height":1,"siblings":[` + sib + `]}`},
		{"case-variant member", `{"version":1,"height":1,"Leaf_Index":1,"siblings":[` + sib + `]}`},
		{"case-variant sibling member", `{"version":1,"height":1,"leaf_index":1,"siblings":[{"HASH":"` + good64 + `","sum":"1"}]}`},
		{"repeated member", `{"version":1,"height":1,"leaf_index":0,"leaf_index":1,"siblings":[` + sib + `]}`},
		{"height as a fraction", `{"version":1,"height":1.0,"leaf_index":1,"siblings":[` + sib + `]}`},
		{"index beyond 2^32", `{"version":1,"height":1,"leaf_index":4294967297,"siblings":[` + sib + `]}`},
	}
	for _, tc := range jsonCases {
		var q Proof
		if err := json.Unmarshal([]byte(tc.s), &q); err == nil {
			t.Errorf("json %s: decoded", tc.name)
		}
	}
	if err := json.Unmarshal([]byte(`{"version":1,"height":1,"leaf_index":1,"siblings":[`+sib+`]}`), &q); err != nil {
		t.Errorf("valid JSON rejected: %v", err)
	}
}

// TestProofWriterReuse: a ProofWriter, which re-reads only the levels where
// a path differs from its previous one, gives the same proofs and salts as
// a fresh Tree.ProofAt in position order, in random order, by account, and
// after its caller changed a returned proof; every proof verifies.
func TestProofWriterReuse(t *testing.T) {
	accts := mkAccounts(1500, func(i int) uint64 { return uint64(i*7 + 1) })
	tr := mustBuild(t, "SAT", seedOf(4), accts, WithHeight(12))
	root := tr.Root()
	check := func(w *ProofWriter, p *Proof, salt Salt, i int, how string) {
		t.Helper()
		want, wantSalt, err := tr.ProofAt(i)
		if err != nil {
			t.Fatal(err)
		}
		if salt != wantSalt || p.LeafIndex != want.LeafIndex || !slices.Equal(p.Siblings, want.Siblings) {
			t.Fatalf("%s: proof of account %d differs from a fresh one", how, i)
		}
		if err := VerifyInclusion(root, accts[i].ID, salt, accts[i].Balance, p); err != nil {
			t.Fatalf("%s: account %d: %v", how, i, err)
		}
	}
	w := tr.NewProofWriter()
	for pos := range len(accts) {
		p, salt, i, err := w.ProofAtPosition(pos)
		if err != nil {
			t.Fatal(err)
		}
		if int(p.LeafIndex) != pos {
			t.Fatalf("position %d: leaf index %d", pos, p.LeafIndex)
		}
		check(w, p, salt, i, "position order")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		if r.IntN(2) == 0 {
			pos := r.IntN(len(accts))
			p, salt, i, err := w.ProofAtPosition(pos)
			if err != nil {
				t.Fatal(err)
			}
			check(w, p, salt, i, "random position")
		} else {
			i := r.IntN(len(accts))
			p, salt, err := w.ProofAt(i)
			if err != nil {
				t.Fatal(err)
			}
			check(w, p, salt, i, "random account")
			// The caller scribbles on the proof it was given.
			p.Siblings[len(p.Siblings)-1].Sum++
			p.Siblings[0].Hash[0] ^= 1
		}
	}
	if _, _, _, err := w.ProofAtPosition(len(accts)); !errors.Is(err, ErrUnknownAccount) {
		t.Fatalf("position past the end: %v", err)
	}
}

// TestEachProof: EachProof gives, for every position of a range, the proof,
// salt and account that ProofAtPosition gives; it refuses a range outside
// the tree and stops at fn's first error.
func TestEachProof(t *testing.T) {
	accts := mkAccounts(700, func(i int) uint64 { return uint64(i + 3) })
	tr := mustBuild(t, "SAT", seedOf(8), accts, WithHeight(10))
	ref := tr.NewProofWriter()
	for _, r := range [][2]int{{0, 700}, {5, 5}, {63, 130}, {699, 700}} {
		next := r[0]
		err := tr.NewProofWriter().EachProof(r[0], r[1], func(p *Proof, salt Salt, i int) error {
			want, wantSalt, wantI, err := ref.ProofAtPosition(next)
			if err != nil {
				return err
			}
			if i != wantI || salt != wantSalt || p.LeafIndex != want.LeafIndex || !slices.Equal(p.Siblings, want.Siblings) {
				t.Fatalf("range %v, position %d: EachProof differs from ProofAtPosition", r, next)
			}
			next++
			return nil
		})
		if err != nil || next != r[1] {
			t.Fatalf("range %v: stopped at %d, %v", r, next, err)
		}
	}
	for _, r := range [][2]int{{-1, 3}, {0, 701}, {9, 8}} {
		if err := tr.NewProofWriter().EachProof(r[0], r[1], func(*Proof, Salt, int) error { return nil }); !errors.Is(err, ErrUnknownAccount) {
			t.Fatalf("range %v: %v", r, err)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := tr.NewProofWriter().EachProof(0, 700, func(*Proof, Salt, int) error {
		calls++
		if calls == 100 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 100 {
		t.Fatalf("fn error: %v after %d calls", err, calls)
	}
}

// TestAccountCountEnforced: the published account count n means something.
// A tree holding m > n real accounts, published with count n and its true
// hash and total, leaves real leaves at "padding" positions n … m−1. No
// proof for such a position verifies (leaf index ≥ n), and every holder
// whose path has a sibling lying wholly at positions ≥ n that holds a real
// leaf fails, the holder at position n−1 always among them: that sibling
// must be a pad, with sum 0 (docs/proofs.md §3.12).
func TestAccountCountEnforced(t *testing.T) {
	for _, tc := range []struct{ m, n, height int }{{4, 3, 2}, {6, 4, 3}, {5, 1, 3}, {20, 17, 5}, {9, 8, 4}} {
		accts := mkAccounts(tc.m, func(i int) uint64 { return uint64(10 * (i + 1)) })
		tr := mustBuild(t, "SAT", seedOf(9), accts, WithHeight(tc.height))
		honest := tr.Root()
		lied := honest
		lied.Count = uint64(tc.n)
		w := tr.NewProofWriter()
		for p := 0; p < tc.m; p++ {
			proof, salt, i, err := w.ProofAtPosition(p)
			if err != nil {
				t.Fatal(err)
			}
			a := accts[i]
			if err := VerifyInclusion(honest, a.ID, salt, a.Balance, proof); err != nil {
				t.Fatalf("m=%d: honest proof at %d: %v", tc.m, p, err)
			}
			err = VerifyInclusion(lied, a.ID, salt, a.Balance, proof)
			// A sibling at level l covers positions s·2^l … (s+1)·2^l − 1
			// (s = (p >> l) XOR 1); it lies past the count when s·2^l ≥ n,
			// and holds a real leaf when s·2^l < m.
			wantFail, level := p >= tc.n, -1
			for l := 0; l < tc.height && !wantFail; l++ {
				if lo := ((p >> l) ^ 1) << l; lo >= tc.n && lo < tc.m {
					wantFail, level = true, l
				}
			}
			switch {
			case p >= tc.n:
				want := fmt.Sprintf("leaf index %d is not below the attested account count %d", p, tc.n)
				if err == nil || err.Error() != want || !errors.Is(err, ErrMalformedProof) {
					t.Errorf("m=%d n=%d: proof at %d: %v, want %q", tc.m, tc.n, p, err, want)
				}
			case wantFail:
				if err == nil || !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), fmt.Sprintf("sibling at level %d ", level)) {
					t.Errorf("m=%d n=%d: proof at %d: %v, want a failure at level %d", tc.m, tc.n, p, err, level)
				}
			default:
				if err != nil {
					t.Errorf("m=%d n=%d: proof at %d: %v, want it to verify", tc.m, tc.n, p, err)
				}
			}
			if p == tc.n-1 && err == nil {
				t.Errorf("m=%d n=%d: the last holder below the count verifies", tc.m, tc.n)
			}
		}
	}
}

// TestPadSiblingWithZeroSum: a sibling past the account count with sum 0
// (what every honest pad is) passes the count check; only its sum is
// bound, since a verifier without the seed cannot recompute a pad's hash.
func TestPadSiblingWithZeroSum(t *testing.T) {
	accts := mkAccounts(3, func(i int) uint64 { return uint64(i + 1) })
	tr := mustBuild(t, "SAT", seedOf(3), accts, WithHeight(2))
	w := tr.NewProofWriter()
	proof, salt, i, err := w.ProofAtPosition(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyInclusion(tr.Root(), accts[i].ID, salt, accts[i].Balance, proof); err != nil {
		t.Fatal(err)
	}
	if proof.Siblings[0].Sum != 0 {
		t.Fatalf("pad sibling has sum %d", proof.Siblings[0].Sum)
	}
}

// TestShapeMatchesStruct: ProofShape lists exactly the members of the
// JSON form.
func TestShapeMatchesStruct(t *testing.T) {
	if err := strictjson.MatchStruct(ProofShape, reflect.TypeFor[proofJSON]()); err != nil {
		t.Fatal(err)
	}
}
