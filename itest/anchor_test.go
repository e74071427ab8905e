package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// btcdNode is anchor.Node on the harness's btcd: the verifier's own node.
type btcdNode struct{ c *rpcclient.Client }

func (n btcdNode) BlockHash(_ context.Context, height int64) (*chainhash.Hash, error) {
	return n.c.GetBlockHash(height)
}

func (n btcdNode) Block(_ context.Context, hash *chainhash.Hash) (*wire.MsgBlock, error) {
	return n.c.GetBlock(hash)
}

// anchorEnv is a koshd (kosh_faults build) anchoring from lnd "anchoralice".
type anchorEnv struct {
	t    *testing.T
	h    *harness.Harness
	k    *koshProc
	ids  map[uint64][32]byte
	key  [32]byte
	from int64 // the chain height before the first anchor
}

// TestAnchors anchors an attestation chain against real btcd and lnd: a
// genesis anchor and its successor spending its seal, both confirmed and
// walked back with the verifier's node; every anchored history checked, a
// forked one refused; koshd SIGKILLed at each anchor crash point leaves
// exactly one anchor transaction for the attestation on the chain; an
// anchor returned to the mempool by a reorganisation is confirmed again;
// and the schedule anchors by itself.
func TestAnchors(t *testing.T) {
	h := harness.Shared(t)
	alice := h.NewNode(t, "anchoralice")
	h.FundNode(t, alice, 2_000_000)
	h.WaitSynced(t, alice)
	b := h.Btcd()
	spec := fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s", alice.Name, alice.RPCAddr, alice.TLSCertPath,
		alice.AdminMacaroonPath)
	e := &anchorEnv{t: t, h: h, ids: map[uint64][32]byte{}, from: tipHeight(t, h)}
	e.k = newKoshProc(t, []string{
		"--chain.backend=btcd", "--chain.rpchost=" + b.RPCAddr, "--chain.rpcuser=" + b.RPCUser,
		"--chain.rpcpass=" + b.RPCPass, "--chain.rpccert=" + b.CertPath, "--chain.pollinterval=100ms",
		"--chain.birthday=" + strconv.FormatInt(e.from, 10),
		"--attest.schedule=off",
		// The test polls the public anchor list; lift the public rate limit.
		"--ratelimit.client=1000", "--ratelimit.clientburst=1000", "--ratelimit.global=1000", "--ratelimit.globalburst=1000",
		"--anchor.lnd=" + spec, "--anchor.schedule=off", "--anchor.poll=200ms", "--anchor.satpervbyte=3",
	})
	e.k.start()

	if _, err := e.k.issuer.Anchor(e.k.ctx(), &koshv1.AnchorRequest{}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("anchor with no attestation: %v, want FailedPrecondition", err)
	}

	var genesis, second *koshv1.AnchorTx
	t.Run("genesis and successor", func(t *testing.T) {
		e.attest()
		genesis = e.anchor()
		if genesis.PrevTxid != "" || genesis.AttestationSeq != 1 {
			t.Fatalf("genesis anchor: %v", genesis)
		}
		if _, err := e.k.issuer.Anchor(e.k.ctx(), &koshv1.AnchorRequest{}); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("anchor while the genesis is unconfirmed: %v, want FailedPrecondition", err)
		}
		h.Mine(t, 1)
		genesis = e.waitState(genesis.Seq, "confirmed")
		if _, err := e.k.issuer.Anchor(e.k.ctx(), &koshv1.AnchorRequest{}); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("anchor with nothing new: %v, want FailedPrecondition", err)
		}
		e.attest()
		e.attest()
		second = e.anchor()
		if second.PrevTxid != genesis.Txid || second.AttestationSeq != 3 {
			t.Fatalf("second anchor: %v (genesis %s)", second, genesis.Txid)
		}
		h.Mine(t, 1)
		second = e.waitState(second.Seq, "confirmed")
		t.Logf("anchor 2: %d vbytes, %d sats fee at 3 sat/vbyte", second.Vbytes, second.FeeSats)
		walked := e.walk(second)
		if len(walked) != 2 || !walked[1].Genesis() || walked[1].Txid.String() != genesis.Txid {
			t.Fatalf("walked %+v", walked)
		}
	})

	t.Run("fork refused", func(t *testing.T) {
		walked := e.walk(second)
		forked := map[uint64][32]byte{}
		for s, id := range e.ids {
			forked[s] = id
		}
		forked[3] = [32]byte{0xfe} // another attestation 3, as a fork would show
		_, err := anchor.Check(e.key, walked, forked)
		var d *anchor.Divergence
		if !asDivergence(err, &d) || d.Seq != 3 || d.Agrees != 1 {
			t.Fatalf("forked history: %v", err)
		}
	})

	t.Run("koshverify follows the anchors", func(t *testing.T) {
		seq := e.attest() // lists the anchor of attestation 3
		dir := filepath.Join(e.k.dir, "regtest", "attestations")
		code, out := runVerify(t, append([]string{"attestation", filepath.Join(dir, "latest.json"), "--chain", dir,
			"--anchor-genesis", genesis.Txid}, e.node()...)...)
		if code != 0 || !strings.Contains(out, "anchored in bitcoin: 2 anchor(s)") || !strings.Contains(out, "commits to attestation 3") {
			t.Fatalf("koshverify of anchored attestation %d: exit %d\n%s", seq, code, out)
		}
		// Another genesis than the one the holder recorded: a restart.
		code, out = runVerify(t, append([]string{"attestation", filepath.Join(dir, "latest.json"), "--chain", dir,
			"--anchor-genesis", second.Txid}, e.node()...)...)
		if code != 1 || !strings.Contains(out, "another, or a restarted, history") {
			t.Fatalf("koshverify with another genesis: exit %d\n%s", code, out)
		}
	})

	t.Run("fork from a copied data directory fails at its seq", func(t *testing.T) {
		// A second koshd on a copy of the data directory signs its own
		// next attestation: the same key, the same history up to here.
		e.k.stop()
		fork := newKoshProc(t, e.k.args[6:])
		if out, err := exec.Command("cp", "-a", e.k.dir+"/.", fork.dir).CombinedOutput(); err != nil {
			t.Fatalf("copy the data directory: %v %s", err, out)
		}
		fork.start()
		// Until its chain source reports a block there is nothing to attest.
		var forkRes *koshv1.AttestResponse
		harness.WaitFor(t, func() error {
			var err error
			forkRes, err = fork.issuer.Attest(fork.ctx(), &koshv1.AttestRequest{})
			return err
		}, 30*time.Second)
		fork.stop()
		// The first koshd attests the same seq (a second later, so that
		// the two differ: same block, same ledger) and anchors it.
		time.Sleep(1100 * time.Millisecond)
		e.k.start()
		seq := e.attest()
		if seq != uint64(forkRes.Attestation.Sequence) || e.ids[seq] == [32]byte(mustHex(t, forkRes.Attestation.Id)) {
			t.Fatalf("fork %d %s, main %d %x: not a fork", forkRes.Attestation.Sequence, forkRes.Attestation.Id, seq, e.ids[seq])
		}
		a := e.anchor()
		h.Mine(t, 1)
		e.waitState(a.Seq, "confirmed")
		forkDir := filepath.Join(fork.dir, "regtest", "attestations")
		code, out := runVerify(t, append([]string{"attestation", filepath.Join(forkDir, "latest.json"), "--chain", forkDir},
			e.node()...)...)
		want := fmt.Sprintf("history diverges from the anchored one at or before seq %d", seq)
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("koshverify of the unanchored branch: exit %d, want 1 and %q\n%s", code, want, out)
		}
		dir := filepath.Join(e.k.dir, "regtest", "attestations")
		if code, out := runVerify(t, append([]string{"attestation", filepath.Join(dir, "latest.json"), "--chain", dir},
			e.node()...)...); code != 0 {
			t.Fatalf("koshverify of the anchored branch: exit %d\n%s", code, out)
		}
		t.Logf("fork refused: %s", want)
	})

	for _, point := range []string{"anchor:funded", "anchor:stored", "anchor:published"} {
		t.Run("sigkill at "+point, func(t *testing.T) {
			seq := e.attest()
			e.k.stop()
			e.k.start(faultEnv + "=" + point)
			_, err := e.k.issuer.Anchor(e.k.ctx(), &koshv1.AnchorRequest{})
			if err == nil {
				t.Fatalf("Anchor answered: the crash point %s was not reached", point)
			}
			e.k.waitKilled(30 * time.Second)
			e.k.start()
			if point == "anchor:funded" {
				// Nothing was stored: the anchor is made again, once.
				e.anchor()
			}
			a := e.waitAnchorOf(seq, "published")
			h.Mine(t, 1)
			a = e.waitState(a.Seq, "confirmed")
			if n := e.onChain(seq); n != 1 {
				t.Fatalf("%d anchor transactions commit to attestation %d on the chain, want exactly 1", n, seq)
			}
			e.walk(a)
		})
	}

	t.Run("reorg returns the anchor to the mempool", func(t *testing.T) {
		seq := e.attest()
		a := e.anchor()
		h.Mine(t, 1)
		a = e.waitState(a.Seq, "confirmed")
		before := a.BlockHash
		h.ReorgToMempool(t, 1)
		e.waitState(a.Seq, "published")
		h.Mine(t, 1)
		a = e.waitState(a.Seq, "confirmed")
		if a.BlockHash == before {
			t.Fatalf("anchor still in the reorganised block %s", before)
		}
		if n := e.onChain(seq); n != 1 {
			t.Fatalf("%d anchors of attestation %d on the chain, want 1", n, seq)
		}
		e.walk(a)
	})

	t.Run("reorg that removes the anchor's funding re-makes it", func(t *testing.T) {
		// Fund alice with a coin X the harness can double-spend, and
		// lease every other coin of hers, so that the anchor's fee comes
		// from X.
		fund := h.FundNode(t, alice, 300_000)
		utxos, err := alice.LN.ListUnspent(t.Context(), &lnrpc.ListUnspentRequest{MinConfs: 1, MaxConfs: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		testLease := sha256.Sum256([]byte("anchor test: keep lnd off these coins"))
		var leased []*lnrpc.OutPoint
		for _, u := range utxos.Utxos {
			if u.Outpoint.TxidStr == fund.String() {
				continue
			}
			if _, err := alice.Wallet.LeaseOutput(t.Context(), &walletrpc.LeaseOutputRequest{Id: testLease[:],
				Outpoint: u.Outpoint, ExpirationSeconds: 600}); err != nil && !strings.Contains(err.Error(), "already") {
				t.Fatalf("lease %s:%d: %v", u.Outpoint.TxidStr, u.Outpoint.OutputIndex, err)
			}
			leased = append(leased, u.Outpoint)
		}
		seq := e.attest()
		a := e.anchor()
		for _, op := range leased {
			alice.Wallet.ReleaseOutput(t.Context(), &walletrpc.ReleaseOutputRequest{Id: testLease[:], Outpoint: op})
		}
		var tx wire.MsgTx
		raw := e.rawTx(a.Txid)
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		usesX := false
		for _, in := range tx.TxIn {
			usesX = usesX || in.PreviousOutPoint.Hash == *fund
		}
		if !usesX {
			t.Fatalf("anchor %s is not funded by coin %s", a.Txid, fund)
		}
		h.Mine(t, 1)
		e.waitState(a.Seq, "confirmed")
		// X's funding transaction double-spent two blocks deep: X is gone,
		// and with it the anchor.
		h.ReorgDroppingTx(t, fund, 2)
		e.waitState(a.Seq, "dropped")
		remade := e.anchor()
		if remade.AttestationSeq != int64(seq) || remade.PrevTxid != a.PrevTxid || remade.Txid == a.Txid {
			t.Fatalf("re-made anchor %+v after dropping %+v", remade, a)
		}
		h.Mine(t, 1)
		e.walk(e.waitState(remade.Seq, "confirmed"))
		if n := e.onChain(seq); n != 1 {
			t.Fatalf("%d anchors of attestation %d on the chain, want exactly the re-made one", n, seq)
		}
	})

	t.Run("stuck anchor replaced at a higher fee, SIGKILL at anchor:replaced", func(t *testing.T) {
		e.k.stop()
		e.k.args = append(e.k.args, "--anchor.bumpafter=1s", "--anchor.bumpsatpervbyte=25", "--anchor.bumpbudget=5000")
		e.k.start(faultEnv + "=anchor:replaced")
		seq := e.attest()
		a := e.anchor()
		// Unmined past bumpafter: koshd stores the replacement and is
		// killed before publishing it.
		e.k.waitKilled(30 * time.Second)
		e.k.start()
		// After the restart the replacement is published: btcd's mempool
		// holds it, not the original.
		var r *koshv1.AnchorTx
		harness.WaitFor(t, func() error {
			r = e.waitAnchorOf(seq, "published")
			if r.Txid == a.Txid {
				return fmt.Errorf("anchor %d still has its original transaction", r.Seq)
			}
			pool, err := h.Client().GetRawMempool()
			if err != nil {
				return err
			}
			var haveNew, haveOld bool
			for _, id := range pool {
				haveNew = haveNew || id.String() == r.Txid
				haveOld = haveOld || id.String() == a.Txid
			}
			if !haveNew || haveOld {
				return fmt.Errorf("mempool: replacement %v, original %v", haveNew, haveOld)
			}
			return nil
		}, 30*time.Second)
		if r.FeeSats <= a.FeeSats {
			t.Fatalf("replacement pays %d sats, the original %d", r.FeeSats, a.FeeSats)
		}
		t.Logf("anchor %s replaced by %s (%d -> %d sats)", a.Txid, r.Txid, a.FeeSats, r.FeeSats)
		h.Mine(t, 1)
		e.walk(e.waitState(r.Seq, "confirmed"))
		if n := e.onChain(seq); n != 1 {
			t.Fatalf("%d anchors of attestation %d", n, seq)
		}
	})

	t.Run("schedule", func(t *testing.T) {
		seq := e.attest()
		e.k.stop()
		e.k.args = append(e.k.args, "--anchor.schedule=@every 1s")
		e.k.start()
		a := e.waitAnchorOf(seq, "published")
		h.Mine(t, 1)
		e.walk(e.waitState(a.Seq, "confirmed"))
	})

	t.Run("restart at seq 1 under the same key", func(t *testing.T) {
		// A fresh data directory with the issuer's key only: a second
		// history from seq 1, anchored from its own genesis.
		e.k.stop()
		re := newKoshProc(t, e.k.args[6:])
		keyFile := filepath.Join("regtest", "attestation.key")
		key, err := os.ReadFile(filepath.Join(e.k.dir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(re.dir, "regtest"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(re.dir, keyFile), key, 0o600); err != nil {
			t.Fatal(err)
		}
		re.start()
		e2 := &anchorEnv{t: t, h: h, k: re, ids: map[uint64][32]byte{}, from: e.from}
		if seq := e2.attest(); seq != 1 || e2.key != e.key {
			t.Fatalf("restarted history at seq %d, key %x (was %x)", seq, e2.key, e.key)
		}
		g2 := e2.anchor()
		h.Mine(t, 1)
		e2.waitState(g2.Seq, "confirmed")
		e2.attest()
		dir := filepath.Join(re.dir, "regtest", "attestations")
		args := []string{"attestation", filepath.Join(dir, "latest.json"), "--chain", dir}
		code, out := runVerify(t, append(append(args, "--anchor-genesis", genesis.Txid), e.node()...)...)
		if code != 1 || !strings.Contains(out, "another, or a restarted, history") {
			t.Fatalf("restarted history against the recorded genesis: exit %d\n%s", code, out)
		}
		// Without the recorded genesis the restart cannot be told apart
		// (docs/proofs.md 4.14 says so); koshverify asks to record it.
		code, out = runVerify(t, append(args, e.node()...)...)
		if code != 0 || !strings.Contains(out, "record the genesis anchor "+g2.Txid) {
			t.Fatalf("restarted history without a recorded genesis: exit %d\n%s", code, out)
		}
	})
}

func asDivergence(err error, d **anchor.Divergence) bool {
	v, ok := err.(*anchor.Divergence)
	if ok {
		*d = v
	}
	return ok
}

// rawTx is an anchor's transaction as btcd has it (mempool or chain).
func (e *anchorEnv) rawTx(txid string) []byte {
	e.t.Helper()
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		e.t.Fatal(err)
	}
	tx, err := e.h.Client().GetRawTransaction(h)
	if err != nil {
		e.t.Fatalf("getrawtransaction %s: %v", txid, err)
	}
	var buf bytes.Buffer
	if err := tx.MsgTx().Serialize(&buf); err != nil {
		e.t.Fatal(err)
	}
	return buf.Bytes()
}

// node is koshverify's flags for the harness's btcd.
func (e *anchorEnv) node() []string {
	b := e.h.Btcd()
	return []string{"--btcd", b.RPCAddr, "--rpcuser", b.RPCUser, "--rpcpass", b.RPCPass, "--rpccert", b.CertPath}
}

// attest makes an attestation and remembers its id; it returns its seq.
func (e *anchorEnv) attest() uint64 {
	e.t.Helper()
	var res *koshv1.AttestResponse
	harness.WaitFor(e.t, func() error {
		var err error
		res, err = e.k.issuer.Attest(e.k.ctx(), &koshv1.AttestRequest{})
		return err
	}, 30*time.Second)
	a, err := attest.Parse([]byte(res.Attestation.Document))
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := hex.DecodeString(a.IssuerKey)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := schnorr.ParsePubKey(key); err != nil {
		e.t.Fatal(err)
	}
	e.key = [32]byte(key)
	id, err := hex.DecodeString(res.Attestation.Id)
	if err != nil {
		e.t.Fatal(err)
	}
	e.ids[uint64(res.Attestation.Sequence)] = [32]byte(id)
	return uint64(res.Attestation.Sequence)
}

// anchor makes an anchor through the RPC.
func (e *anchorEnv) anchor() *koshv1.AnchorTx {
	e.t.Helper()
	res, err := e.k.issuer.Anchor(e.k.ctx(), &koshv1.AnchorRequest{})
	if err != nil {
		e.t.Fatalf("anchor: %v", err)
	}
	return res.Anchor
}

func (e *anchorEnv) list() []*koshv1.AnchorTx {
	e.t.Helper()
	// The connection is remade on every restart.
	res, err := koshv1.NewPublicServiceClient(e.k.conn).ListAnchors(e.k.ctx(), &koshv1.ListAnchorsRequest{Limit: 500})
	if err != nil {
		e.t.Fatalf("list anchors: %v", err)
	}
	return res.Anchors
}

// waitState waits until anchor seq is in state.
func (e *anchorEnv) waitState(seq int64, state string) *koshv1.AnchorTx {
	e.t.Helper()
	var got *koshv1.AnchorTx
	harness.WaitFor(e.t, func() error {
		for _, a := range e.list() {
			if a.Seq == seq {
				got = a
				if a.State == state {
					return nil
				}
				return fmt.Errorf("anchor %d is %s, want %s", seq, a.State, state)
			}
		}
		return fmt.Errorf("no anchor %d", seq)
	}, 30*time.Second)
	return got
}

// waitAnchorOf waits for the one live anchor of attestation seq to reach
// state (or beyond).
func (e *anchorEnv) waitAnchorOf(seq uint64, state string) *koshv1.AnchorTx {
	e.t.Helper()
	var got *koshv1.AnchorTx
	harness.WaitFor(e.t, func() error {
		var live []*koshv1.AnchorTx
		for _, a := range e.list() {
			if a.AttestationSeq == int64(seq) && a.State != "dropped" {
				live = append(live, a)
			}
		}
		if len(live) != 1 {
			return fmt.Errorf("%d live anchors of attestation %d", len(live), seq)
		}
		got = live[0]
		if got.State != state && got.State != "confirmed" {
			return fmt.Errorf("anchor of attestation %d is %s", seq, got.State)
		}
		return nil
	}, 30*time.Second)
	return got
}

// onChain counts the transactions in the main chain since the test began
// that carry an anchor committing to attestation seq.
func (e *anchorEnv) onChain(seq uint64) int {
	e.t.Helper()
	n := 0
	for h := e.from; h <= tipHeight(e.t, e.h); h++ {
		hash, err := e.h.Client().GetBlockHash(h)
		if err != nil {
			e.t.Fatal(err)
		}
		blk, err := e.h.Client().GetBlock(hash)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, tx := range blk.Transactions {
			if p, err := anchor.FromTx(tx); err == nil && p.Seq == seq {
				n++
			}
		}
	}
	return n
}

// walk verifies a confirmed anchor and every one before it with btcd, and
// checks the history koshd attested against them.
func (e *anchorEnv) walk(a *koshv1.AnchorTx) []anchor.Anchor {
	e.t.Helper()
	txid, err := chainhash.NewHashFromStr(a.Txid)
	if err != nil {
		e.t.Fatal(err)
	}
	bh, err := chainhash.NewHashFromStr(a.BlockHash)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := hex.DecodeString(a.AttestationId)
	ref := anchor.Ref{Seq: uint64(a.AttestationSeq), ID: [32]byte(id), Txid: *txid, Height: a.Height, BlockHash: *bh}
	walked, err := anchor.Walk(context.Background(), btcdNode{e.h.Client()}, e.key, ref, 0)
	if err != nil {
		e.t.Fatalf("walk from anchor %d: %v", a.Seq, err)
	}
	if n, err := anchor.Check(e.key, walked, e.ids); err != nil || n != len(walked) {
		e.t.Fatalf("check %d anchors: %d checked, %v", len(walked), n, err)
	}
	return walked
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("hash %q: %v", s, err)
	}
	return b
}
