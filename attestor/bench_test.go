package attestor

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/provingdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// The compose benchmark's workload: benchOutputs reserve outputs (a third
// each of P2WPKH, P2TR and P2WSH 2-of-3) of benchValue sats, proven by
// proofs of benchProofSize inputs each, and one sat-pegged asset held by
// benchAccounts accounts.
const (
	benchOutputs   = 10_000
	benchProofSize = 2_500
	benchValue     = 20_000
	benchAccounts  = 1_000
	benchHeight    = 1_000
)

// BenchmarkCompose measures composing one attestation from the same
// frozen inputs (10,000 on-chain outputs) with a proving.Book holding a
// proof of control over every output, against the baseline measured in
// the same run: composing with no proofs (Inputs.Proofs nil, so nothing
// counts). Compose runs the full Verify on its own document, every proof's
// scripts through btcd's interpreter included. It reports each time per
// compose and their ratio; ns/op is the compose with proofs.
//
//	go test -run '^$' -bench Compose -benchtime 3x ./attestor/
func BenchmarkCompose(b *testing.B) {
	ctx := context.Background()
	// The store's migrations and the book log through the default logger;
	// their lines would split the benchmark's result line.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	issuer := ct.Key("attestor bench: issuer")
	outs := ct.Mixed("attestor bench", benchOutputs, benchValue)

	db := storetest.Open(b, store.SQLite)
	book, err := proving.New(ctx, proving.Config{DB: provingdb.New(db), IssuerKey: attest.IssuerKeyOf(issuer)})
	if err != nil {
		b.Fatal(err)
	}
	ch := control.Challenge{IssuerKey: attest.IssuerKeyOf(issuer), Height: benchHeight - 5, Hash: strings.Repeat("0e", 32)}
	for i := 0; i < len(outs); i += benchProofSize {
		p, err := ct.Prove(ch, outs[i:min(i+benchProofSize, len(outs))]...)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := book.Add(ctx, p, "bench"); err != nil {
			b.Fatal(err)
		}
	}

	snap := chain.Snapshot{Height: benchHeight, Hash: strings.Repeat("ab", 32), MinConf: 6}
	for _, o := range outs {
		snap.UTXOs = append(snap.UTXOs, chain.UTXO{OutPoint: o.OutPoint, Value: o.Value, PkScript: o.Script,
			Descriptor: o.Descriptor(), Height: benchHeight - 10})
	}
	asset := ledger.FrozenAsset{Asset: ledger.Asset{Code: "KSH", Peg: ledger.PegSat, MinCoverageBps: 10000}}
	for i := range benchAccounts {
		id := fmt.Sprintf("acct-%06d", i)
		asset.Balances = append(asset.Balances, ledger.FrozenBalance{AccountID: id, Balance: 1_000})
		asset.Total += 1_000
	}
	asset.Asset.Supply = asset.Total
	var seed [32]byte
	tree, err := buildTree(ctx, "KSH", seed, asset.Balances, TreeShape{})
	if err != nil {
		b.Fatal(err)
	}
	in := Inputs{Seq: 1, Time: time.Unix(1_800_000_000, 0), Chain: snap, MinConf: 6, Proofs: book,
		Reserves: reserve.Snapshot{Sources: []reserve.SourceStatus{{Name: "chain"}}},
		Ledger:   ledger.Frozen{CutoffSeq: benchAccounts, Assets: []ledger.FrozenAsset{asset}}, Trees: []*sumtree.ShareTree{tree}, Seed: seed}
	bare := in
	bare.Proofs = nil
	composer := DocComposer{}

	// Both documents list every output; only the one with proofs counts
	// them.
	for _, c := range []struct {
		in       Inputs
		proofs   int
		eligible int64
	}{{in, benchOutputs / benchProofSize, benchOutputs * benchValue}, {bare, 0, 0}} {
		s, err := composer.Compose(ctx, c.in, issuer, nil)
		if err != nil {
			b.Fatal(err)
		}
		d, err := verify.Document([]byte(s.Document))
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Reserves.Onchain) != benchOutputs || len(d.Reserves.Proofs) != c.proofs || int64(d.Reserves.Totals.Onchain.Eligible) != c.eligible {
			b.Fatalf("composed %d outputs, %d proofs, eligible %d; want %d, %d, %d",
				len(d.Reserves.Onchain), len(d.Reserves.Proofs), d.Reserves.Totals.Onchain.Eligible, benchOutputs, c.proofs, c.eligible)
		}
	}

	var with, without time.Duration
	var size int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		t0 := time.Now()
		if _, err := composer.Compose(ctx, bare, issuer, nil); err != nil {
			b.Fatal(err)
		}
		without += time.Since(t0)
		b.StartTimer()

		t0 = time.Now()
		s, err := composer.Compose(ctx, in, issuer, nil)
		if err != nil {
			b.Fatal(err)
		}
		with += time.Since(t0)
		size = len(s.Document)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(with.Nanoseconds())/n, "ns/compose-proofs")
	b.ReportMetric(float64(without.Nanoseconds())/n, "ns/compose-none")
	b.ReportMetric(with.Seconds()/without.Seconds(), "ratio-to-none")
	b.ReportMetric(float64(size), "doc-bytes")
	b.Logf("compose %d outputs (P2WPKH, P2TR, P2WSH 2-of-3) in %d proofs, %d accounts: with proofs %s, without %s (%.1fx); document %d bytes",
		benchOutputs, benchOutputs/benchProofSize, benchAccounts, with/time.Duration(b.N), without/time.Duration(b.N),
		with.Seconds()/without.Seconds(), size)
}
