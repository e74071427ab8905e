package attestdb_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/attestdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestRoundTrip stores attestations and their balances and reads them back
// as attestor's types, on both engines: a missing one is both
// attestor.ErrNotStored and store.ErrNotFound, and a second attestation
// with a taken sequence is refused.
func TestRoundTrip(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			ctx := context.Background()
			s := attestdb.New(storetest.Open(t, backend))
			if _, err := s.LatestAttestation(ctx); !errors.Is(err, attestor.ErrNotStored) || !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("latest of none: %v", err)
			}
			id := func(c string) string { return strings.Repeat(c, 64) }
			p1 := attestor.Published{Seq: 1, ID: id("a"), Height: 100, BlockHash: id("0"), CreatedAt: 5, CutoffSeq: 7,
				Seed: []byte{1, 2}, Document: `{"seq":1}`}
			p2 := attestor.Published{Seq: 2, ID: id("b"), PrevID: p1.ID, Height: 101, BlockHash: id("1"), CreatedAt: 6,
				Stale: true, CutoffSeq: 9, Seed: []byte{3}, Document: `{"seq":2}`}
			bals := []attestor.AttestedBalance{{Asset: "KSH", AccountID: "y", Balance: 2}, {Asset: "KSH", AccountID: "x", Balance: 1},
				{Asset: "INR", AccountID: "x", Balance: 3}}
			for _, p := range []attestor.Published{p1, p2} {
				if err := s.InsertAttestation(ctx, p, bals, []attestor.AttestedPrice{
					{Currency: "INR", Coefficient: big.NewInt(p.Seq * 1_000_000_000_000_000), Scale: 2}}); err != nil {
					t.Fatal(err)
				}
			}
			for seq := int64(1); seq <= 2; seq++ {
				got, err := s.AttestedPrices(ctx, seq)
				if err != nil || len(got) != 1 || got[0].Currency != "INR" || got[0].Scale != 2 ||
					got[0].Coefficient.Cmp(big.NewInt(seq*1_000_000_000_000_000)) != 0 {
					t.Errorf("prices of %d: %+v, %v", seq, got, err)
				}
			}
			if err := s.InsertAttestedPrices(ctx, 2, []attestor.AttestedPrice{{Currency: "INR", Coefficient: big.NewInt(1)}}); err == nil {
				t.Error("a second INR price of attestation 2 was stored")
			}
			if err := s.InsertAttestation(ctx, attestor.Published{Seq: 2, ID: id("c")}, nil, nil); err == nil {
				t.Error("a second attestation 2 was stored")
			}
			if got, err := s.LatestAttestation(ctx); err != nil || got.Seq != 2 || !got.Stale || got.Document != p2.Document || got.PrevID != p1.ID {
				t.Errorf("latest: %+v, %v", got, err)
			}
			if got, err := s.AttestationByID(ctx, p1.ID); err != nil || got.Seq != 1 || string(got.Seed) != string(p1.Seed) {
				t.Errorf("by id: %+v, %v", got, err)
			}
			if _, err := s.AttestationByID(ctx, id("f")); !errors.Is(err, attestor.ErrNotStored) {
				t.Errorf("unknown id: %v", err)
			}
			list, err := s.Attestations(ctx, 0, 10)
			if err != nil || len(list) != 2 || list[0].Seq != 2 || list[0].Document != "" || list[0].Seed != nil {
				t.Errorf("list: %+v, %v", list, err)
			}
			if list, _ := s.Attestations(ctx, 2, 10); len(list) != 1 || list[0].Seq != 1 {
				t.Errorf("list before 2: %+v", list)
			}
			got, err := s.AttestedBalances(ctx, 1, "KSH")
			if err != nil || len(got) != 2 || got[0].AccountID != "x" || got[1].Balance != 2 || got[0].Asset != "KSH" {
				t.Errorf("balances: %+v, %v", got, err)
			}
			if err := s.Corrupt(); err != nil {
				t.Errorf("corrupt: %v", err)
			}
		})
	}
}
