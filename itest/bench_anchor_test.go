package itest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/kosh-reserve/kosh/anchorer"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/cmd/koshverify/nodeclient"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/anchordb"
	"github.com/kosh-reserve/kosh/store/attestdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// Anchor chain workload: anchorBenchDefault anchors (KOSH_BENCH_ANCHORS
// sets another count, at least 2), each paid by a real lnd at
// anchorBenchRate sat/vbyte and confirmed in a block of its own.
const (
	anchorBenchDefault = 1000
	anchorBenchRate    = 2
	anchorBenchMaxScan = 2016 // koshverify's --maxscan default
)

// anchorBenchEnv names the environment variable that sets the count.
const anchorBenchEnv = "KOSH_BENCH_ANCHORS"

// anchorBenchRates are the fee rates, in sat/vbyte, of the yearly cost
// table.
var anchorBenchRates = []int64{1, 2, 5, 10, 50}

var anchorChain struct {
	once    sync.Once
	err     error
	key     [32]byte
	ids     map[uint64][32]byte // every anchored attestation's id
	records []anchorer.Record   // confirmed, oldest first
	newest  anchor.Ref
	took    time.Duration
}

// anchorBenchCount reads KOSH_BENCH_ANCHORS.
func anchorBenchCount() (int, error) {
	s := os.Getenv(anchorBenchEnv)
	if s == "" {
		return anchorBenchDefault, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 2 {
		return 0, fmt.Errorf("%s=%q: want a whole number of anchors, at least 2 (a genesis and a successor)", anchorBenchEnv, s)
	}
	return n, nil
}

// benchAttestations is anchorer.Attestations over a real attestation
// store: every Latest stores and returns a new attestation, seq one above
// the last, whose id is SHA-256 of its seq in decimal.
type benchAttestations struct {
	st   *attestdb.Store
	last attestor.Published
}

func (a *benchAttestations) Latest(ctx context.Context) (attestor.Published, error) {
	seq := a.last.Seq + 1
	id := sha256.Sum256([]byte(strconv.FormatInt(seq, 10)))
	p := attestor.Published{Seq: seq, ID: hex.EncodeToString(id[:]), PrevID: a.last.ID,
		BlockHash: strings.Repeat("0", 64), CreatedAt: time.Now().UnixMilli(), Seed: []byte{1}, Document: "{}"}
	if err := a.st.InsertAttestation(ctx, p, nil, nil); err != nil {
		return attestor.Published{}, err
	}
	a.last = p
	return p, nil
}

// buildAnchorChain makes the anchor chain once per test binary: an
// anchorer on lnd "benchanchor" over a fresh SQLite store makes an anchor
// of a new attestation, the harness mines one block, and Follow runs until
// lnd sees it confirmed; n times.
func buildAnchorChain(b *testing.B, h *harness.Harness, n int) {
	anchorChain.once.Do(func() {
		anchorChain.err = errors.New("building the anchor chain failed (see above)")
		t0 := time.Now()
		// The harness's progress lines would take the ten lines of log
		// go test shows of a benchmark.
		q := quietTB{b}
		node := h.NewNode(q, "benchanchor")
		h.FundNode(q, node, 2_000_000)
		h.WaitSynced(q, node)
		mac, err := lndconn.ReadMacaroon(node.AdminMacaroonPath)
		if err != nil {
			anchorChain.err = err
			return
		}
		conn, err := lndconn.Dial(lndconn.Node{Name: node.Name, Host: node.RPCAddr, TLSCertPath: node.TLSCertPath}, mac, time.Second)
		if err != nil {
			anchorChain.err = err
			return
		}
		defer conn.Close()
		priv, err := btcec.NewPrivateKey()
		if err != nil {
			anchorChain.err = err
			return
		}
		key := [32]byte(schnorr.SerializePubKey(priv.PubKey()))
		db := storetest.Open(b, store.SQLite)
		att := &benchAttestations{st: attestdb.New(db)}
		a := anchorer.New(anchorer.Config{Store: anchordb.New(db), Wallet: conn.Wallet, Attestations: att,
			IssuerKey: key, Params: h.Params(), SatPerVbyte: anchorBenchRate, MinConf: 1, Log: slog.New(slog.DiscardHandler)})
		ctx := b.Context()
		ids := map[uint64][32]byte{}
		records := make([]anchorer.Record, 0, n)
		for i := 0; i < n; i++ {
			rec, err := a.Anchor(ctx, "bench")
			if err != nil {
				anchorChain.err = fmt.Errorf("anchor %d of %d: %w", i+1, n, err)
				return
			}
			h.Mine(b, 1)
			deadline := time.Now().Add(30 * time.Second)
			for rec.State != anchorer.StateConfirmed {
				if time.Now().After(deadline) {
					anchorChain.err = fmt.Errorf("anchor %d (%s) is %s 30 s after its block", rec.Seq, rec.Txid, rec.State)
					return
				}
				time.Sleep(5 * time.Millisecond)
				if rec, err = a.Follow(ctx); err != nil {
					anchorChain.err = fmt.Errorf("follow anchor %d: %w", i+1, err)
					return
				}
			}
			id, err := hex.DecodeString(rec.AttestationID)
			if err != nil || len(id) != 32 {
				anchorChain.err = fmt.Errorf("anchor %d: attestation id %q", rec.Seq, rec.AttestationID)
				return
			}
			ids[uint64(rec.AttestationSeq)] = [32]byte(id)
			records = append(records, rec)
			if (i+1)%100 == 0 {
				fmt.Fprintf(os.Stderr, "anchor bench: %d of %d anchors confirmed after %s\n", i+1, n, time.Since(t0).Round(time.Second))
			}
		}
		last := records[len(records)-1]
		txid, err := chainhash.NewHashFromStr(last.Txid)
		if err != nil {
			anchorChain.err = err
			return
		}
		bh, err := chainhash.NewHashFromStr(last.BlockHash)
		if err != nil {
			anchorChain.err = err
			return
		}
		anchorChain.newest = anchor.Ref{Seq: uint64(last.AttestationSeq), ID: ids[uint64(last.AttestationSeq)],
			Txid: *txid, Height: last.Height, BlockHash: *bh}
		anchorChain.key, anchorChain.ids, anchorChain.records = key, ids, records
		anchorChain.took = time.Since(t0)
		anchorChain.err = nil
	})
	if anchorChain.err != nil {
		b.Fatal(anchorChain.err)
	}
}

// quietTB drops log lines unless the benchmark failed.
type quietTB struct{ testing.TB }

func (q quietTB) Log(args ...any) {
	if q.Failed() {
		q.TB.Helper()
		q.TB.Log(args...)
	}
}

func (q quietTB) Logf(format string, args ...any) {
	if q.Failed() {
		q.TB.Helper()
		q.TB.Logf(format, args...)
	}
}

// BenchmarkAnchorWalk measures what koshverify pays to follow a chain of
// 1,000 bitcoin anchors (KOSH_BENCH_ANCHORS sets another count), each paid
// by a real lnd through the anchorer and confirmed in a block of its own:
// ns/op is anchor.Walk from the newest anchor back to the genesis plus
// anchor.Check against every anchored id, over the client koshverify dials
// (nodeclient: one websocket, TLS with btcd's rpc.cert). The baseline,
// measured in the same run with the same client, fetches the same blocks
// (getblockhash and getblock each, one after another). The same two are
// measured over the harness's rpcclient websocket and, as post-* metrics,
// over rpcclient's HTTP POST (what koshverify dialed before: btcd closes
// the connection after every answer, so each call pays a TCP and TLS
// handshake); and anchor.Forward from the genesis anchor over koshverify's
// client (an attestation listing it: koshverify finds the newer ones by
// their seal spends). It also reports the anchors' sizes and what a year
// of daily anchors costs at several fee rates.
//
//	KOSH_BENCH_ANCHORS=1000 go test -run '^$' -bench AnchorWalk -benchtime 1x -timeout 30m ./itest/
func BenchmarkAnchorWalk(b *testing.B) {
	n, err := anchorBenchCount()
	if err != nil {
		b.Fatal(err)
	}
	h := harness.Shared(b)
	buildAnchorChain(b, h, n)
	bt := h.Btcd()
	cert, err := os.ReadFile(bt.CertPath)
	if err != nil {
		b.Fatal(err)
	}
	vc, err := nodeclient.Dial(b.Context(), nodeclient.Config{Btcd: bt.RPCAddr, User: bt.RPCUser, Pass: bt.RPCPass, Cert: cert})
	if err != nil {
		b.Fatal(err)
	}
	defer vc.Close()
	post, err := rpcclient.New(&rpcclient.ConnConfig{Host: bt.RPCAddr, User: bt.RPCUser, Pass: bt.RPCPass,
		Certificates: cert, HTTPPostMode: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer post.Shutdown()
	wsCfg, err := h.RPCConfig()
	if err != nil {
		b.Fatal(err)
	}
	ws, err := rpcclient.New(wsCfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Shutdown()

	heights := make([]int64, len(anchorChain.records))
	for i, r := range anchorChain.records {
		heights[i] = r.Height
	}
	var walk, fetch, walkWS, fetchWS, walkPost, fetchPost, forward time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each client's walk right after its fetch: what runs before
		// (caches warmed, garbage to collect) is the same for both.
		b.StopTimer()
		t0 := time.Now()
		if err := fetchBlocks(b.Context(), vc, heights); err != nil {
			b.Fatal(err)
		}
		fetch += time.Since(t0)
		b.StartTimer()

		t0 = time.Now()
		walked := checkAnchorChain(b, vc)
		walk += time.Since(t0)

		b.StopTimer()
		for _, c := range []struct {
			node        anchor.Node
			fetch, walk *time.Duration
		}{{btcdNode{ws}, &fetchWS, &walkWS}, {btcdNode{post}, &fetchPost, &walkPost}} {
			t0 := time.Now()
			if err := fetchBlocks(b.Context(), c.node, heights); err != nil {
				b.Fatal(err)
			}
			*c.fetch += time.Since(t0)
			t0 = time.Now()
			checkAnchorChain(b, c.node)
			*c.walk += time.Since(t0)
		}
		t0 = time.Now()
		later, err := anchor.Forward(b.Context(), vc, walked[len(walked)-1], anchorBenchMaxScan)
		forward += time.Since(t0)
		if err != nil || len(later) != n-1 || later[len(later)-1].Txid != walked[0].Txid {
			b.Fatalf("forward from the genesis anchor: %d anchors, %v; want %d ending at %s", len(later), err, n-1, walked[0].Txid)
		}
		b.StartTimer()
	}
	b.StopTimer()
	bn := time.Duration(b.N)
	b.ReportMetric(float64((fetch / bn).Nanoseconds()), "fetch-ns/op")
	b.ReportMetric(walk.Seconds()/fetch.Seconds(), "walk/fetch")
	b.ReportMetric(float64((walkWS / bn).Nanoseconds()), "ws-walk-ns/op")
	b.ReportMetric(float64((fetchWS / bn).Nanoseconds()), "ws-fetch-ns/op")
	b.ReportMetric(walkWS.Seconds()/fetchWS.Seconds(), "ws-walk/fetch")
	b.ReportMetric(float64((walkPost / bn).Nanoseconds()), "post-walk-ns/op")
	b.ReportMetric(float64((fetchPost / bn).Nanoseconds()), "post-fetch-ns/op")
	b.ReportMetric(walkPost.Seconds()/fetchPost.Seconds(), "post-walk/fetch")
	b.ReportMetric(float64((forward / bn).Nanoseconds()), "forward-ns/op")
	genesis, least, successor := anchorSizes(b)
	b.ReportMetric(float64(genesis), "vbytes-genesis")
	b.ReportMetric(float64(successor), "vbytes-successor")

	if !lastRun(b) {
		return
	}
	// Both tables fit the ten lines of a benchmark's log that go test
	// shows (nine, and the newline ending the last): HTTP POST is in the
	// post-* metrics only.
	var t strings.Builder
	fmt.Fprintf(&t, "%d anchors in blocks %d to %d (made and confirmed in %s); mean of %d runs:\n",
		n, heights[0], heights[n-1], anchorChain.took.Round(time.Second), b.N)
	fmt.Fprintf(&t, "  %-26s %11s %11s %7s\n", "over", "walk+check", "raw fetch", "ratio")
	for _, r := range []struct {
		over        string
		walk, fetch time.Duration
	}{{"koshverify's (websocket)", walk, fetch}, {"rpcclient websocket", walkWS, fetchWS}} {
		fmt.Fprintf(&t, "  %-26s %11s %11s %7.2f\n", r.over, roundDur(r.walk/bn), roundDur(r.fetch/bn), r.walk.Seconds()/r.fetch.Seconds())
	}
	fmt.Fprintf(&t, "  forward from the genesis anchor (%d found) over koshverify's client: %s, %.2f times its fetch\n",
		n-1, roundDur(forward/bn), forward.Seconds()/fetch.Seconds())
	t.WriteString(anchorCostTable(genesis, least, successor))
	b.Log(strings.TrimSuffix(t.String(), "\n"))
}

// lastRun reports whether this run of b is its last under -benchtime Nx:
// go test shows ten lines of a benchmark's log, of all its runs together.
// Under a -benchtime duration it cannot tell, and says yes.
func lastRun(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return true
	}
	s := f.Value.String()
	n, err := strconv.Atoi(strings.TrimSuffix(s, "x"))
	if !strings.HasSuffix(s, "x") || err != nil {
		return true
	}
	return b.N == n
}

// checkAnchorChain walks the anchor chain from the newest anchor back to
// the genesis over node and checks every anchored id: what koshverify does
// with an attestation listing the newest anchor.
func checkAnchorChain(b *testing.B, node anchor.Node) []anchor.Anchor {
	recs := anchorChain.records
	walked, err := anchor.Walk(b.Context(), node, anchorChain.key, anchorChain.newest, 0)
	if err != nil {
		b.Fatalf("walk %d anchors: %v", len(recs), err)
	}
	if len(walked) != len(recs) || !walked[len(walked)-1].Genesis() || walked[len(walked)-1].Txid.String() != recs[0].Txid {
		b.Fatalf("walked %d anchors to %s (genesis %v), want %d to %s", len(walked), walked[len(walked)-1].Txid,
			walked[len(walked)-1].Genesis(), len(recs), recs[0].Txid)
	}
	if checked, err := anchor.Check(anchorChain.key, walked, anchorChain.ids); err != nil || checked != len(recs) {
		b.Fatalf("check %d anchors: %d checked, %v", len(recs), checked, err)
	}
	return walked
}

// fetchBlocks reads the block at each height (getblockhash, getblock), one
// after another, and does nothing with it.
func fetchBlocks(ctx context.Context, node anchor.Node, heights []int64) error {
	for _, h := range heights {
		hash, err := node.BlockHash(ctx, h)
		if err != nil {
			return fmt.Errorf("block hash at %d: %w", h, err)
		}
		if _, err := node.Block(ctx, hash); err != nil {
			return fmt.Errorf("block %s: %w", hash, err)
		}
	}
	return nil
}

// anchorSizes returns the virtual size of the genesis anchor and the
// smallest and largest of its successors; it fails if a fee is off the
// rate (lnd prices the weight, so a fee may fall short of the rounded-up
// vbytes by under one vbyte's worth).
func anchorSizes(b *testing.B) (genesis, least, most int64) {
	for i, r := range anchorChain.records {
		if r.FeeSats < (r.Vbytes-1)*anchorBenchRate || r.FeeSats > (r.Vbytes+10)*anchorBenchRate {
			b.Fatalf("anchor %d pays %d sats for %d vbytes at %d sat/vbyte", r.Seq, r.FeeSats, r.Vbytes, anchorBenchRate)
		}
		switch {
		case i == 0:
			genesis = r.Vbytes
		case i == 1:
			least, most = r.Vbytes, r.Vbytes
		default:
			least, most = min(least, r.Vbytes), max(most, r.Vbytes)
		}
	}
	return genesis, least, most
}

// anchorCostTable says what a year of daily anchors of successor vbytes
// (the largest successor; the smallest is least) costs at each of
// anchorBenchRates, in four lines.
func anchorCostTable(genesis, least, successor int64) string {
	var t strings.Builder
	size := strconv.FormatInt(successor, 10)
	if least != successor {
		size = fmt.Sprintf("%d to %d", least, successor)
	}
	fmt.Fprintf(&t, "anchor size: genesis %d vbytes, successors %s vbytes (fees paid at %d sat/vbyte: %d and %d sats)\n",
		genesis, size, anchorBenchRate, anchorChain.records[0].FeeSats, anchorChain.records[1].FeeSats)
	rates, sats, btc := "  365 daily anchors at sat/vbyte:", "  sats", "  BTC"
	for _, rate := range anchorBenchRates {
		y := 365 * successor * rate
		rates += fmt.Sprintf(" %11d", rate)
		sats += fmt.Sprintf(" %11d", y)
		btc += fmt.Sprintf(" %11s", btcString(y))
	}
	w := len(rates) - 12*len(anchorBenchRates)
	fmt.Fprintf(&t, "%s\n%-*s%s\n%-*s%s\n", rates, w, sats[:6], sats[6:], w, btc[:5], btc[5:])
	return t.String()
}

// roundDur rounds d to three significant digits or so.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

// btcString writes sats as BTC with eight decimals.
func btcString(sats int64) string {
	return fmt.Sprintf("%d.%08d", sats/100_000_000, sats%100_000_000)
}
