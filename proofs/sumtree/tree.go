package sumtree

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Limits of the format.
const (
	// MaxHeight is the largest tree height; a leaf index is a uint32.
	MaxHeight = 32
	// MaxIDLen is the longest account id, in bytes.
	MaxIDLen = 1024
	// MaxAssetCodeLen is the longest asset code, in bytes.
	MaxAssetCodeLen = 64
)

// HeightBuckets are the heights Build chooses from when no height is given:
// the smallest bucket whose 2^height leaves hold every account. Fixed
// buckets make every proof of a tree the same length, so a proof alone
// reveals only a range for the account count. (An attestation publishes
// the exact count, which a verifier needs; see docs/proofs.md.)
var HeightBuckets = [...]int{16, 20, 24, 28, 32}

// HeightFor returns the default height for count accounts.
func HeightFor(count uint64) (int, error) {
	for _, h := range HeightBuckets {
		if count <= 1<<h {
			return h, nil
		}
	}
	return 0, fail(ErrInvalidInput, "%d accounts do not fit a tree of height %d", count, MaxHeight)
}

// Account is one liability: an account id and its balance in base units.
type Account struct {
	// ID identifies the account in the ledger. It never appears in the
	// public tree, only inside a salted commitment.
	ID string
	// Balance is in base units and must not exceed MaxSum.
	Balance uint64
}

// Option changes how Build builds a tree.
type Option func(*options)

type options struct {
	height  int
	workers int
}

// WithHeight fixes the tree height (0..MaxHeight) instead of choosing it
// from HeightBuckets. Tests and test vectors use small heights.
func WithHeight(h int) Option { return func(o *options) { o.height = h } }

// WithWorkers sets how many goroutines hash in parallel; the default is
// GOMAXPROCS.
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// node is one tree node: its hash and the sum of the balances below it.
type node struct {
	hash [32]byte
	sum  uint64
}

// Tree is a built liability tree for one asset in one attestation. It holds
// the attestation's secret seed, so it must stay on the issuer's side. It is
// safe for concurrent use once built.
type Tree struct {
	assetCode string
	seed      [32]byte
	head      []byte    // seed || u32be(len(assetCode)) || assetCode
	accounts  []Account // retained, not copied: the caller must not modify it
	// order[p] is the index in accounts of the leaf at position p.
	order []uint32
	// levels[l] holds the nodes of level l (0 = leaves) that cover at least
	// one account; levels[height] holds the root.
	levels [][]node
	// pads[l] is the pad node right of the last real node of level l, when
	// that node is a left child; unused otherwise.
	pads []node
	root node

	pos     []uint32 // inverse of order: pos[i] is the position of accounts[i]
	idxOnce sync.Once
	byID    map[string]uint32 // account id -> index, built on first Proof(id)
}

// Build builds the liability tree of one asset for one attestation.
//
// The seed is the attestation's 32-byte secret: it derives every salt, the
// leaf order and the padding. Build rejects empty or over-long ids and asset
// codes, duplicate ids, balances above MaxSum and totals above MaxSum.
// Build keeps a reference to accounts (it does not copy 10M ids); the caller
// must not modify the slice while the tree is in use.
func Build(ctx context.Context, assetCode string, seed [32]byte, accounts []Account, opts ...Option) (*Tree, error) {
	o := options{height: -1, workers: runtime.GOMAXPROCS(0)}
	for _, f := range opts {
		f(&o)
	}
	if o.workers < 1 {
		o.workers = 1
	}
	if assetCode == "" || len(assetCode) > MaxAssetCodeLen {
		return nil, fail(ErrInvalidInput, "asset code must be 1 to %d bytes long", MaxAssetCodeLen)
	}
	n := uint64(len(accounts))
	height := o.height
	if height < 0 {
		h, err := HeightFor(n)
		if err != nil {
			return nil, err
		}
		height = h
	}
	if height > MaxHeight {
		return nil, fail(ErrInvalidInput, "tree height %d exceeds the maximum of %d", height, MaxHeight)
	}
	if n > 1<<height {
		return nil, fail(ErrInvalidInput, "%d accounts do not fit a tree of height %d", n, height)
	}
	var total uint64
	for i := range accounts {
		a := &accounts[i]
		if a.ID == "" || len(a.ID) > MaxIDLen {
			return nil, fail(ErrInvalidInput, "account %d has an id that is not 1 to %d bytes long", i, MaxIDLen)
		}
		if a.Balance > MaxSum {
			return nil, fail(ErrOverflow, "balance of account %d exceeds the maximum sum", i)
		}
		total += a.Balance // both terms <= 2^63-1: cannot wrap
		if total > MaxSum {
			return nil, fail(ErrOverflow, "total of the balances up to account %d exceeds the maximum sum", i)
		}
	}

	t := &Tree{
		assetCode: assetCode,
		seed:      seed,
		head:      treeHead(&seed, assetCode),
		accounts:  accounts,
		levels:    make([][]node, height+1),
		pads:      make([]node, height+1),
	}
	// The leaf order is a serial shuffle; it runs beside the leaf hashing,
	// which does not depend on it. t.pos is its scratch until the gather
	// below fills it.
	t.pos = make([]uint32, n)
	shuffled := make(chan struct{})
	go func() {
		t.order = shuffle(shuffleKey(t.head), len(accounts), t.pos)
		close(shuffled)
	}()

	// Leaf hashes, in parallel and in account order, so that the accounts
	// and their ids are read front to back, into byAccount; keys[i] holds
	// the first 8 bytes of account i's commitment, for the duplicate check.
	// byAccount is then gathered into position order, and its memory is
	// reused for the inner levels, which together hold at most n + height
	// nodes.
	byAccount := make([]node, n+uint64(height))
	keys := make([]uint64, n)
	err := parallel(ctx, int(n), o.workers, func(x *hasher, lo, hi int) {
		i := lo
		// Two accounts at a time: their hashes run together.
		for ; i+1 < hi; i += 2 {
			a, b := &accounts[i], &accounts[i+1]
			sa, sb := x.salts(t.head, a.ID, b.ID)
			ca, cb := x.commitments(&sa, a.ID, &sb, b.ID)
			keys[i], keys[i+1] = binary.BigEndian.Uint64(ca[:8]), binary.BigEndian.Uint64(cb[:8])
			la, lb := x.leaves(&ca, a.Balance, &cb, b.Balance)
			byAccount[i], byAccount[i+1] = node{hash: la, sum: a.Balance}, node{hash: lb, sum: b.Balance}
		}
		if i < hi {
			a := &accounts[i]
			salt := x.salt(t.head, a.ID)
			c := x.commitment(&salt, a.ID)
			keys[i] = binary.BigEndian.Uint64(c[:8])
			byAccount[i] = node{hash: x.leaf(&c, a.Balance), sum: a.Balance}
		}
	})
	<-shuffled
	if err != nil {
		return nil, fmt.Errorf("hash leaves: %w", err)
	}
	// Gather: independent loads, which the CPU overlaps, unlike scattered
	// stores, which would stall the hashing.
	leaves := make([]node, n)
	err = parallel(ctx, int(n), o.workers, func(_ *hasher, lo, hi int) {
		for p := lo; p < hi; p++ {
			i := t.order[p]
			leaves[p] = byAccount[i]
			t.pos[i] = uint32(p)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("order leaves: %w", err)
	}
	t.levels[0] = leaves

	// Duplicate ids have equal commitments; look for them while the inner
	// levels are hashed.
	dup := make(chan error, 1)
	go func() { dup <- t.checkDuplicates(keys) }()

	err = t.hashLevels(ctx, o.workers, byAccount)
	if derr := <-dup; derr != nil {
		return nil, derr
	}
	if err != nil {
		return nil, fmt.Errorf("hash inner levels: %w", err)
	}
	return t, nil
}

// hashLevels hashes levels 1..height from level 0, into consecutive slices
// of spare, which must hold len(level 0) + height nodes.
func (t *Tree) hashLevels(ctx context.Context, workers int, spare []node) error {
	height := len(t.levels) - 1
	for l := 0; l < height; l++ {
		cur := t.levels[l]
		if len(cur)%2 == 1 {
			t.pads[l] = node{hash: padHash(t.head, l, uint64(len(cur)))}
		}
		next := spare[: (len(cur)+1)/2 : (len(cur)+1)/2]
		spare = spare[len(next):]
		var overflow atomic.Bool
		err := parallel(ctx, len(next), workers, func(x *hasher, lo, hi int) {
			// Parents lo … hi-1 of the level: the last one, if cur is
			// odd, pairs with the pad parents computes (t.pads[l]).
			if parents(x, t.head, l, uint64(2*lo), cur[2*lo:min(2*hi, len(cur))], next[lo:hi]) != nil {
				overflow.Store(true)
			}
		})
		if err != nil {
			return err
		}
		if overflow.Load() {
			return fail(ErrOverflow, "a node sum at level %d exceeds the maximum sum", l+1)
		}
		t.levels[l+1] = next
	}
	if top := t.levels[height]; len(top) == 1 {
		t.root = top[0]
	} else {
		// No accounts: the whole tree is one empty subtree.
		t.root = node{hash: padHash(t.head, height, 0)}
	}
	return nil
}

// checkDuplicates reports an account id that occurs twice. keys are 64-bit
// commitment prefixes; equal ids give equal keys, and only when two keys
// are equal are the ids themselves compared.
func (t *Tree) checkDuplicates(keys []uint64) error {
	if !hasEqualKeys(keys) {
		return nil
	}
	seen := make(map[string]int, len(t.accounts))
	for i := range t.accounts {
		if j, ok := seen[t.accounts[i].ID]; ok {
			return fail(ErrDuplicateAccount, "accounts %d and %d have the same id", j, i)
		}
		seen[t.accounts[i].ID] = i
	}
	return nil
}

// hasEqualKeys reports whether two keys are equal. It reorders keys. It
// sorts them by their top 32 bits only (half the radix passes of a full
// sort):
// equal keys then sit in one run of equal top halves, and runs are short
// (for 10M random keys, about 12,000 pairs), so comparing every pair within
// a run is cheap.
func hasEqualKeys(keys []uint64) bool {
	radixSortTop32(keys)
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi]>>32 == keys[lo]>>32 {
			hi++
		}
		for i := lo; i < hi; i++ {
			for j := i + 1; j < hi; j++ {
				if keys[i] == keys[j] {
					return true
				}
			}
		}
		lo = hi
	}
	return false
}

// radixSortTop32 sorts keys in place by their top 32 bits: LSD radix sort,
// four passes of 8-bit digits. (Two passes of 16-bit digits scatter into
// 65,536 places at once, which misses the caches and is slower.)
func radixSortTop32(keys []uint64) {
	if len(keys) < 2 {
		return
	}
	tmp := make([]uint64, len(keys))
	src, dst := keys, tmp
	var count [1 << 8]int
	for shift := uint(32); shift < 64; shift += 8 {
		clear(count[:])
		for _, k := range src {
			count[uint8(k>>shift)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := uint8(k >> shift)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	// Four passes: the sorted keys are back in keys.
}

// shuffle returns the leaf order: order[p] is the account placed at
// position p. It is a Fisher–Yates shuffle of the identity driven by
// ChaCha8 (C2SP chacha8rand) keyed by key; see docs/proofs.md.
//
// The draws are made first, into scratch (n entries, or nil to allocate),
// and the swaps after: with the swap targets known in advance the CPU
// overlaps the cache misses of many swaps, which for millions of leaves is
// twice as fast as drawing and swapping in one loop.
func shuffle(key [32]byte, n int, scratch []uint32) []uint32 {
	if len(scratch) < n {
		scratch = make([]uint32, n)
	}
	order := make([]uint32, n)
	shuffleInto(key, order, scratch, nil)
	return order
}

// shuffleInto writes the shuffle of len(order) entries keyed by key into
// order, using scratch (at least as long) for the draws. If final is not
// nil it publishes the swaps' progress there: every rank at or above
// final.Load() is final (a swap at rank i touches no rank above i), and
// it ends at 0.
func shuffleInto(key [32]byte, order, scratch []uint32, final *atomic.Int64) {
	n := len(order)
	r := rand.NewChaCha8(key)
	for i := n - 1; i > 0; i-- {
		scratch[i] = uint32(uniform(r, uint64(i)+1))
	}
	for i := range order {
		order[i] = uint32(i)
	}
	for i := n - 1; i > 0; i-- {
		j := scratch[i]
		order[i], order[j] = order[j], order[i]
		if final != nil && i%4096 == 0 {
			final.Store(int64(i))
		}
	}
	if final != nil {
		final.Store(0)
	}
}

// hasEqualKeysParallel is hasEqualKeys on up to workers goroutines: it
// splits the keys by their top bits (equal keys share them) and checks the
// parts in parallel.
func hasEqualKeysParallel(keys []uint64, workers int) bool {
	return hasEqualKeysIn(keys, 63, workers)
}

func hasEqualKeysIn(keys []uint64, bit uint, parts int) bool {
	if parts < 2 || len(keys) < 1<<16 || bit < 40 {
		return hasEqualKeys(keys)
	}
	// Keys with the bit clear first, then those with it set.
	i, j := 0, len(keys)
	for i < j {
		if keys[i]>>bit&1 == 0 {
			i++
		} else {
			j--
			keys[i], keys[j] = keys[j], keys[i]
		}
	}
	var low bool
	done := make(chan struct{})
	go func() {
		low = hasEqualKeysIn(keys[:i], bit-1, parts/2)
		close(done)
	}()
	high := hasEqualKeysIn(keys[i:], bit-1, (parts+1)/2)
	<-done
	return low || high
}

// uniform returns a uniform integer in [0, bound) from r, by Lemire's
// multiply-and-reject method on 64-bit draws:
//
//	x = next(); (hi, lo) = x * bound (128-bit)
//	if lo < bound: t = (2^64 - bound) mod bound; while lo < t: redraw
//	return hi
func uniform(r *rand.ChaCha8, bound uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), bound)
	if lo < bound {
		t := -bound % bound
		for lo < t {
			hi, lo = bits.Mul64(r.Uint64(), bound)
		}
	}
	return hi
}

// parallel runs fn over [0, n) in chunks on up to workers goroutines, each
// with its own hasher, and stops early when ctx is done.
func parallel(ctx context.Context, n, workers int, fn func(x *hasher, lo, hi int)) error {
	const chunk = 1 << 14
	if n <= chunk || workers == 1 {
		x := newHasher()
		for lo := 0; lo < n; lo += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			fn(x, lo, min(lo+chunk, n))
		}
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := newHasher()
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				fn(x, lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// Root is what an attestation publishes about one asset's tree, and what an
// inclusion proof is verified against.
type Root struct {
	// Hash is the root node hash.
	Hash [32]byte
	// Sum is the total of all balances (the attested liabilities).
	Sum uint64
	// Height is the tree height; every proof has this many siblings.
	Height int
	// Count is the number of accounts (leaves at positions 0..Count-1).
	Count uint64
}

// Root returns the root hash, total, height and account count.
func (t *Tree) Root() Root {
	return Root{Hash: t.root.hash, Sum: t.root.sum, Height: t.Height(), Count: t.Count()}
}

// Height returns the tree height.
func (t *Tree) Height() int { return len(t.levels) - 1 }

// Count returns the number of accounts.
func (t *Tree) Count() uint64 { return uint64(len(t.accounts)) }

// AssetCode returns the asset the tree is for.
func (t *Tree) AssetCode() string { return t.assetCode }
