package sumtree

import (
	"errors"
	"fmt"
	"testing"
)

// TestEachProofIn checks that the windows split into ranges give the
// proofs EachProof gives, in the same order, each once, and that a range
// outside the windows is refused.
func TestEachProofIn(t *testing.T) {
	for _, tc := range []struct{ n, k, w int }{{0, 2, 10}, {1, 2, 10}, {130, 2, 3}, {257, 4, 4}, {64, 1, 0}} {
		t.Run(fmt.Sprintf("n%d_k%d_w%d", tc.n, tc.k, tc.w), func(t *testing.T) {
			hs := mkHoldings(tc.n, func(i int) uint64 { return uint64(i%13) * 1001 })
			tr := mustBuild2(t, "KSH", seedOf(byte(tc.n)), hs, WithShares(tc.k), WithWindow(tc.w))
			var want []string
			if err := tr.EachProof(func(p *ShareProof, salt Salt, i int) error {
				want = append(want, fmt.Sprint(i, salt, p))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var got []string
			collect := func(p *ShareProof, salt Salt, i int) error {
				got = append(got, fmt.Sprint(i, salt, p))
				return nil
			}
			g := tr.Windows()
			for lo := 0; lo < g; lo += 3 {
				if err := tr.EachProofIn(lo, min(lo+3, g), collect); err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || len(want) != tc.n {
				t.Fatalf("EachProofIn over %d windows gave %d proofs, EachProof %d, for %d holdings, or they differ", g, len(got), len(want), tc.n)
			}
			if err := tr.EachProofIn(0, g+1, collect); !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("range past the last window: %v", err)
			}
		})
	}
}
