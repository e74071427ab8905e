package web

import (
	"fmt"
	"math"
	"time"

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
		ID: id, Seq: a.Seq, Height: a.Block.Height, BlockHash: a.Block.Hash, Time: t,
		IssuerKey: a.IssuerKey, Stale: a.Stale,
		CountedSats: int64(a.Coverage.CountedReserves), BackingSats: int64(a.Coverage.Backing),
		CoverageBps: bps, Backed: a.Coverage.Backed, File: file,
	}
	h := HistoryPoint{Time: t, ReservesSats: s.CountedSats, LiabilitiesSats: s.BackingSats, CoverageBps: bps}
	return s, h, nil
}
