package verify

import (
	"github.com/kosh-reserve/kosh/proofs/attest"
)

// Chain checks that list, oldest first, is an unbroken hash chain of
// one issuer: each attestation names its predecessor's hash as prev, the
// sequence numbers rise by one, block heights and times never decrease and
// the issuer key never changes; once an attestation lists a bitcoin anchor
// every later one lists one (an anchor that a reorganisation took back
// may make it an earlier one), and an anchor of an attestation in list
// names its id. The chain must start at first (the hex hash of list[0])
// when first is not empty, and at the issuer's first attestation (seq 1,
// no prev) otherwise. It does not verify each attestation's content; call
// Attestation on each as well. It returns nil or a Problems.
func Chain(list []*attest.Attestation, first string) error {
	var p attest.Problems
	if len(list) == 0 {
		return attest.Problems{fail(attest.ErrChain, "the chain holds no attestation")}
	}
	head := list[0]
	if first != "" {
		id, err := head.ID()
		if err != nil {
			return attest.Problems{wrap(attest.ErrMalformed, err, "the hash of attestation %d cannot be computed (%v)", head.Seq, err)}
		}
		if id != first {
			p = append(p, fail(attest.ErrChain, "the chain starts at attestation %d with hash %s, not at the given first attestation %s", head.Seq, id, first))
		}
	} else if head.Prev != "" || head.Seq != 1 {
		p = append(p, fail(attest.ErrChain, "the chain starts at attestation %d, which names predecessor %s, and no first attestation was given to stop at", head.Seq, head.Prev))
	}
	for i := 1; i < len(list); i++ {
		prev, cur := list[i-1], list[i]
		id, err := prev.ID()
		if err != nil {
			return append(p, wrap(attest.ErrMalformed, err, "the hash of attestation %d cannot be computed (%v)", prev.Seq, err))
		}
		if cur.Prev != id {
			p = append(p, fail(attest.ErrChain, "attestation %d names predecessor %s but the attestation before it, number %d, has hash %s", cur.Seq, orNone(cur.Prev), prev.Seq, id))
		}
		if cur.Seq != prev.Seq+1 {
			p = append(p, fail(attest.ErrChain, "attestation %d follows attestation %d; sequence numbers must rise by one", cur.Seq, prev.Seq))
		}
		if cur.IssuerKey != prev.IssuerKey {
			p = append(p, fail(attest.ErrChain, "attestation %d is signed by issuer key %s but attestation %d by %s", cur.Seq, cur.IssuerKey, prev.Seq, prev.IssuerKey))
		}
		if cur.Block.Height < prev.Block.Height {
			p = append(p, fail(attest.ErrChain, "attestation %d is at block height %d, below the %d of attestation %d", cur.Seq, cur.Block.Height, prev.Block.Height, prev.Seq))
		}
		// TimeLayout strings of the same length order as times do.
		if cur.Time < prev.Time {
			p = append(p, fail(attest.ErrChain, "attestation %d is dated %s, before attestation %d dated %s", cur.Seq, cur.Time, prev.Seq, prev.Time))
		}
		if cur.JournalCutoff < prev.JournalCutoff {
			p = append(p, fail(attest.ErrChain, "attestation %d has journal cut-off %d, below the %d of attestation %d", cur.Seq, cur.JournalCutoff, prev.JournalCutoff, prev.Seq))
		}
		if prev.Anchor != nil && cur.Anchor == nil {
			p = append(p, fail(attest.ErrChain, "attestation %d lists no anchor, but attestation %d listed an anchor of attestation %d: an anchored chain never drops its anchor",
				cur.Seq, prev.Seq, prev.Anchor.Seq))
		}
	}
	// An anchor of an attestation the list holds must name its id: the
	// commitment arithmetic a verifier can check without a node.
	ids := map[int64]string{}
	for _, a := range list {
		if id, err := a.ID(); err == nil {
			ids[a.Seq] = id
		}
	}
	for _, a := range list {
		if r := a.Anchor; r != nil {
			if id, ok := ids[r.Seq]; ok && id != r.ID {
				p = append(p, fail(attest.ErrChain, "attestation %d lists an anchor of attestation %d with id %s, but attestation %d in this chain has id %s: this is not the anchored history",
					a.Seq, r.Seq, r.ID, r.Seq, id))
			}
		}
	}
	p = checkTreeIDs(list, p)
	return p.Err()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
