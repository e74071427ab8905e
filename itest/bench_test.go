package itest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// Catch-up scan workload: scanBlocks blocks, each with scanTxs transactions
// of scanWatched outputs to a ranged descriptor (indexes spread over a
// 1,000-address gap window) and scanOther outputs to addresses nobody
// watches.
const (
	scanBlocks  = 100
	scanTxs     = 20
	scanWatched = 10
	scanOther   = 10
	scanGap     = 1000
)

var scanChain struct {
	once     sync.Once
	err      error
	desc     *descriptor.Descriptor
	birthday int64
	tip      int64
	watched  int64 // outputs paying the descriptor
}

// buildScanChain mines the workload once per test binary.
func buildScanChain(b *testing.B, h *harness.Harness) {
	scanChain.once.Do(func() {
		w := newDescWallet(b, h)
		desc, err := descriptor.Parse(w.descriptor("wpkh", 0), h.Params())
		if err != nil {
			scanChain.err = err
			return
		}
		scanChain.desc = desc
		scanChain.birthday = tipHeight(b, h) + 1
		rng := rand.New(rand.NewPCG(1, 2))
		other := make([][]byte, scanOther)
		for i := range other {
			a, err := btcutil.DecodeAddress(freshAddress(b, h, fmt.Sprint("other", i)), h.Params())
			if err != nil {
				scanChain.err = err
				return
			}
			other[i], _ = txscript.PayToAddrScript(a)
		}
		next := int64(0)
		for blk := 0; blk < scanBlocks; blk++ {
			// btcd may order a block's transactions unlike their
			// creation, so every index must be inside the window as it
			// stood at the block's start.
			window := next + scanGap
			for tx := 0; tx < scanTxs; tx++ {
				var outs []*wire.TxOut
				for i := 0; i < scanWatched; i++ {
					// Any index inside the current window.
					idx := uint32(rng.Int64N(window))
					if int64(idx) >= next {
						next = int64(idx) + 1
					}
					s, err := desc.Script(idx)
					if err != nil {
						scanChain.err = err
						return
					}
					outs = append(outs, wire.NewTxOut(1_000+int64(i), s))
				}
				for _, s := range other {
					outs = append(outs, wire.NewTxOut(2_000, s))
				}
				h.SendOutputs(b, outs)
				scanChain.watched += scanWatched
			}
			h.Mine(b, 1)
		}
		scanChain.tip = tipHeight(b, h)
	})
	if scanChain.err != nil {
		b.Fatal(scanChain.err)
	}
}

// BenchmarkChainScan measures the chain watcher's catch-up scan over
// blocks full of transactions with a 1,000-address gap window, against a
// baseline measured in the same run: fetching the same blocks over the same
// websocket with the same 8-block prefetch, matching nothing and storing
// nothing. It reports blocks/s, outputs matched/s and the ratio to the
// baseline.
//
//	go test -run '^$' -bench ChainScan -benchtime 5x ./itest/
func BenchmarkChainScan(b *testing.B) {
	h := harness.Shared(b)
	buildScanChain(b, h)
	cfg, err := h.RPCConfig()
	if err != nil {
		b.Fatal(err)
	}
	client, err := rpcclient.New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Shutdown()
	blocks := scanChain.tip - scanChain.birthday + 1

	var scanTime, rawTime time.Duration
	var derived int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := storetest.Open(b, store.SQLite)
		w := chain.New(client, chaindb.New(db), chain.Config{Descriptors: []chain.Watched{{Desc: scanChain.desc, Gap: scanGap}},
			Birthday: scanChain.birthday, MinConf: 6, Log: slog.New(slog.DiscardHandler)})
		if err := w.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := rawFetch(client, scanChain.birthday, scanChain.tip); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(t0)
		b.StartTimer()

		t0 = time.Now()
		snap, err := w.Sync(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		scanTime += time.Since(t0)
		derived = w.WatchedScripts()
		if st := w.Stats(); st.BlocksScanned != blocks || st.OutputsMatched != scanChain.watched || snap.Height != scanChain.tip {
			b.Fatalf("scanned %d blocks, matched %d outputs, tip %d; want %d, %d, %d",
				st.BlocksScanned, st.OutputsMatched, snap.Height, blocks, scanChain.watched, scanChain.tip)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	scanBPS := float64(blocks) * n / scanTime.Seconds()
	rawBPS := float64(blocks) * n / rawTime.Seconds()
	b.ReportMetric(scanBPS, "blocks/s")
	b.ReportMetric(float64(scanChain.watched)*n/scanTime.Seconds(), "outputs/s")
	b.ReportMetric(rawBPS, "raw-fetch-blocks/s")
	b.ReportMetric(scanBPS/rawBPS, "ratio-to-raw")
	b.ReportMetric(float64(derived)*n/scanTime.Seconds(), "scripts-derived/s")
	b.Logf("%d blocks, %d txs each, %d watched outputs in all, gap %d, %d scripts derived: scan %.0f blocks/s, raw fetch %.0f blocks/s",
		blocks, scanTxs+1, scanChain.watched, scanGap, derived, scanBPS, rawBPS)
}

// rawFetch fetches blocks from..to over client with the watcher's 8-block
// prefetch, and does nothing with them.
func rawFetch(client *rpcclient.Client, from, to int64) error {
	type result struct {
		b   *wire.MsgBlock
		err error
	}
	const ahead = 8
	chans := make(chan chan result, ahead)
	go func() {
		defer close(chans)
		for h := from; h <= to; h++ {
			ch := make(chan result, 1)
			chans <- ch
			go func(h int64) {
				hash, err := client.GetBlockHash(h)
				if err != nil {
					ch <- result{err: err}
					return
				}
				blk, err := client.GetBlock(hash)
				ch <- result{b: blk, err: err}
			}(h)
		}
	}()
	var firstErr error
	for ch := range chans {
		if r := <-ch; r.err != nil && firstErr == nil {
			firstErr = r.err
		}
	}
	return firstErr
}

// BenchmarkBlockToSnapshot measures, with koshd at its default chain poll
// interval, the time from btcd accepting a block (generate returns) to
// GetReserves showing that block's height. It reports the median and the
// worst of b.N blocks.
//
//	go test -run '^$' -bench BlockToSnapshot -benchtime 20x ./itest/
func BenchmarkBlockToSnapshot(b *testing.B) {
	h := harness.Shared(b)
	w := newDescWallet(b, h)
	cfg := koshConfig(b, h)
	cfg.Chain.PollInterval = daemon.DefaultConfig().Chain.PollInterval
	cfg.Chain.Birthday = tipHeight(b, h) + 1
	cfg.Chain.Descriptors = []string{w.descriptor("wpkh", 0)}
	k := startKosh(b, cfg)
	k.waitReserves("synced", syncTimeout, func(s *koshSnapshot) error { return heightIs(s, tipHeight(b, h)) })

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.SendToAddress(b, w.p2wpkh(0, uint32(i)), 10_000)
		hashes := h.Mine(b, 1)
		t0 := time.Now()
		want := tipHeight(b, h)
		for {
			if heightIs(k.reserves(), want) == nil {
				break
			}
			if time.Since(t0) > syncTimeout {
				b.Fatalf("block %s not in the snapshot after %s", hashes[0], syncTimeout)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-max")
	b.Logf("block to snapshot over %d blocks (poll %s): median %s, max %s", len(lat), cfg.Chain.PollInterval,
		lat[len(lat)/2], lat[len(lat)-1])
}

// heightIs checks the chain source is at height.
func heightIs(s *koshSnapshot, height int64) error {
	if src := source(s, "chain"); src == nil || src.Height != height {
		return fmt.Errorf("chain source %v, want height %d", src, height)
	}
	return nil
}
