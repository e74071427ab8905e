package sumtree

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// Limits and defaults of the version 2 tree (docs/proofs.md 3.15).
const (
	// MaxShares is the largest number of shares a balance is split into.
	// The share count is 1, 2 or 4.
	MaxShares = 4
	// DefaultShares is the share count Build2 uses unless told otherwise.
	DefaultShares = 2
	// DefaultWindow is the window exponent Build2 uses unless told
	// otherwise: an account's shares lie within one aligned block of
	// 2^DefaultWindow positions (1,024), so a share set's proof stays
	// short, while the block mixes the shares of 512 accounts (at two
	// shares each).
	DefaultWindow = 10
)

// ValidShares reports whether k is a share count the format allows.
func ValidShares(k int) bool { return k == 1 || k == 2 || k == 4 }

// Holding is one account's liability in a version 2 tree.
type Holding struct {
	// ID identifies the account in the ledger; it appears only inside a
	// salted commitment.
	ID string
	// Balance is in base units, at most MaxSum.
	Balance uint64
	// Seq is the journal sequence of the last entry applied to the account
	// at the attestation's cut-off (at most MaxSum).
	Seq uint64
}

// ShareRoot is what an attestation publishes about a version 2 tree.
type ShareRoot struct {
	// Root holds the root hash, the total, the height and the number of
	// accounts (Count); the tree has Count·Shares leaves.
	Root
	// Shares is the number of shares every balance is split into.
	Shares int
	// Window is the window exponent w: the shares of one account lie in
	// one aligned block of 2^w positions.
	Window int
	// TreeID is the tree's public id, TaggedHash("kosh/tree", head).
	TreeID [32]byte
}

// Leaves returns the number of leaves, Count·Shares, and false when that
// does not fit the tree's height.
func (r ShareRoot) Leaves() (uint64, bool) {
	hi, lo := bits.Mul64(r.Count, uint64(r.Shares))
	if hi != 0 || r.Height < 0 || r.Height > MaxHeight || lo > 1<<r.Height {
		return 0, false
	}
	return lo, true
}

// ShareOption changes how Build2 builds a tree.
type ShareOption func(*shareOptions)

type shareOptions struct {
	height, shares, window, workers int
}

// WithShareHeight fixes the height instead of the smallest that holds every
// share.
func WithShareHeight(h int) ShareOption { return func(o *shareOptions) { o.height = h } }

// WithShares sets the share count (1, 2 or 4).
func WithShares(k int) ShareOption { return func(o *shareOptions) { o.shares = k } }

// WithWindow sets the window exponent (0 to MaxHeight); it is capped at the
// tree height.
func WithWindow(w int) ShareOption { return func(o *shareOptions) { o.window = w } }

// WithShareWorkers sets how many goroutines hash in parallel.
func WithShareWorkers(n int) ShareOption { return func(o *shareOptions) { o.workers = n } }

// ShareTree is a built version 2 liability tree: every balance split into
// shares at shuffled positions within one window. It holds the secret seed
// and stays on the issuer's side. Only the nodes at and above the window
// level are kept; a proof rebuilds its window. It is safe for concurrent
// use once built.
type ShareTree struct {
	assetCode string
	seed      [32]byte
	head      []byte
	treeID    [32]byte
	holdings  []Holding // retained, not copied
	k, w      int
	height    int
	leaves    uint64
	perWindow int      // accounts per window, 2^w / k
	order     []uint32 // order[r]: the holding at rank r
	rank      []uint32 // inverse of order
	// levels[l-w] holds the nodes of level l ≥ w that cover a share.
	levels [][]node
	root   node

	idxOnce sync.Once
	byID    map[string]uint32
}

// Build2 builds the version 2 liability tree of one asset for one
// attestation (docs/proofs.md 3.15): each balance is split into k shares
// derived from the account's salt; the accounts are shuffled and dealt
// into windows of 2^w positions, 2^w/k accounts each, and each window's
// shares are shuffled within it. It rejects what Build rejects, a share
// count other than 1, 2 or 4 and sequences above MaxSum. Build2 keeps a
// reference to holdings; the caller must not modify it.
func Build2(ctx context.Context, assetCode string, seed [32]byte, holdings []Holding, opts ...ShareOption) (*ShareTree, error) {
	o := shareOptions{height: -1, shares: DefaultShares, window: DefaultWindow, workers: runtime.GOMAXPROCS(0)}
	for _, f := range opts {
		f(&o)
	}
	o.workers = max(o.workers, 1)
	if assetCode == "" || len(assetCode) > MaxAssetCodeLen {
		return nil, fail(ErrInvalidInput, "asset code must be 1 to %d bytes long", MaxAssetCodeLen)
	}
	if !ValidShares(o.shares) {
		return nil, fail(ErrInvalidInput, "share count %d is not 1, 2 or 4", o.shares)
	}
	if o.window < 0 || o.window > MaxHeight {
		return nil, fail(ErrInvalidInput, "window %d is outside 0 to %d", o.window, MaxHeight)
	}
	n := uint64(len(holdings))
	if n > 1<<MaxHeight {
		return nil, fail(ErrInvalidInput, "%d accounts do not fit a tree of height %d", n, MaxHeight)
	}
	leaves := n * uint64(o.shares)
	height := o.height
	if height < 0 {
		height = bits.Len64(max(leaves, 1) - 1)
	}
	if height > MaxHeight {
		return nil, fail(ErrInvalidInput, "tree height %d exceeds the maximum of %d", height, MaxHeight)
	}
	if leaves > 1<<height {
		return nil, fail(ErrInvalidInput, "%d accounts of %d shares do not fit a tree of height %d", n, o.shares, height)
	}
	var total uint64
	for i := range holdings {
		h := &holdings[i]
		switch {
		case h.ID == "" || len(h.ID) > MaxIDLen:
			return nil, fail(ErrInvalidInput, "account %d has an id that is not 1 to %d bytes long", i, MaxIDLen)
		case h.Balance > MaxSum:
			return nil, fail(ErrOverflow, "balance of account %d exceeds the maximum sum", i)
		case h.Seq > MaxSum:
			return nil, fail(ErrInvalidInput, "journal sequence of account %d exceeds the maximum", i)
		}
		total += h.Balance
		if total > MaxSum {
			return nil, fail(ErrOverflow, "total of the balances up to account %d exceeds the maximum sum", i)
		}
	}
	w := min(o.window, height)
	t := &ShareTree{
		assetCode: assetCode,
		seed:      seed,
		head:      treeHead(&seed, assetCode),
		holdings:  holdings,
		k:         o.shares,
		w:         w,
		height:    height,
		leaves:    leaves,
	}
	t.treeID = TreeID(seed, assetCode)
	if n == 0 {
		t.root = node{hash: padHash(t.head, height, 0)}
		return t, nil
	}
	if 1<<w < o.shares {
		// A window too small for one account's shares (w below log2(k);
		// the height is at least log2(k) when there are accounts).
		return nil, fail(ErrInvalidInput, "a window of %d positions cannot hold an account's %d shares", 1<<w, o.shares)
	}
	t.perWindow = (1 << w) / o.shares
	// t.rank is the shuffle's scratch until the inverse fills it (after
	// the windows, which the shuffle finishes before).
	t.rank = make([]uint32, n)
	t.order = make([]uint32, n)
	// The shuffle runs beside the hashing: it fixes the ranks from the top
	// down, and the windows are hashed from the last one down, each once
	// its ranks are final.
	var final atomic.Int64
	final.Store(int64(n))
	go shuffleInto(shuffleKey(t.head), t.order, t.rank, &final)
	windows := (int(n) + t.perWindow - 1) / t.perWindow
	roots := make([]node, windows)
	// keys[r] holds the first 8 bytes of the commitment of the holding at
	// rank r, for the duplicate check, which does not care about order.
	keys := make([]uint64, n)
	var overflow atomic.Bool
	err := parallelWindows(ctx, windows, o.workers, func(v *windowView, g int) {
		g = windows - 1 - g
		for final.Load() > int64(g*t.perWindow) {
			runtime.Gosched()
		}
		if err := v.build(t, g, keys); err != nil {
			overflow.Store(true)
			return
		}
		roots[g] = v.root()
	})
	for final.Load() > 0 {
		// Stopped early (ctx): wait for the shuffle, which writes t.order.
		runtime.Gosched()
	}
	if err != nil {
		return nil, fmt.Errorf("hash windows: %w", err)
	}
	if overflow.Load() {
		return nil, fail(ErrOverflow, "a node sum inside a window exceeds the maximum sum")
	}
	// The inverse of the shuffle (random stores) runs beside the serial
	// duplicate check.
	ranked := make(chan struct{})
	go func() {
		for r, i := range t.order {
			t.rank[i] = uint32(r)
		}
		close(ranked)
	}()
	dup := hasEqualKeysParallel(keys, o.workers)
	<-ranked
	if dup {
		if err := t.checkDuplicates(); err != nil {
			return nil, err
		}
	}
	// Levels w … height, from the window roots.
	t.levels = make([][]node, height-w+1)
	t.levels[0] = roots
	x := newHasher()
	for l := w; l < height; l++ {
		cur := t.levels[l-w]
		next := make([]node, (len(cur)+1)/2)
		if err := parents(x, t.head, l, 0, cur, next); err != nil {
			return nil, err
		}
		t.levels[l-w+1] = next
	}
	t.root = t.levels[height-w][0]
	return t, nil
}

func (t *ShareTree) checkDuplicates() error {
	seen := make(map[string]int, len(t.holdings))
	for i := range t.holdings {
		if j, ok := seen[t.holdings[i].ID]; ok {
			return fail(ErrDuplicateAccount, "accounts %d and %d have the same id", j, i)
		}
		seen[t.holdings[i].ID] = i
	}
	return nil
}

// Root returns what the attestation publishes.
func (t *ShareTree) Root() ShareRoot {
	return ShareRoot{
		Root:   Root{Hash: t.root.hash, Sum: t.root.sum, Height: t.height, Count: uint64(len(t.holdings))},
		Shares: t.k, Window: t.w, TreeID: t.treeID,
	}
}

// AssetCode returns the asset the tree is for.
func (t *ShareTree) AssetCode() string { return t.assetCode }

// Holding returns the holding the tree holds for an account, and whether
// the account is in the tree. The first call builds an index of ids.
func (t *ShareTree) Holding(accountID string) (Holding, bool) {
	i, ok := t.indexOf(accountID)
	if !ok {
		return Holding{}, false
	}
	return t.holdings[i], true
}

func (t *ShareTree) indexOf(accountID string) (uint32, bool) {
	t.idxOnce.Do(func() {
		t.byID = make(map[string]uint32, len(t.holdings))
		for i := range t.holdings {
			t.byID[t.holdings[i].ID] = uint32(i)
		}
	})
	i, ok := t.byID[accountID]
	return i, ok
}

// windowView is one window rebuilt in full: its accounts' salts,
// commitments and shares, the share shuffle and every level up to the
// window's root. One per goroutine; its buffers are reused.
type windowView struct {
	x       *hasher
	g       int    // window index
	base    uint64 // first position
	m       int    // accounts in the window
	salts   []Salt // by rank within the window
	commit  [][32]byte
	shares  []uint64 // m·k, by rank then share
	perm    []uint32 // perm[q]: slot at position base+q (slot = rank·k + share)
	inv     []uint32 // inv[slot]: q
	scratch []uint32
	// proof and known are proofIn's reused output and scratch.
	proof ShareProof
	known []uint64
	lv    [][]node // lv[l]: the window's nodes at level l (0 … w)
	k, w  int
	head  []byte
	// touched keeps the loads of the ids' first bytes from being optimized
	// away.
	touched byte
}

func newWindowView() *windowView { return &windowView{x: newHasher()} }

// build rebuilds window g of t. keys, when not nil, receives the first 8
// bytes of each holding's commitment at the holding's rank (for the
// duplicate check). It fails only when a sum exceeds MaxSum.
func (v *windowView) build(t *ShareTree, g int, keys []uint64) error {
	k, w := t.k, t.w
	v.g, v.k, v.w, v.head = g, k, w, t.head
	v.base = uint64(g) << w
	first := g * t.perWindow
	v.m = min(t.perWindow, len(t.holdings)-first)
	slots := v.m * k
	v.salts = grow(v.salts, v.m)
	v.commit = grow(v.commit, v.m)
	v.shares = grow(v.shares, slots)
	// The window's holdings, and their ids, lie at random places in
	// memory: load them first, as independent loads the CPU overlaps,
	// instead of one cache miss per holding between hashes.
	order := t.order[first : first+v.m]
	for _, i := range order {
		v.touched += t.holdings[i].ID[0]
	}
	// Two accounts at a time: their hashes run together (hasher.finish2).
	r := 0
	for ; r+1 < v.m; r += 2 {
		h1, h2 := &t.holdings[order[r]], &t.holdings[order[r+1]]
		v.salts[r], v.salts[r+1] = v.x.salts(t.head, h1.ID, h2.ID)
		v.commit[r], v.commit[r+1] = v.x.commitments2(&t.treeID, t.assetCode,
			&v.salts[r], h1.Seq, h1.ID, &v.salts[r+1], h2.Seq, h2.ID)
		v.x.splits(&v.salts[r], h1.Balance, v.shares[r*k:r*k+k],
			&v.salts[r+1], h2.Balance, v.shares[r*k+k:r*k+2*k])
	}
	if r < v.m {
		h := &t.holdings[order[r]]
		v.salts[r] = v.x.salt(t.head, h.ID)
		v.commit[r] = v.x.commitment2(&t.treeID, &v.salts[r], t.assetCode, h.Seq, h.ID)
		v.x.split(&v.salts[r], h.Balance, v.shares[r*k:r*k+k])
	}
	if keys != nil {
		for r := range v.m {
			keys[first+r] = binary.BigEndian.Uint64(v.commit[r][:8])
		}
	}
	v.perm = grow(v.perm, slots)
	v.scratch = grow(v.scratch, slots)
	shuffleInto(windowKey(t.head, uint64(g)), v.perm, v.scratch, nil)
	v.inv = grow(v.inv, slots)
	for q, s := range v.perm {
		v.inv[s] = uint32(q)
	}
	if len(v.lv) < w+1 {
		v.lv = make([][]node, w+1)
	}
	leaves := grow(v.lv[0], slots)
	q := 0
	for ; q+1 < slots; q += 2 {
		s1, s2 := v.perm[q], v.perm[q+1]
		h1, h2 := v.x.leaves2(&v.commit[int(s1)/k], int(s1)%k, v.shares[s1],
			&v.commit[int(s2)/k], int(s2)%k, v.shares[s2], k)
		leaves[q] = node{hash: h1, sum: v.shares[s1]}
		leaves[q+1] = node{hash: h2, sum: v.shares[s2]}
	}
	if q < slots {
		s := v.perm[q]
		leaves[q] = node{hash: v.x.leaf2(&v.commit[int(s)/k], k, int(s)%k, v.shares[s]), sum: v.shares[s]}
	}
	v.lv[0] = leaves
	for l := 0; l < w; l++ {
		cur := v.lv[l]
		next := grow(v.lv[l+1], (len(cur)+1)/2)
		if err := parents(v.x, v.head, l, v.base>>l, cur, next); err != nil {
			return err
		}
		v.lv[l+1] = next
	}
	return nil
}

// parents fills next with the parents of the nodes cur at level l, whose
// first node has index first in its level: two parents at a time, and an
// odd node last paired with its pad. It fails when a sum exceeds MaxSum.
func parents(x *hasher, head []byte, l int, first uint64, cur, next []node) error {
	full := len(cur) / 2 // parents with two real children
	j := 0
	for ; j+1 < full; j += 2 {
		a, b, c, d := &cur[2*j], &cur[2*j+1], &cur[2*j+2], &cur[2*j+3]
		s1, s2 := a.sum+b.sum, c.sum+d.sum
		if s1 > MaxSum || s2 > MaxSum {
			return fail(ErrOverflow, "a node sum at level %d exceeds the maximum sum", l+1)
		}
		h1, h2 := x.nodes(a, b, c, d)
		next[j], next[j+1] = node{hash: h1, sum: s1}, node{hash: h2, sum: s2}
	}
	for ; j < len(next); j++ {
		left := &cur[2*j]
		var right node
		if 2*j+1 < len(cur) {
			right = cur[2*j+1]
		} else {
			right = node{hash: padHash(head, l, first+uint64(len(cur)))}
		}
		s := left.sum + right.sum
		if s > MaxSum {
			return fail(ErrOverflow, "a node sum at level %d exceeds the maximum sum", l+1)
		}
		next[j] = node{hash: x.node(&left.hash, left.sum, &right.hash, right.sum), sum: s}
	}
	return nil
}

// root returns the window's node at level w.
func (v *windowView) root() node { return v.lv[v.w][0] }

// grow returns s resized to n, reallocating only when it is too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// parallelWindows runs fn for every window in [0, n) on up to workers
// goroutines, each with its own view, and stops early when ctx is done.
func parallelWindows(ctx context.Context, n, workers int, fn func(v *windowView, g int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := newWindowView()
			for ctx.Err() == nil {
				g := int(next.Add(1)) - 1
				if g >= n {
					return
				}
				fn(v, g)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// Windows returns the number of windows the accounts are dealt into: the
// range of EachProofIn.
func (t *ShareTree) Windows() int {
	if len(t.holdings) == 0 {
		return 0
	}
	return (len(t.holdings) + t.perWindow - 1) / t.perWindow
}

// EachProofIn is EachProof for the accounts of windows [lo, hi) only, so
// that goroutines given disjoint ranges produce every proof on every core.
// It stops at the first error fn returns.
func (t *ShareTree) EachProofIn(lo, hi int, fn func(p *ShareProof, salt Salt, holding int) error) error {
	if lo < 0 || hi > t.Windows() || lo > hi {
		return fail(ErrInvalidInput, "window range %d to %d is outside 0 to %d", lo, hi, t.Windows())
	}
	v := newWindowView()
	for g := lo; g < hi; g++ {
		if err := v.build(t, g, nil); err != nil {
			return err
		}
		for r := 0; r < v.m; r++ {
			if err := fn(t.proofIn(v, r), v.salts[r], int(t.order[g*t.perWindow+r])); err != nil {
				return err
			}
		}
	}
	return nil
}
