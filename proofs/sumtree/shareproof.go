package sumtree

import (
	"math/bits"
	"slices"
	"strconv"
)

// ShareProofVersion is the version of the share-set proof format, the proof
// of the version 2 tree.
const ShareProofVersion = 2

// SharePosition is one share of a balance: where its leaf sits and its
// amount.
type SharePosition struct {
	// Position is the leaf position.
	Position uint32
	// Amount is the share, in base units.
	Amount uint64
}

// ShareProof proves that one account's shares are leaves of a version 2
// tree. Shares[i] is share i (the order of the split); Siblings are the
// nodes the share paths need, in the canonical order of docs/proofs.md
// 3.15.7: level by level from the leaves, and within a level by position,
// one for every path node whose sibling is not itself on a path.
type ShareProof struct {
	// Height is the tree height.
	Height int
	// Shares holds each share's position and amount.
	Shares []SharePosition
	// Siblings are the nodes next to the paths, canonical order.
	Siblings []Sibling
}

// pathNode is a node on the paths of a share set during a fold.
type pathNode struct {
	index uint64
	n     node
}

// Proof returns the share-set proof, salt and holding of the account with
// the given id. It rebuilds the account's window.
func (t *ShareTree) Proof(accountID string) (*ShareProof, Salt, Holding, error) {
	i, ok := t.indexOf(accountID)
	if !ok {
		return nil, Salt{}, Holding{}, fail(ErrUnknownAccount, "the account is not in the tree")
	}
	return t.ProofAt(int(i))
}

// ProofAt returns the share-set proof, salt and holding of holdings[i],
// where holdings is the slice given to Build2, without indexing the ids.
func (t *ShareTree) ProofAt(i int) (*ShareProof, Salt, Holding, error) {
	if i < 0 || i >= len(t.holdings) {
		return nil, Salt{}, Holding{}, fail(ErrUnknownAccount, "holding index %d is outside the tree", i)
	}
	v := newWindowView()
	r := int(t.rank[i])
	if err := v.build(t, r/t.perWindow, nil); err != nil {
		return nil, Salt{}, Holding{}, err
	}
	return t.proofIn(v, r%t.perWindow), v.salts[r%t.perWindow], t.holdings[i], nil
}

// EachProof calls fn with the proof, salt and holding index of every
// account, window by window, rebuilding each window once: the fast way to
// produce every proof of a tree. The proof is overwritten by the next
// call. It stops at the first error fn returns.
func (t *ShareTree) EachProof(fn func(p *ShareProof, salt Salt, holding int) error) error {
	if len(t.holdings) == 0 {
		return nil
	}
	v := newWindowView()
	windows := (len(t.holdings) + t.perWindow - 1) / t.perWindow
	for g := 0; g < windows; g++ {
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

// proofIn makes the proof of the account at rank r within the window v,
// into the view's proof, which the next call overwrites: its slices are
// allocated once per view, at the longest a proof can be (k·height
// siblings).
func (t *ShareTree) proofIn(v *windowView, r int) *ShareProof {
	k := t.k
	p := &v.proof
	if cap(p.Siblings) < k*t.height || cap(p.Shares) < k {
		p.Shares = make([]SharePosition, k)
		p.Siblings = make([]Sibling, 0, k*t.height)
		v.known = make([]uint64, k)
	}
	p.Height, p.Shares, p.Siblings = t.height, p.Shares[:k], p.Siblings[:0]
	known := v.known[:k]
	for i := 0; i < k; i++ {
		pos := v.base + uint64(v.inv[r*k+i])
		p.Shares[i] = SharePosition{Position: uint32(pos), Amount: v.shares[r*k+i]}
		known[i] = pos
	}
	slices.Sort(known)
	for l := 0; l < t.height; l++ {
		next := known[:0]
		for j := 0; j < len(known); j++ {
			a := known[j]
			if a&1 == 0 && j+1 < len(known) && known[j+1] == a+1 {
				j++
			} else {
				n := t.nodeAt(v, l, a^1)
				p.Siblings = append(p.Siblings, Sibling{Hash: n.hash, Sum: n.sum})
			}
			next = append(next, a>>1)
		}
		known = next
	}
	return p
}

// nodeAt returns the node at (level, index): below the window level from
// the rebuilt window, above it from the kept levels, a pad past either.
func (t *ShareTree) nodeAt(v *windowView, l int, j uint64) node {
	var lv []node
	off := uint64(0)
	if l < t.w {
		lv, off = v.lv[l], v.base>>l
	} else {
		lv = t.levels[l-t.w]
	}
	if j-off < uint64(len(lv)) {
		return lv[j-off]
	}
	return node{hash: padHash(t.head, l, j)}
}

// VerifyShares checks that the account with the given id, last journal
// sequence, salt and balance is in the version 2 tree whose root the
// attestation published, under the asset code: that the proof's shares
// are the split the salt derives, lie at distinct positions below the leaf
// count within one window, and fold with the siblings (checked sums, the
// padding rule) into the attested root hash and total. It returns nil or
// an *Error of one sentence wrapping ErrMalformedProof, ErrOverflow or
// ErrMismatch.
func VerifyShares(root ShareRoot, assetCode, accountID string, seq uint64, salt Salt, balance uint64, proof *ShareProof) error {
	leaves, fits := root.Leaves()
	switch {
	case proof == nil:
		return fail(ErrMalformedProof, "the proof is missing")
	case root.Height < 0 || root.Height > MaxHeight:
		return fail(ErrMalformedProof, "attested tree height %d is outside 0 to %d", root.Height, MaxHeight)
	case !ValidShares(root.Shares):
		return fail(ErrMalformedProof, "attested share count %d is not 1, 2 or 4", root.Shares)
	case root.Window < 0 || root.Window > root.Height:
		return fail(ErrMalformedProof, "attested window %d is outside 0 to the tree height %d", root.Window, root.Height)
	case !fits:
		return fail(ErrMalformedProof, "attested account count %d of %d shares does not fit a tree of height %d", root.Count, root.Shares, root.Height)
	case root.Count > 0 && 1<<root.Window < root.Shares:
		return fail(ErrMalformedProof, "attested window %d cannot hold %d shares", root.Window, root.Shares)
	case root.Sum > MaxSum:
		return fail(ErrOverflow, "the attested total exceeds the maximum sum")
	case proof.Height != root.Height:
		return fail(ErrMalformedProof, "proof has height %d but the attested tree has height %d", proof.Height, root.Height)
	case len(proof.Shares) != root.Shares:
		return fail(ErrMalformedProof, "proof has %d shares but the attested tree splits every balance into %d", len(proof.Shares), root.Shares)
	case assetCode == "" || len(assetCode) > MaxAssetCodeLen:
		return fail(ErrMalformedProof, "asset code must be 1 to %d bytes long", MaxAssetCodeLen)
	case accountID == "" || len(accountID) > MaxIDLen:
		return fail(ErrMalformedProof, "account id must be 1 to %d bytes long", MaxIDLen)
	case balance > MaxSum:
		return fail(ErrOverflow, "the balance exceeds the maximum sum")
	case seq > MaxSum:
		return fail(ErrMalformedProof, "the journal sequence exceeds the maximum")
	}
	k := root.Shares
	want := make([]uint64, k)
	x := newHasher()
	x.split(&salt, balance, want)
	known := make([]pathNode, k)
	c := x.commitment2(&root.TreeID, &salt, assetCode, seq, accountID)
	window := uint64(proof.Shares[0].Position) >> root.Window
	for i, s := range proof.Shares {
		pos := uint64(s.Position)
		switch {
		case pos >= leaves:
			return fail(ErrMalformedProof, "share %d is at position %d, not below the attested %d leaves", i, pos, leaves)
		case pos>>root.Window != window:
			return fail(ErrMalformedProof, "share %d is at position %d, outside the window of share 0 (positions %d to %d)",
				i, pos, window<<root.Window, (window+1)<<root.Window-1)
		case s.Amount != want[i]:
			return fail(ErrMismatch, "share %d is %d, but the salt splits the balance %d into %s", i, s.Amount, balance, joinUints(want))
		}
		known[i] = pathNode{index: pos, n: node{hash: x.leaf2(&c, k, i, s.Amount), sum: s.Amount}}
	}
	slices.SortFunc(known, func(a, b pathNode) int { return compareUint64(a.index, b.index) })
	for i := 1; i < k; i++ {
		if known[i].index == known[i-1].index {
			return fail(ErrMalformedProof, "two shares are at position %d", known[i].index)
		}
	}
	used := 0
	for l := 0; l < root.Height; l++ {
		next := known[:0]
		for j := 0; j < len(known); j++ {
			a := known[j]
			var left, right node
			if a.index&1 == 0 && j+1 < len(known) && known[j+1].index == a.index+1 {
				left, right = a.n, known[j+1].n
				j++
			} else {
				if used == len(proof.Siblings) {
					return fail(ErrMalformedProof, "proof has %d siblings, fewer than its paths need", len(proof.Siblings))
				}
				sib := proof.Siblings[used]
				used++
				if sib.Sum > MaxSum {
					return fail(ErrOverflow, "sibling sum at level %d exceeds the maximum sum", l)
				}
				if lo := (a.index ^ 1) << l; lo >= leaves && sib.Sum != 0 {
					return fail(ErrMismatch, "sibling at level %d lies past the attested %d leaves, so it must be padding with sum 0, but its sum is %d", l, leaves, sib.Sum)
				}
				left, right = a.n, node{hash: sib.Hash, sum: sib.Sum}
				if a.index&1 == 1 {
					left, right = right, left
				}
			}
			s, carry := bits.Add64(left.sum, right.sum, 0)
			if carry != 0 || s > MaxSum {
				return fail(ErrOverflow, "a node sum at level %d overflows", l+1)
			}
			next = append(next, pathNode{index: a.index >> 1, n: node{hash: x.node(&left.hash, left.sum, &right.hash, right.sum), sum: s}})
		}
		known = next
	}
	switch {
	case used != len(proof.Siblings):
		return fail(ErrMalformedProof, "proof has %d siblings, more than the %d its paths need", len(proof.Siblings), used)
	case len(known) != 1:
		// Unreachable: positions below 2^height meet at the root.
		return fail(ErrMalformedProof, "the share paths do not meet at the root")
	case known[0].n.hash != root.Hash:
		return fail(ErrMismatch, "root hash does not match the attested root")
	case known[0].n.sum != root.Sum:
		return fail(ErrMismatch, "root total does not match the attested total")
	}
	return nil
}

func compareUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func joinUints(v []uint64) string {
	b := []byte{}
	for i, u := range v {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendUint(b, u, 10)
	}
	return string(b)
}
