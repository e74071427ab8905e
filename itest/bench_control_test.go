package itest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// Control verification workload: controlOutputs reserve outputs of
// controlValue sats (a third each of P2WPKH, P2TR key path and P2WSH 2-of-3
// sortedmulti), paid by transactions of controlPerTx outputs, listed in a
// version 2 attestation with proofs of control of controlProofSize inputs
// each.
const (
	controlOutputs   = 10_000
	controlValue     = 20_000
	controlPerTx     = 2_000 // about 80,000 vbytes: under btcd's 100,000 standard limit
	controlProofSize = 2_500
	controlMinConf   = 6
)

var controlChain struct {
	once sync.Once
	err  error
	doc  []byte
	outs []*ct.Output
}

// buildControlChain pays the outputs on the shared btcd, mines them
// controlMinConf deep, has their keys sign proofs of control at the tip,
// and composes and signs the attestation listing them: once per test
// binary.
func buildControlChain(b *testing.B, h *harness.Harness) {
	controlChain.once.Do(func() {
		controlChain.err = errors.New("building the workload failed (see above)")
		outs := ct.Mixed("itest control bench", controlOutputs, controlValue)
		var txids []wire.OutPoint
		for i := 0; i < len(outs); i += controlPerTx {
			batch := outs[i:min(i+controlPerTx, len(outs))]
			txOuts := make([]*wire.TxOut, len(batch))
			for j, o := range batch {
				txOuts[j] = wire.NewTxOut(o.Value, o.Script)
			}
			tx := h.SendOutputs(b, txOuts)
			for j, o := range batch {
				o.OutPoint = wire.OutPoint{Hash: tx.TxHash(), Index: uint32(j)}
			}
			txids = append(txids, wire.OutPoint{Hash: tx.TxHash()})
		}
		h.Mine(b, 1)
		created := tipHeight(b, h)
		for _, t := range txids {
			if c := h.Confirmations(b, &t.Hash); c != 1 {
				controlChain.err = fmt.Errorf("funding transaction %s has %d confirmations after one block, want 1", t.Hash, c)
				return
			}
		}
		h.Mine(b, controlMinConf-1)
		height := tipHeight(b, h)
		hash, err := h.Client().GetBlockHash(height)
		if err != nil {
			controlChain.err = err
			return
		}

		issuer := ct.Key("itest control bench: issuer")
		a := &attest.Attestation{Version: attest.Version, Seq: 1, IssuerKey: attest.IssuerKeyOf(issuer),
			Time:  time.Now().UTC().Format(attest.TimeLayout),
			Block: attest.Block{Height: height, Hash: hash.String()},
			Counting: attest.CountingRules{MinConfirmations: controlMinConf,
				Onchain: attest.ClassRule{Counts: true}, Lightning: attest.ClassRule{Counts: true},
				LightningClaimed: &attest.ClassRule{}, ProofMaxAge: new(int64)},
			Reserves: attest.Reserves{Lightning: []attest.Node{}}, StaleSources: []string{}}
		*a.Counting.ProofMaxAge = proving.DefaultMaxAge
		ch := control.Challenge{IssuerKey: a.IssuerKey, Height: height, Hash: hash.String()}
		for i := 0; i < len(outs); i += controlProofSize {
			batch := outs[i:min(i+controlProofSize, len(outs))]
			p, err := ct.Prove(ch, batch...)
			if err != nil {
				controlChain.err = err
				return
			}
			txHex, err := control.Encode(p.Tx)
			if err != nil {
				controlChain.err = err
				return
			}
			pr := attest.Proof{Block: a.Block, Tx: txHex}
			idx := len(a.Reserves.Proofs)
			for _, o := range batch {
				script := hex.EncodeToString(o.Script)
				pr.Prevouts = append(pr.Prevouts, attest.Prevout{Value: attest.Amount(o.Value), Script: script})
				a.Reserves.Onchain = append(a.Reserves.Onchain, attest.UTXO{Outpoint: o.OutPoint.String(),
					Value: attest.Amount(o.Value), Confirmations: height - created + 1, Descriptor: o.Descriptor(),
					Source: "chain", Script: script, Proof: &idx})
			}
			a.Reserves.Proofs = append(a.Reserves.Proofs, pr)
		}
		// Liabilities: 1,000 holders of half the reserves.
		accts := make([]sumtree.Account, 1_000)
		for i := range accts {
			accts[i] = sumtree.Account{ID: fmt.Sprintf("acct-%06d", i), Balance: controlOutputs * controlValue / 2 / 1_000}
		}
		tree, err := sumtree.Build(context.Background(), "KSH", [32]byte{1}, accts)
		if err != nil {
			controlChain.err = err
			return
		}
		root := tree.Root()
		a.Assets = []attest.Asset{{Code: "KSH", Peg: attest.PegSat, MinCoverageBps: 10000,
			Liabilities: attest.Liabilities{Root: hex.EncodeToString(root.Hash[:]), Total: attest.Amount(root.Sum),
				Height: root.Height, Accounts: attest.Amount(root.Count)}}}
		a.JournalCutoff = attest.Amount(len(accts))
		if err := a.Fill(); err != nil {
			controlChain.err = err
			return
		}
		if err := a.Sign(issuer); err != nil {
			controlChain.err = err
			return
		}
		doc, err := a.Marshal()
		if err != nil {
			controlChain.err = err
			return
		}
		// Every output counts: the document verifies, and with every
		// output proven.
		d, err := verify.Document(doc)
		if err != nil {
			controlChain.err = fmt.Errorf("the benchmark's attestation does not verify: %w", err)
			return
		}
		if got := int64(d.Reserves.Totals.Onchain.Eligible); got != controlOutputs*controlValue || len(d.Reserves.Proofs) != len(a.Reserves.Proofs) {
			controlChain.err = fmt.Errorf("the attestation counts %d sats with %d proofs, want %d with %d",
				got, len(d.Reserves.Proofs), controlOutputs*controlValue, len(a.Reserves.Proofs))
			return
		}
		controlChain.doc, controlChain.outs, controlChain.err = doc, outs, nil
	})
	if controlChain.err != nil {
		b.Fatal(controlChain.err)
	}
}

// BenchmarkControlVerify measures verifying proofs of control over 10,000
// reserve outputs (P2WPKH, P2TR key path, P2WSH 2-of-3, a third each, on
// the real btcd) listed in one version 2 attestation with 4 proofs of
// 2,500 inputs, against baselines measured in the same run: fetching
// those 10,000 outputs from btcd with gettxout in JSON-RPC batches of 500
// over HTTP POST, as koshverify's on-chain check did before it used btcd's
// websocket (koshverify --btcd below runs over the websocket); one call
// each over HTTP POST (what koshverify did before it batched: btcd closes the
// connection after every answer, so each call pays a TLS handshake); and
// one call each over one websocket connection. ns/op is the offline
// verification of the document (attest.VerifyDocument: what `koshverify
// attestation FILE` runs, every input through btcd's script interpreter).
// It also times the koshverify binary end to end, offline and with --btcd
// (every output checked against the node). It reports each time, and each
// one's ratio to the batched fetch.
//
//	go test -run '^$' -bench ControlVerify -benchtime 1x ./itest/
func BenchmarkControlVerify(b *testing.B) {
	h := harness.Shared(b)
	buildControlChain(b, h)
	file := writeFile(b, "attestation.json", string(controlChain.doc))
	bt := h.Btcd()
	node := []string{"--btcd", bt.RPCAddr, "--rpcuser", bt.RPCUser, "--rpcpass", bt.RPCPass, "--rpccert", bt.CertPath}
	koshverify(b) // built before the clock runs
	cert, err := os.ReadFile(bt.CertPath)
	if err != nil {
		b.Fatal(err)
	}
	// The client koshverify dialed before nodeclient: HTTP POST, TLS with
	// btcd's certificate.
	client, err := rpcclient.New(&rpcclient.ConnConfig{Host: bt.RPCAddr, User: bt.RPCUser, Pass: bt.RPCPass,
		Certificates: cert, HTTPPostMode: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Shutdown()
	// btcd answers each HTTP POST on a new connection (it sends
	// "Connection: close"), so each call above pays a TCP and TLS
	// handshake; over one websocket it does not.
	wsCfg, err := h.RPCConfig()
	if err != nil {
		b.Fatal(err)
	}
	ws, err := rpcclient.New(wsCfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Shutdown()
	batch, err := rpcclient.NewBatch(&rpcclient.ConnConfig{Host: bt.RPCAddr, User: bt.RPCUser, Pass: bt.RPCPass,
		Certificates: cert, HTTPPostMode: true})
	if err != nil {
		b.Fatal(err)
	}
	defer batch.Shutdown()

	var verifyTook, fetch, fetchWS, fetchBatch, offline, online time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, f := range []struct {
			c    *rpcclient.Client
			took *time.Duration
		}{{client, &fetch}, {ws, &fetchWS}} {
			t0 := time.Now()
			if err := fetchOutputs(f.c, controlChain.outs); err != nil {
				b.Fatal(err)
			}
			*f.took += time.Since(t0)
		}
		t0 := time.Now()
		if err := fetchOutputsBatched(batch, controlChain.outs); err != nil {
			b.Fatal(err)
		}
		fetchBatch += time.Since(t0)
		b.StartTimer()

		t0 = time.Now()
		if _, err := verify.Document(controlChain.doc); err != nil {
			b.Fatalf("koshverify's offline verification fails: %v", err)
		}
		verifyTook += time.Since(t0)

		b.StopTimer()
		for _, run := range []struct {
			took *time.Duration
			args []string
		}{{&offline, []string{"attestation", file}}, {&online, append([]string{"attestation", file}, node...)}} {
			t0 = time.Now()
			code, out := runVerify(b, run.args...)
			*run.took += time.Since(t0)
			if code != 0 || !strings.Contains(out, "OK: every check holds.") ||
				!strings.Contains(out, fmt.Sprintf("%d of %d outputs counted", controlOutputs, controlOutputs)) {
				b.Fatalf("koshverify %s: exit %d\n%s", strings.Join(run.args, " "), code, lastBytes(out, 2000))
			}
			if len(run.args) > 2 && !strings.Contains(out, fmt.Sprintf("%d outputs and channel points existed unspent", controlOutputs)) {
				b.Fatalf("koshverify with btcd did not check the %d outputs:\n%s", controlOutputs, lastBytes(out, 2000))
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	n := time.Duration(b.N)
	b.ReportMetric((verifyTook / n).Seconds(), "s/verify")
	b.ReportMetric((fetchBatch / n).Seconds(), "s/fetch")
	b.ReportMetric(verifyTook.Seconds()/fetchBatch.Seconds(), "verify/fetch")
	b.ReportMetric((fetch / n).Seconds(), "s/fetch-1by1")
	b.ReportMetric((fetchWS / n).Seconds(), "s/fetch-ws")
	b.ReportMetric((offline / n).Seconds(), "s/koshverify")
	b.ReportMetric((online / n).Seconds(), "s/koshverify-btcd")
	b.ReportMetric(online.Seconds()/fetchBatch.Seconds(), "koshverify-btcd/fetch")
	b.ReportMetric(float64(controlOutputs)*float64(b.N)/verifyTook.Seconds(), "outputs-verified/s")
	b.Logf("%d outputs (P2WPKH, P2TR, P2WSH 2-of-3) in %d proofs, document %d bytes: verify offline %s; gettxout for each in batches of 500 %s (verify/fetch %.2f), one call each over HTTP POST %s, over one websocket %s; koshverify binary offline %s, with --btcd %s (%.2f times the batched fetch)",
		controlOutputs, controlOutputs/controlProofSize, len(controlChain.doc), verifyTook/n, fetchBatch/n, verifyTook.Seconds()/fetchBatch.Seconds(),
		fetch/n, fetchWS/n, offline/n, online/n, online.Seconds()/fetchBatch.Seconds())
}

// fetchOutputs asks btcd for each output with gettxout, one call after
// another, and checks it is unspent with the stated value and script.
func fetchOutputs(client *rpcclient.Client, outs []*ct.Output) error {
	for _, o := range outs {
		res, err := client.GetTxOut(&o.OutPoint.Hash, o.OutPoint.Index, false)
		if err != nil {
			return fmt.Errorf("gettxout %s: %w", o.OutPoint, err)
		}
		if res == nil {
			return fmt.Errorf("gettxout %s: spent or unknown", o.OutPoint)
		}
		sats, err := btcutil.NewAmount(res.Value)
		if err != nil || int64(sats) != o.Value || res.ScriptPubKey.Hex != hex.EncodeToString(o.Script) {
			return fmt.Errorf("gettxout %s: %v sats, script %s; want %d, %x", o.OutPoint, res.Value, res.ScriptPubKey.Hex, o.Value, o.Script)
		}
	}
	return nil
}

// fetchOutputsBatched is fetchOutputs in JSON-RPC batches of 500, as
// koshverify asked before it used btcd's websocket.
func fetchOutputsBatched(client *rpcclient.Client, outs []*ct.Output) error {
	for len(outs) > 0 {
		k := min(len(outs), 500)
		futures := make([]rpcclient.FutureGetTxOutResult, k)
		for i, o := range outs[:k] {
			futures[i] = client.GetTxOutAsync(&o.OutPoint.Hash, o.OutPoint.Index, false)
		}
		if err := client.Send(); err != nil {
			return fmt.Errorf("gettxout batch: %w", err)
		}
		for i, f := range futures {
			res, err := f.Receive()
			o := outs[i]
			if err != nil || res == nil {
				return fmt.Errorf("gettxout %s: %v (unspent: %v)", o.OutPoint, err, res != nil)
			}
			sats, err := btcutil.NewAmount(res.Value)
			if err != nil || int64(sats) != o.Value || res.ScriptPubKey.Hex != hex.EncodeToString(o.Script) {
				return fmt.Errorf("gettxout %s: %v sats, script %s; want %d, %x", o.OutPoint, res.Value, res.ScriptPubKey.Hex, o.Value, o.Script)
			}
		}
		outs = outs[k:]
	}
	return nil
}

// lastBytes is the end of s, at most n bytes.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
