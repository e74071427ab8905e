package sumtree

import (
	"cmp"
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// TestFastHasherMatchesDefinition checks the midstate hasher against
// taghash.Sum for every hashed object, with ids short and long (crossing
// the scratch buffer).
func TestFastHasherMatchesDefinition(t *testing.T) {
	seed := seedOf(7)
	long := string(make([]byte, 300))
	for _, id := range []string{"a", "acct-000001", long} {
		s := DeriveSalt(seed, "SAT", id)
		if s != Salt(refSalt(seed, "SAT", id)) {
			t.Errorf("salt of %d-byte id differs from the definition", len(id))
		}
		c := Commitment(s, id)
		if c != refCommitment(s, id) {
			t.Errorf("commitment of %d-byte id differs from the definition", len(id))
		}
		if LeafHash(c, 42) != refLeaf(c, 42) {
			t.Errorf("leaf hash differs from the definition")
		}
	}
	x := newHasher()
	a, b := seedOf(1), seedOf(2)
	if x.node(&a, 5, &b, 6) != refNode(a, 5, b, 6) {
		t.Error("node hash differs from the definition")
	}
	if padHash(treeHead(&seed, "SAT"), 3, 9) != refPad(seed, "SAT", 3, 9) {
		t.Error("pad hash differs from the definition")
	}
}

// TestHasherMatchesSHA256 checks the hasher's own padding and its reading
// of the digest from the hash state against crypto/sha256 for every message
// length from 0 to 300 bytes (one to six blocks after the tag prefix), in
// an order that reuses one scratch buffer with stale bytes from longer
// messages.
func TestHasherMatchesSHA256(t *testing.T) {
	x := newHasher()
	r := rand.New(rand.NewPCG(1, 2))
	msg := make([]byte, 301)
	for i := range msg {
		msg[i] = byte(r.Uint32())
	}
	for _, n := range append(r.Perm(301), 300, 0, 55, 56, 64, 119, 120) {
		b := x.grow(n)
		copy(b, msg[:n])
		got := x.finish(&midNode, n)
		if want := taghash.Sum(taghash.TagNode, msg[:n]); got != want {
			t.Fatalf("%d-byte message: hasher gives %x, crypto/sha256 %x", n, got, want)
		}
	}
}

// TestHasherPairsMatchSHA256 checks finish2, which hashes two messages at
// once, against crypto/sha256 for pairs of lengths from 0 to 200 bytes
// (equal and unequal block counts, each message's buffer reused).
func TestHasherPairsMatchSHA256(t *testing.T) {
	x := newHasher()
	r := rand.New(rand.NewPCG(3, 4))
	msg := make([]byte, 402)
	for i := range msg {
		msg[i] = byte(r.Uint32())
	}
	for i := 0; i < 3000; i++ {
		n1, n2 := r.IntN(201), r.IntN(201)
		copy(x.grow(n1), msg[:n1])
		copy(x.grow2(n2), msg[201:201+n2])
		d1, d2 := x.finish2(&midNode, n1, &midLeaf, n2)
		if want := taghash.Sum(taghash.TagNode, msg[:n1]); d1 != want {
			t.Fatalf("first of %d and %d bytes: hasher gives %x, crypto/sha256 %x", n1, n2, d1, want)
		}
		if want := taghash.Sum(taghash.TagLeaf, msg[201:201+n2]); d2 != want {
			t.Fatalf("second of %d and %d bytes: hasher gives %x, crypto/sha256 %x", n1, n2, d2, want)
		}
	}
}

// TestHandComputedTree writes out small trees node by node.
func TestHandComputedTree(t *testing.T) {
	seed := seedOf(1)
	const asset = "SAT"
	accts := []Account{{"alice", 10}, {"bob", 20}, {"carol", 30}}
	tr := mustBuild(t, asset, seed, accts, WithHeight(2))
	leaf := func(p int) [32]byte {
		a := accts[tr.order[p]]
		return refLeaf(refCommitment(refSalt(seed, asset, a.ID), a.ID), a.Balance)
	}
	bal := func(p int) uint64 { return accts[tr.order[p]].Balance }
	// Height 2, three accounts: positions 0..2 hold leaves, position 3 is a
	// pad at level 0, index 3.
	n0 := refNode(leaf(0), bal(0), leaf(1), bal(1))
	n1 := refNode(leaf(2), bal(2), refPad(seed, asset, 0, 3), 0)
	want := refNode(n0, bal(0)+bal(1), n1, bal(2))
	r := tr.Root()
	if r.Hash != want || r.Sum != 60 || r.Height != 2 || r.Count != 3 {
		t.Fatalf("root = %x/%d/%d/%d, want %x/60/2/3", r.Hash, r.Sum, r.Height, r.Count, want)
	}
	// The pad sibling appears in the proof of the account at position 2.
	p, _, err := tr.ProofAt(int(tr.order[2]))
	if err != nil {
		t.Fatal(err)
	}
	if p.LeafIndex != 2 || p.Siblings[0].Hash != refPad(seed, asset, 0, 3) || p.Siblings[0].Sum != 0 ||
		p.Siblings[1].Hash != n0 || p.Siblings[1].Sum != bal(0)+bal(1) {
		t.Fatalf("proof of position 2 = %+v", p)
	}

	// One account in a tree of height 3: the root is the leaf joined with
	// a pad at each level, whole empty subtrees never expanded.
	one := []Account{{"dave", 7}}
	tr = mustBuild(t, asset, seed, one, WithHeight(3))
	h := refLeaf(refCommitment(refSalt(seed, asset, "dave"), "dave"), 7)
	for l := 0; l < 3; l++ {
		h = refNode(h, 7, refPad(seed, asset, l, 1), 0)
	}
	if tr.Root().Hash != h || tr.Root().Sum != 7 {
		t.Fatalf("one-account root = %x, want %x", tr.Root().Hash, h)
	}

	// Height 0: the root is the leaf.
	tr = mustBuild(t, asset, seed, one, WithHeight(0))
	if want := refLeaf(refCommitment(refSalt(seed, asset, "dave"), "dave"), 7); tr.Root().Hash != want {
		t.Fatalf("height-0 root = %x, want %x", tr.Root().Hash, want)
	}

	// No accounts: the root is one pad at the top level.
	tr = mustBuild(t, asset, seed, nil, WithHeight(4))
	if tr.Root().Hash != refPad(seed, asset, 4, 0) || tr.Root().Sum != 0 {
		t.Fatalf("empty root = %x, want the level-4 pad", tr.Root().Hash)
	}
}

// TestMatchesRecursiveReference compares Build with the recursive
// reference over many sizes and heights, with one worker and with several
// (so the parallel chunking is exercised: n above one chunk).
func TestMatchesRecursiveReference(t *testing.T) {
	seed := seedOf(3)
	for _, tc := range []struct{ n, height, workers int }{
		{1, 1, 1}, {2, 1, 1}, {5, 3, 1}, {8, 3, 1}, {9, 4, 2}, {100, 7, 2}, {1000, 16, 2}, {40000, 16, 3},
	} {
		accts := mkAccounts(tc.n, func(i int) uint64 { return uint64(i*i + 1) })
		tr := mustBuild(t, "INR", seed, accts, WithHeight(tc.height), WithWorkers(tc.workers))
		h, s := refRoot(seed, "INR", accts, tr.order, tc.height, 0)
		if r := tr.Root(); r.Hash != h || r.Sum != s {
			t.Errorf("n=%d height=%d: root %x/%d, reference %x/%d", tc.n, tc.height, r.Hash, r.Sum, h, s)
		}
	}
}

func TestDefaultHeight(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want int
	}{{0, 16}, {1, 16}, {1 << 16, 16}, {1<<16 + 1, 20}, {10_000_000, 24}, {1 << 28, 28}, {1 << 32, 32}} {
		if h, err := HeightFor(tc.n); err != nil || h != tc.want {
			t.Errorf("HeightFor(%d) = %d, %v; want %d", tc.n, h, err, tc.want)
		}
	}
	if _, err := HeightFor(1<<32 + 1); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("HeightFor(2^32+1) error = %v", err)
	}
}

func TestShuffle(t *testing.T) {
	key := seedOf(9)
	a, b := shuffle(key, 1000, nil), shuffle(key, 1000, make([]uint32, 1000))
	if !slices.Equal(a, b) {
		t.Fatal("shuffle is not deterministic")
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	for i, v := range sorted {
		if v != uint32(i) {
			t.Fatal("shuffle is not a permutation")
		}
	}
	if slices.Equal(a, shuffle(seedOf(10), 1000, nil)) {
		t.Fatal("a different key gave the same order")
	}
	// Each of the 6 orders of 3 leaves appears about 1/6 of the time.
	counts := map[[3]uint32]int{}
	const trials = 6000
	for i := range trials {
		var k [32]byte
		k[0], k[1] = byte(i), byte(i>>8)
		counts[[3]uint32(shuffle(k, 3, nil))]++
	}
	if len(counts) != 6 {
		t.Fatalf("saw %d of the 6 orders", len(counts))
	}
	for o, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("order %v appeared %d times in %d", o, c, trials)
		}
	}
}

// TestUniformIsLemire checks uniform against the arithmetic it documents,
// computed with big integers, including bounds that force rejections.
func TestUniformIsLemire(t *testing.T) {
	for _, bound := range []uint64{1, 2, 3, 10, 1<<63 + 1, 1<<64 - 1} {
		r1 := rand.NewChaCha8(seedOf(5))
		r2 := rand.NewChaCha8(seedOf(5))
		two64 := new(big.Int).Lsh(big.NewInt(1), 64)
		b := new(big.Int).SetUint64(bound)
		thresh := new(big.Int).Mod(new(big.Int).Sub(two64, b), b)
		for range 200 {
			got := uniform(r1, bound)
			var want uint64
			for {
				m := new(big.Int).Mul(new(big.Int).SetUint64(r2.Uint64()), b)
				lo := new(big.Int).Mod(m, two64)
				if lo.Cmp(thresh) >= 0 {
					want = new(big.Int).Rsh(m, 64).Uint64()
					break
				}
			}
			if got != want || got >= bound {
				t.Fatalf("bound %d: uniform = %d, want %d", bound, got, want)
			}
		}
	}
}

func TestRadixSortTop32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 1000, 70000} {
		k := make([]uint64, n)
		for i := range k {
			k[i] = r.Uint64()
		}
		radixSortTop32(k)
		if !slices.IsSortedFunc(k, func(a, b uint64) int { return cmp.Compare(a>>32, b>>32) }) {
			t.Fatalf("n=%d: keys are not sorted by their top 32 bits", n)
		}
	}
}

// TestShuffleProgressively checks that the shuffle Build2 runs beside its
// hashing, publishing its progress, writes the order shuffle writes, and
// ends with every rank final.
func TestShuffleProgressively(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4095, 4096, 4097, 100_000} {
		key := seedOf(byte(n))
		got := make([]uint32, n)
		var final atomic.Int64
		final.Store(int64(n))
		shuffleInto(key, got, make([]uint32, n), &final)
		if want := shuffle(key, n, nil); !slices.Equal(got, want) {
			t.Fatalf("%d entries: the progressive shuffle differs from shuffle", n)
		}
		if final.Load() != 0 {
			t.Fatalf("%d entries: final is %d at the end, not 0", n, final.Load())
		}
	}
}

// TestHasEqualKeysParallel checks the parallel split on sets large enough
// to be split, with a duplicate planted in some trials, on 1 to 5 workers.
func TestHasEqualKeysParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 16 {
		n := 1<<16 + r.IntN(1<<18)
		k := make([]uint64, n)
		for i := range k {
			k[i] = r.Uint64()
		}
		want := trial%2 == 0
		if want {
			k[r.IntN(n)] = k[r.IntN(n)]
			// The planted pair may be one key (i == j): plant another.
			a := r.IntN(n - 1)
			k[a+1] = k[a]
		}
		if got := hasEqualKeysParallel(k, 1+trial%5); got != want {
			t.Fatalf("trial %d (%d keys, %d workers): hasEqualKeysParallel = %v, want %v", trial, n, 1+trial%5, got, want)
		}
	}
}

// TestHasEqualKeys compares hasEqualKeys with a map on random keys, keys
// that share their top 32 bits (but not all 64), and duplicates placed
// apart inside such a run.
func TestHasEqualKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	naive := func(k []uint64) bool {
		seen := make(map[uint64]bool, len(k))
		for _, v := range k {
			if seen[v] {
				return true
			}
			seen[v] = true
		}
		return false
	}
	for trial := range 300 {
		n := 1 + r.IntN(5000)
		k := make([]uint64, n)
		for i := range k {
			switch r.IntN(3) {
			case 0:
				k[i] = r.Uint64()
			default: // few distinct top halves: long runs
				k[i] = uint64(r.IntN(4))<<32 | uint64(r.Uint32())
			}
		}
		if trial%2 == 0 && n > 2 {
			k[r.IntN(n)] = k[r.IntN(n)]
		}
		want := naive(k)
		if got := hasEqualKeys(slices.Clone(k)); got != want {
			t.Fatalf("trial %d (%d keys): hasEqualKeys = %v, want %v", trial, n, got, want)
		}
	}
	// Equal keys separated by others with the same top half.
	if !hasEqualKeys([]uint64{7<<32 | 1, 7<<32 | 2, 7<<32 | 3, 7<<32 | 1}) {
		t.Error("equal keys apart inside one run were not found")
	}
	if hasEqualKeys([]uint64{7<<32 | 1, 7<<32 | 2, 8<<32 | 1}) {
		t.Error("keys equal only in one half were reported equal")
	}
}

func TestBuildRejects(t *testing.T) {
	ok := []Account{{"a", 1}, {"b", 2}}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	big := mkAccounts(1<<15, func(int) uint64 { return 1 })
	tests := []struct {
		name   string
		ctx    context.Context
		asset  string
		accts  []Account
		opts   []Option
		target error
	}{
		{"empty asset", nil, "", ok, nil, ErrInvalidInput},
		{"long asset", nil, string(make([]byte, 65)), ok, nil, ErrInvalidInput},
		{"empty id", nil, "SAT", []Account{{"", 1}}, nil, ErrInvalidInput},
		{"long id", nil, "SAT", []Account{{string(make([]byte, MaxIDLen+1)), 1}}, nil, ErrInvalidInput},
		{"height too small", nil, "SAT", []Account{{"a", 1}, {"b", 1}, {"c", 1}}, []Option{WithHeight(1)}, ErrInvalidInput},
		{"height too large", nil, "SAT", ok, []Option{WithHeight(33)}, ErrInvalidInput},
		{"duplicate id", nil, "SAT", []Account{{"a", 1}, {"b", 2}, {"a", 3}}, nil, ErrDuplicateAccount},
		{"duplicate id same balance", nil, "SAT", []Account{{"x", 5}, {"x", 5}}, nil, ErrDuplicateAccount},
		{"balance above MaxSum", nil, "SAT", []Account{{"a", MaxSum + 1}}, nil, ErrOverflow},
		{"balance 2^64-1", nil, "SAT", []Account{{"a", 1<<64 - 1}}, nil, ErrOverflow},
		{"two balances past MaxSum", nil, "SAT", []Account{{"a", MaxSum}, {"b", 1}}, nil, ErrOverflow},
		{"halves past MaxSum", nil, "SAT", []Account{{"a", 1 << 62}, {"b", 1 << 62}}, nil, ErrOverflow},
		{"canceled", canceled, "SAT", big, nil, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, err := Build(ctx, tc.asset, seedOf(1), tc.accts, tc.opts...)
			if !errors.Is(err, tc.target) {
				t.Fatalf("Build error = %v, want %v", err, tc.target)
			}
		})
	}
	// Exactly MaxSum is allowed.
	tr := mustBuild(t, "SAT", seedOf(1), []Account{{"a", MaxSum - 1}, {"b", 1}})
	if tr.Root().Sum != MaxSum {
		t.Fatalf("root sum = %d, want MaxSum", tr.Root().Sum)
	}
}

func TestDuplicateAmongMany(t *testing.T) {
	accts := mkAccounts(50000, func(int) uint64 { return 1 })
	accts[49999].ID = accts[123].ID
	_, err := Build(context.Background(), "SAT", seedOf(1), accts)
	if !errors.Is(err, ErrDuplicateAccount) || err.Error() != "accounts 123 and 49999 have the same id" {
		t.Fatalf("Build error = %v", err)
	}
}
