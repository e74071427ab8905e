package sumtree

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Reference implementation of the version 2 tree, written from
// docs/proofs.md 3.15 with taghash.Sum and math/rand/v2 alone.

func refTreeID(seed [32]byte, asset string) [32]byte {
	return taghash.Sum("kosh/tree", seed[:], u32(len(asset)), []byte(asset))
}

func refCommitment2(tid, salt [32]byte, asset string, seq uint64, id string) [32]byte {
	return taghash.Sum("kosh/account/2", tid[:], salt[:], u32(len(asset)), []byte(asset), u64(seq), u32(len(id)), []byte(id))
}

func refLeaf2(c [32]byte, k, i int, share uint64) [32]byte {
	return taghash.Sum("kosh/leaf/2", c[:], []byte{byte(k), byte(i)}, u64(share))
}

func refSplit(salt [32]byte, bal uint64, k int) []uint64 {
	d := taghash.Sum("kosh/split", salt[:])
	var cuts []uint64
	for j := 0; j < k-1; j++ {
		hi, _ := bits.Mul64(binary.BigEndian.Uint64(d[8*j:]), bal+1)
		cuts = append(cuts, hi)
	}
	slices.Sort(cuts)
	out, prev := []uint64{}, uint64(0)
	for _, c := range cuts {
		out = append(out, c-prev)
		prev = c
	}
	return append(out, bal-prev)
}

func refShuffle(key [32]byte, n int) []uint32 {
	r := rand.NewChaCha8(key)
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	for i := n - 1; i > 0; i-- {
		j := uniform(r, uint64(i)+1)
		order[i], order[j] = order[j], order[i]
	}
	return order
}

// refLayout returns, for every leaf position, the leaf's hash and sum, in
// the layout of 3.15.5.
func refLayout(seed [32]byte, asset string, hs []Holding, k, w int) ([][32]byte, []uint64) {
	head := append(append(seed[:len(seed):len(seed)], u32(len(asset))...), asset...)
	tid := refTreeID(seed, asset)
	order := refShuffle(taghash.Sum("kosh/shuffle", head), len(hs))
	per := (1 << w) / k
	var hashes [][32]byte
	var sums []uint64
	for g := 0; g*per < len(hs); g++ {
		m := min(per, len(hs)-g*per)
		perm := refShuffle(taghash.Sum("kosh/window", head, u64(uint64(g))), m*k)
		for _, slot := range perm {
			h := hs[order[g*per+int(slot)/k]]
			salt := refSalt(seed, asset, h.ID)
			share := refSplit(salt, h.Balance, k)[int(slot)%k]
			hashes = append(hashes, refLeaf2(refCommitment2(tid, salt, asset, h.Seq, h.ID), k, int(slot)%k, share))
			sums = append(sums, share)
		}
	}
	return hashes, sums
}

func refRoot2(seed [32]byte, asset string, hashes [][32]byte, sums []uint64, level int, index uint64) ([32]byte, uint64) {
	if index<<level >= uint64(len(hashes)) {
		return refPad(seed, asset, level, index), 0
	}
	if level == 0 {
		return hashes[index], sums[index]
	}
	lh, ls := refRoot2(seed, asset, hashes, sums, level-1, 2*index)
	rh, rs := refRoot2(seed, asset, hashes, sums, level-1, 2*index+1)
	return refNode(lh, ls, rh, rs), ls + rs
}

func mkHoldings(n int, bal func(i int) uint64) []Holding {
	h := make([]Holding, n)
	for i := range h {
		h[i] = Holding{ID: fmt.Sprintf("acct-%06d", i), Balance: bal(i), Seq: uint64(3*i + 1)}
	}
	return h
}

func mustBuild2(t testing.TB, asset string, seed [32]byte, hs []Holding, opts ...ShareOption) *ShareTree {
	t.Helper()
	tr, err := Build2(context.Background(), asset, seed, hs, opts...)
	if err != nil {
		t.Fatalf("Build2: %v", err)
	}
	return tr
}

// TestShareTreeMatchesReference builds trees of many shapes and compares
// the root with the recursive reference, then verifies every proof.
func TestShareTreeMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		n, k, w, h int
	}{
		{0, 2, 10, -1}, {1, 1, 10, -1}, {1, 2, 10, -1}, {3, 2, 10, -1}, {5, 4, 2, -1}, {7, 2, 1, -1},
		{9, 2, 2, 6}, {33, 2, 3, -1}, {100, 4, 3, -1}, {130, 2, 10, -1}, {257, 2, 4, 12}, {64, 1, 0, -1},
	} {
		t.Run(fmt.Sprintf("n%d_k%d_w%d_h%d", tc.n, tc.k, tc.w, tc.h), func(t *testing.T) {
			seed := seedOf(byte(tc.n))
			hs := mkHoldings(tc.n, func(i int) uint64 { return uint64(i*i%97) * 1001 })
			opts := []ShareOption{WithShares(tc.k), WithWindow(tc.w), WithShareWorkers(3)}
			if tc.h >= 0 {
				opts = append(opts, WithShareHeight(tc.h))
			}
			tr := mustBuild2(t, "KSH", seed, hs, opts...)
			root := tr.Root()
			hashes, sums := refLayout(seed, "KSH", hs, tc.k, root.Window)
			wantH, wantS := refRoot2(seed, "KSH", hashes, sums, root.Height, 0)
			if root.Hash != wantH || root.Sum != wantS {
				t.Fatalf("root %x/%d, reference %x/%d", root.Hash, root.Sum, wantH, wantS)
			}
			if root.TreeID != refTreeID(seed, "KSH") || root.Count != uint64(tc.n) || root.Shares != tc.k {
				t.Fatalf("root fields %+v", root)
			}
			seen := 0
			err := tr.EachProof(func(p *ShareProof, salt Salt, i int) error {
				seen++
				h := hs[i]
				if err := VerifyShares(root, "KSH", h.ID, h.Seq, salt, h.Balance, p); err != nil {
					return fmt.Errorf("holding %d: %w", i, err)
				}
				q, salt2, h2, err := tr.Proof(h.ID)
				if err != nil || salt2 != salt || h2 != h || fmt.Sprint(q) != fmt.Sprint(p) {
					return fmt.Errorf("Proof(%s) differs from EachProof's: %v", h.ID, err)
				}
				// Positions agree with the reference layout.
				for si, s := range p.Shares {
					if hashes[s.Position] != refLeaf2(refCommitment2(root.TreeID, salt, "KSH", h.Seq, h.ID), tc.k, si, s.Amount) {
						return fmt.Errorf("holding %d share %d is not the reference leaf at %d", i, si, s.Position)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if seen != tc.n {
				t.Fatalf("EachProof gave %d proofs for %d holdings", seen, tc.n)
			}
		})
	}
}

// TestShareProofSize pins the multiproof's length: k paths that share
// everything above the window.
func TestShareProofSize(t *testing.T) {
	hs := mkHoldings(5000, func(i int) uint64 { return uint64(i) + 1 })
	tr := mustBuild2(t, "KSH", seedOf(9), hs, WithWindow(6))
	root := tr.Root()
	if root.Height != 14 { // 10,000 leaves
		t.Fatalf("height %d", root.Height)
	}
	p, _, _, err := tr.Proof(hs[17].ID)
	if err != nil {
		t.Fatal(err)
	}
	// Two paths of 14 levels that meet at level m ≤ 6 need 14 + m − 2
	// siblings.
	if n := len(p.Siblings); n < 13 || n > 18 {
		t.Fatalf("%d siblings", n)
	}
	if p.Shares[0].Position>>6 != p.Shares[1].Position>>6 {
		t.Fatalf("shares in different windows: %+v", p.Shares)
	}
}

func TestShareTreeRejects(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		hs   []Holding
		opts []ShareOption
		want error
	}{
		{"k=3", mkHoldings(2, func(int) uint64 { return 1 }), []ShareOption{WithShares(3)}, ErrInvalidInput},
		{"duplicate", []Holding{{ID: "a", Balance: 1}, {ID: "a", Balance: 2}}, nil, ErrDuplicateAccount},
		{"too high", mkHoldings(3, func(int) uint64 { return 1 }), []ShareOption{WithShareHeight(2)}, ErrInvalidInput},
		{"overflow", []Holding{{ID: "a", Balance: MaxSum}, {ID: "b", Balance: 1}}, nil, ErrOverflow},
		{"seq", []Holding{{ID: "a", Balance: 1, Seq: MaxSum + 1}}, nil, ErrInvalidInput},
		{"window below the shares", mkHoldings(3, func(int) uint64 { return 1 }), []ShareOption{WithShares(4), WithWindow(1)}, ErrInvalidInput},
	} {
		if _, err := Build2(ctx, "KSH", seedOf(1), tc.hs, tc.opts...); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestSharesBindAssetSeedAndSeq: a proof does not verify under another
// asset code, another tree id (another seed), another sequence, or with
// shares other than the salt's split.
func TestSharesBindAssetSeedAndSeq(t *testing.T) {
	hs := mkHoldings(40, func(i int) uint64 { return uint64(100 + i) })
	tr := mustBuild2(t, "KSH", seedOf(4), hs)
	root := tr.Root()
	h := hs[7]
	p, salt, _, err := tr.Proof(h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyShares(root, "KSH", h.ID, h.Seq, salt, h.Balance, p); err != nil {
		t.Fatal(err)
	}
	// The same root published under another asset code (the relabel).
	if err := VerifyShares(root, "INR", h.ID, h.Seq, salt, h.Balance, p); !errors.Is(err, ErrMismatch) {
		t.Fatalf("relabelled asset: %v", err)
	}
	other := root
	other.TreeID = TreeID(seedOf(5), "KSH")
	if err := VerifyShares(other, "KSH", h.ID, h.Seq, salt, h.Balance, p); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another tree id: %v", err)
	}
	if err := VerifyShares(root, "KSH", h.ID, h.Seq+1, salt, h.Balance, p); !errors.Is(err, ErrMismatch) {
		t.Fatalf("another seq: %v", err)
	}
	// Shares moved between the two leaves: same sum, not the split.
	q := *p
	q.Shares = slices.Clone(p.Shares)
	q.Shares[0].Amount, q.Shares[1].Amount = q.Shares[1].Amount, q.Shares[0].Amount
	if q.Shares[0].Amount != q.Shares[1].Amount {
		err := VerifyShares(root, "KSH", h.ID, h.Seq, salt, h.Balance, &q)
		if err == nil || !strings.Contains(err.Error(), "the salt splits the balance") {
			t.Fatalf("swapped shares: %v", err)
		}
	}
}

// TestShareProofTamper: every field of a proof matters, and the padding and
// count rules hold.
func TestShareProofTamper(t *testing.T) {
	hs := mkHoldings(21, func(i int) uint64 { return uint64(i%5) * 7 })
	tr := mustBuild2(t, "KSH", seedOf(6), hs, WithWindow(3))
	root := tr.Root() // 42 leaves, height 6
	var last *ShareProof
	var lastH Holding
	var lastSalt Salt
	_ = tr.EachProof(func(p *ShareProof, salt Salt, i int) error {
		for _, s := range p.Shares {
			if s.Position == 41 {
				last, lastH, lastSalt = cloneShareProof(p), hs[i], salt
			}
		}
		return nil
	})
	if last == nil {
		t.Fatal("no proof holds position 41")
	}
	ok := func(p *ShareProof) error {
		return VerifyShares(root, "KSH", lastH.ID, lastH.Seq, lastSalt, lastH.Balance, p)
	}
	if err := ok(last); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(p *ShareProof){
		"sibling hash":   func(p *ShareProof) { p.Siblings[len(p.Siblings)-1].Hash[0] ^= 1 },
		"sibling sum":    func(p *ShareProof) { p.Siblings[0].Sum++ },
		"extra sibling":  func(p *ShareProof) { p.Siblings = append(p.Siblings, Sibling{}) },
		"short":          func(p *ShareProof) { p.Siblings = p.Siblings[:len(p.Siblings)-1] },
		"height":         func(p *ShareProof) { p.Height++ },
		"same positions": func(p *ShareProof) { p.Shares[1].Position = p.Shares[0].Position },
		"past leaves":    func(p *ShareProof) { p.Shares[0].Position = 42 },
		"other window":   func(p *ShareProof) { p.Shares[0].Position ^= 8 },
	} {
		p := cloneShareProof(last)
		mut(p)
		if err := ok(p); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	// A root that publishes fewer accounts than the tree holds (20, so 40
	// leaves, while positions 40 and 41 hold a balance): a holder with a
	// share at 32 … 39 has the sibling at level 3 covering 40 … 47, wholly
	// past the published leaves, with a sum that is not 0.
	fewer := root
	fewer.Count = 20
	checked := 0
	_ = tr.EachProof(func(p *ShareProof, salt Salt, i int) error {
		for _, s := range p.Shares {
			if s.Position >= 32 && s.Position < 40 && p.Shares[0].Position < 40 && p.Shares[1].Position < 40 {
				h := hs[i]
				err := VerifyShares(fewer, "KSH", h.ID, h.Seq, salt, h.Balance, p)
				if err == nil || !strings.Contains(err.Error(), "must be padding with sum 0") {
					t.Errorf("holding %d at %+v against a count of 20: %v", i, p.Shares, err)
				}
				checked++
				break
			}
		}
		return nil
	})
	if checked == 0 {
		t.Fatal("no holder has a share at 32 … 39")
	}
}

func cloneShareProof(p *ShareProof) *ShareProof {
	return &ShareProof{Height: p.Height, Shares: slices.Clone(p.Shares), Siblings: slices.Clone(p.Siblings)}
}

func TestShareProofEncoding(t *testing.T) {
	hs := mkHoldings(50, func(i int) uint64 { return uint64(i) * 3 })
	tr := mustBuild2(t, "KSH", seedOf(8), hs, WithShares(4), WithWindow(4))
	p, _, _, err := tr.Proof(hs[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.MarshalBinary()
	if err != nil || len(b) != p.EncodedLen() {
		t.Fatalf("binary: %d bytes, %v", len(b), err)
	}
	var q ShareProof
	if err := q.UnmarshalBinary(b); err != nil || fmt.Sprint(q) != fmt.Sprint(*p) {
		t.Fatalf("binary round trip: %v", err)
	}
	if err := q.UnmarshalBinary(append(b, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	j, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var r ShareProof
	if err := r.UnmarshalJSON(j); err != nil || fmt.Sprint(r) != fmt.Sprint(*p) {
		t.Fatalf("JSON round trip: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(string(j), `"version":2`, `"version":1`, 1),
		strings.Replace(string(j), `"height"`, `"Height"`, 1),
		strings.Replace(string(j), `"amount":"`, `"amount":"0`, 1),
		strings.Replace(string(j), `{"version"`, `{"extra":1,"version"`, 1),
	} {
		if err := r.UnmarshalJSON([]byte(bad)); !errors.Is(err, ErrMalformedProof) {
			t.Errorf("accepted %s…: %v", bad[:60], err)
		}
	}
	if !bytes.Contains(j, []byte(`"shares":[{"position":`)) {
		t.Fatalf("JSON form %s", j)
	}
}
