package verify

import (
	"github.com/kosh-reserve/kosh/proofs/attest"
)

// Chain checks that list, oldest first, is an unbroken hash chain of
// one issuer: each attestation names its predecessor's hash as prev, the
// sequence numbers rise by one, block heights and times never decrease and
// the issuer key never changes. The chain must start at anchor (the hex hash
// of list[0]) when anchor is not empty, and at the first attestation (seq 1,
// no prev) otherwise. It does not verify each attestation's content; call
// Attestation on each as well. It returns nil or a Problems.
func Chain(list []*attest.Attestation, anchor string) error {
	var p attest.Problems
	if len(list) == 0 {
		return attest.Problems{fail(attest.ErrChain, "the chain holds no attestation")}
	}
	first := list[0]
	if anchor != "" {
		id, err := first.ID()
		if err != nil {
			return attest.Problems{wrap(attest.ErrMalformed, err, "the hash of attestation %d cannot be computed (%v)", first.Seq, err)}
		}
		if id != anchor {
			p = append(p, fail(attest.ErrChain, "the chain starts at attestation %d with hash %s, not at the given first attestation %s", first.Seq, id, anchor))
		}
	} else if first.Prev != "" || first.Seq != 1 {
		p = append(p, fail(attest.ErrChain, "the chain starts at attestation %d, which names predecessor %s, and no first attestation was given to stop at", first.Seq, first.Prev))
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
	}
	return p.Err()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
