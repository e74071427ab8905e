package sumtree

import "math/bits"

// ProofVersion is the version of the inclusion proof format.
const ProofVersion = 1

// Sibling is the node next to the path from a leaf to the root: its hash and
// its sum.
type Sibling struct {
	// Hash is the sibling node's hash.
	Hash [32]byte
	// Sum is the sibling node's sum; never above MaxSum in a valid proof.
	Sum uint64
}

// Proof is an inclusion proof: the leaf's position and the siblings on its
// path, from the leaf level (Siblings[0]) up to the child of the root.
// len(Siblings) is the tree height.
type Proof struct {
	// LeafIndex is the leaf's position; bit l tells whether the path node at
	// level l is a right child (1) or a left child (0).
	LeafIndex uint32
	// Siblings holds one sibling per level, leaf level first.
	Siblings []Sibling
}

// Height returns the height of the tree the proof claims, len(Siblings).
func (p *Proof) Height() int { return len(p.Siblings) }

// Proof returns the inclusion proof and the salt of the account with the
// given id. The first call builds an index of ids (a map over all accounts).
func (t *Tree) Proof(accountID string) (*Proof, Salt, error) {
	i, ok := t.indexOf(accountID)
	if !ok {
		return nil, Salt{}, fail(ErrUnknownAccount, "the account is not in the tree")
	}
	return t.ProofAt(int(i))
}

// Balance returns the balance the tree holds for an account, and whether
// the account is in the tree.
func (t *Tree) Balance(accountID string) (uint64, bool) {
	i, ok := t.indexOf(accountID)
	if !ok {
		return 0, false
	}
	return t.accounts[i].Balance, true
}

// indexOf finds an account; the first call builds the index of ids.
func (t *Tree) indexOf(accountID string) (uint32, bool) {
	t.idxOnce.Do(func() {
		t.byID = make(map[string]uint32, len(t.accounts))
		for i := range t.accounts {
			t.byID[t.accounts[i].ID] = uint32(i)
		}
	})
	i, ok := t.byID[accountID]
	return i, ok
}

// ProofAt returns the inclusion proof and salt of accounts[i], where
// accounts is the slice given to Build.
func (t *Tree) ProofAt(i int) (*Proof, Salt, error) {
	p, salt, err := t.NewProofWriter().ProofAt(i)
	if err != nil {
		return nil, Salt{}, err
	}
	return p, salt, nil
}

// ProofWriter generates the proofs of one tree into one reused Proof, so
// that generating every proof of a large tree does not allocate. It keeps
// the siblings of its previous proof and re-reads only the levels where the
// new proof's path differs: in position order, two levels per proof on
// average instead of the tree height. Use one per goroutine.
type ProofWriter struct {
	t *Tree
	x *hasher
	p Proof
	// sib caches the siblings of position last (-1: none yet); the
	// returned proof gets a copy, so a caller changing it does no harm.
	sib  []Sibling
	last int64
	// touched keeps EachProof's reads of id bytes from being optimized
	// away.
	touched byte
}

// NewProofWriter returns a ProofWriter for t.
func (t *Tree) NewProofWriter() *ProofWriter {
	h := t.Height()
	return &ProofWriter{t: t, x: newHasher(), p: Proof{Siblings: make([]Sibling, h)}, sib: make([]Sibling, h), last: -1}
}

// ProofAt returns the proof and salt of accounts[i]. The proof is
// overwritten by the next call; copy or encode it before then.
func (w *ProofWriter) ProofAt(i int) (*Proof, Salt, error) {
	if i < 0 || i >= len(w.t.accounts) {
		return nil, Salt{}, fail(ErrUnknownAccount, "account index %d is outside the tree", i)
	}
	return &w.p, w.fill(i, uint64(w.t.pos[i])), nil
}

// ProofAtPosition returns the proof and salt of the account at leaf
// position p (0 <= p < Count), and that account's index in the slice given
// to Build. The proof is overwritten by the next call. Generating every
// proof in position order reads each tree level front to back, which for
// millions of accounts is much faster than account order, whose positions
// are shuffled.
func (w *ProofWriter) ProofAtPosition(p int) (*Proof, Salt, int, error) {
	t := w.t
	if p < 0 || p >= len(t.order) {
		return nil, Salt{}, 0, fail(ErrUnknownAccount, "leaf position %d is outside the tree", p)
	}
	i := int(t.order[p])
	return &w.p, w.fill(i, uint64(p)), i, nil
}

// fill writes the proof of accounts[i], at position pos, into w.p and
// returns the account's salt.
func (w *ProofWriter) fill(i int, pos uint64) Salt {
	w.fillPath(pos)
	return w.x.salt(w.t.head, w.t.accounts[i].ID)
}

// fillPath writes the leaf index and siblings of position pos into w.p,
// reading only the levels whose sibling differs from the previous proof's.
func (w *ProofWriter) fillPath(pos uint64) {
	t := w.t
	for l, level := range t.levels[:len(t.levels)-1] {
		sib := (pos >> l) ^ 1
		if w.last >= 0 && sib == (uint64(w.last)>>l)^1 {
			// Same sibling here, so the same above: the paths have joined.
			break
		}
		n := &t.pads[l]
		if sib < uint64(len(level)) {
			n = &level[sib]
		}
		w.sib[l] = Sibling{Hash: n.hash, Sum: n.sum}
	}
	w.last = int64(pos)
	w.p.LeafIndex = uint32(pos)
	w.p.Siblings = w.p.Siblings[:len(w.sib)]
	copy(w.p.Siblings, w.sib)
}

// EachProof calls fn with the proof, salt and account index (into the
// slice given to Build) of every leaf position in [lo, hi), in order,
// stopping at the first error fn returns. The proof is overwritten by the
// next call. It is the fast way to produce every proof of a tree: accounts
// sit at shuffled positions, so each proof's account id is a random memory
// read; EachProof reads the ids of the next 64 positions first, as
// independent loads the CPU overlaps, before hashing their salts.
func (w *ProofWriter) EachProof(lo, hi int, fn func(p *Proof, salt Salt, account int) error) error {
	t := w.t
	if lo < 0 || hi > len(t.order) || lo > hi {
		return fail(ErrUnknownAccount, "leaf positions %d to %d are outside the tree of %d accounts", lo, hi, len(t.order))
	}
	const ahead = 64
	var ids [ahead]string
	for base := lo; base < hi; base += ahead {
		n := min(ahead, hi-base)
		for k := range n {
			ids[k] = t.accounts[t.order[base+k]].ID
		}
		var touch byte
		for k := range n {
			touch ^= ids[k][0] // ids are never empty
		}
		w.touched ^= touch
		for k := range n {
			p := base + k
			w.fillPath(uint64(p))
			if err := fn(&w.p, w.x.salt(t.head, ids[k]), int(t.order[p])); err != nil {
				return err
			}
		}
	}
	return nil
}

// VerifyInclusion checks that the account with the given id, salt and
// balance is a leaf of the tree whose root the attestation published. It
// recomputes the path from the leaf to the root with checked sums and
// compares the result with root. The published account count binds too:
// the leaf index must be below it, and a sibling whose positions all lie at
// or past it must be padding, with sum 0. It returns nil or an *Error whose
// message is one sentence and which wraps ErrMalformedProof, ErrOverflow or
// ErrMismatch.
func VerifyInclusion(root Root, accountID string, salt Salt, balance uint64, proof *Proof) error {
	switch {
	case proof == nil:
		return fail(ErrMalformedProof, "the proof is missing")
	case root.Height < 0 || root.Height > MaxHeight:
		return fail(ErrMalformedProof, "attested tree height %d is outside 0 to %d", root.Height, MaxHeight)
	case root.Count > 1<<root.Height:
		return fail(ErrMalformedProof, "attested account count %d does not fit a tree of height %d", root.Count, root.Height)
	case root.Sum > MaxSum:
		return fail(ErrOverflow, "the attested total exceeds the maximum sum")
	case len(proof.Siblings) != root.Height:
		return fail(ErrMalformedProof, "proof has %d levels but the attested tree has height %d", len(proof.Siblings), root.Height)
	case uint64(proof.LeafIndex) >= root.Count:
		return fail(ErrMalformedProof, "leaf index %d is not below the attested account count %d", proof.LeafIndex, root.Count)
	case accountID == "" || len(accountID) > MaxIDLen:
		return fail(ErrMalformedProof, "account id must be 1 to %d bytes long", MaxIDLen)
	case balance > MaxSum:
		return fail(ErrOverflow, "the balance exceeds the maximum sum")
	}
	x := newHasher()
	c := x.commitment(&salt, accountID)
	h := x.leaf(&c, balance)
	sum := balance
	for l, sib := range proof.Siblings {
		if sib.Sum > MaxSum {
			return fail(ErrOverflow, "sibling sum at level %d exceeds the maximum sum", l)
		}
		// The sibling covers positions s·2^l … (s+1)·2^l − 1 with
		// s = (p >> l) XOR 1. If all of them are at or past the account
		// count, it is a pad, whose sum is 0; its hash needs the seed, so
		// only the sum can be checked.
		if lo := uint64((proof.LeafIndex>>l)^1) << l; lo >= root.Count && sib.Sum != 0 {
			return fail(ErrMismatch, "sibling at level %d lies past the attested account count %d, so it must be padding with sum 0, but its sum is %d", l, root.Count, sib.Sum)
		}
		next, carry := bits.Add64(sum, sib.Sum, 0)
		if carry != 0 || next > MaxSum {
			return fail(ErrOverflow, "sibling sum at level %d makes the total overflow", l)
		}
		if (proof.LeafIndex>>l)&1 == 0 {
			h = x.node(&h, sum, &sib.Hash, sib.Sum)
		} else {
			h = x.node(&sib.Hash, sib.Sum, &h, sum)
		}
		sum = next
	}
	if h != root.Hash {
		return fail(ErrMismatch, "root hash does not match the attested root")
	}
	if sum != root.Sum {
		return fail(ErrMismatch, "root total does not match the attested total")
	}
	return nil
}
