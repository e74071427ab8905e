package web

import (
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/kosh-reserve/kosh/proofs/attest"
)

// Summarize parses a published attestation document (attest.Parse: it must
// be canonical) and returns what the page shows of it, and its history
// point. It does not verify signatures or sums; the daemon publishes only
// what it signed, and visitors verify with the in-browser check or
// koshverify. file is the static file name, if any.
func Summarize(doc []byte, file string) (Attestation, HistoryPoint, error) {
	a, err := attest.Parse(doc)
	if err != nil {
		return Attestation{}, HistoryPoint{}, err
	}
	id, err := a.ID()
	if err != nil {
		return Attestation{}, HistoryPoint{}, err
	}
	t, err := time.Parse(attest.TimeLayout, a.Time)
	if err != nil {
		return Attestation{}, HistoryPoint{}, fmt.Errorf("attestation time %q: %w", a.Time, err)
	}
	bps := int64(math.MaxInt64)
	if a.Coverage.Bps.IsInt64() {
		bps = a.Coverage.Bps.Int64()
	}
	s := Attestation{
		ID: id, Seq: a.Seq, Version: a.Version, Height: a.Block.Height, BlockHash: a.Block.Hash, Time: t,
		IssuerKey: a.IssuerKey, Stale: a.Stale,
		CountedSats: int64(a.Coverage.CountedReserves), BackingSats: int64(a.Coverage.Backing),
		CoverageBps: bps, Backed: a.Coverage.Backed, File: file,
	}
	if a.Version >= 2 {
		s.Evidence = summarizeEvidence(a)
	}
	for _, u := range a.Reserves.Onchain {
		s.Listed = append(s.Listed, ListedOutput{Outpoint: u.Outpoint, Sats: int64(u.Value), Source: u.Source})
	}
	if r := a.Anchor; r != nil {
		s.Anchor = &Anchor{Seq: r.Seq, ID: r.ID, Txid: r.Txid, Height: r.Height, BlockHash: r.BlockHash,
			Behind: a.Block.Height - r.Height}
		key, kerr := hex.DecodeString(a.IssuerKey)
		id, ierr := hex.DecodeString(r.ID)
		if kerr == nil && ierr == nil && len(key) == 32 && len(id) == 32 && r.Seq > 0 {
			c := anchor.Commit([32]byte(key), uint64(r.Seq), [32]byte(id))
			s.Anchor.Commitment = hex.EncodeToString(c[:])
		}
	}
	h := HistoryPoint{Time: t, ReservesSats: s.CountedSats, LiabilitiesSats: s.BackingSats, CoverageBps: bps}
	return s, h, nil
}

// maxListed bounds each list of outputs or channels the page spells out;
// the rest are counted ("and N more"). The in-browser check lists its own.
const maxListed = 20

// summarizeEvidence says, as the document states it, which outputs count
// and why the others do not (attest.UncountedReason) and which channels are
// announced or claimed. It is called on a parsed document only: a named
// proof index is checked before it is followed.
func summarizeEvidence(a *attest.Attestation) *Evidence {
	e := &Evidence{Listed: len(a.Reserves.Onchain), MinConfirmations: a.Counting.MinConfirmations,
		ClaimedCount: a.Counting.LightningClaimed != nil && a.Counting.LightningClaimed.Counts}
	if a.Counting.ProofMaxAge != nil {
		e.ProofMaxAge = *a.Counting.ProofMaxAge
	}
	for i := range a.Reserves.Onchain {
		u := &a.Reserves.Onchain[i]
		if u.Proof != nil && (*u.Proof < 0 || *u.Proof >= len(a.Reserves.Proofs)) {
			e.addUncounted(UncountedOutput{Outpoint: u.Outpoint, Sats: int64(u.Value), Reason: "it names a proof the document does not hold"})
			continue
		}
		if why := a.UncountedReason(u); why != "" {
			e.addUncounted(UncountedOutput{Outpoint: u.Outpoint, Sats: int64(u.Value), Reason: why})
			continue
		}
		e.Counted++
		e.CountedSats += int64(u.Value)
	}
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			if c.Evidence != attest.EvidenceClaimed {
				e.Announced++
				continue
			}
			e.ClaimedSats += int64(c.Counted)
			if len(e.Claimed) < maxListed {
				e.Claimed = append(e.Claimed, ClaimedChannel{ChannelPoint: c.ChannelPoint, Node: n.Name, Sats: int64(c.Counted)})
			} else {
				e.MoreClaimed++
			}
		}
	}
	return e
}

func (e *Evidence) addUncounted(u UncountedOutput) {
	if len(e.Uncounted) < maxListed {
		e.Uncounted = append(e.Uncounted, u)
	} else {
		e.MoreUncounted++
	}
}
