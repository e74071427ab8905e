package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/cmd/koshverify/nodeclient/nodetest"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

const vectors = "../../testdata/attest"

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := Run(context.Background(), args, &out, &errw)
	return code, out.String() + errw.String()
}

type vectorFile struct {
	IssuerKey string `json:"issuer_key"`
	Valid     []struct {
		Hash string `json:"hash"`
	} `json:"valid"`
	Invalid []struct {
		Name     string   `json:"name"`
		Document string   `json:"document"`
		Errors   []string `json:"errors"`
	} `json:"invalid"`
	BundlesV3 []receiptCase `json:"bundles_v3"`
	Absences  []receiptCase `json:"absences"`
}

// receiptCase is a bundle or absence vector with its receipt.
type receiptCase struct {
	Name    string `json:"name"`
	Receipt string `json:"receipt"`
}

func loadVectors(t *testing.T) vectorFile {
	b, err := os.ReadFile(filepath.Join(vectors, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// unsourced is the one failure the holder's default policy finds in every
// attestation of testdata/attest: its INR price is not manual and lists no
// oracle sources (docs/proofs.md 4.6).
const unsourced = "FAIL: The price of asset INR is not marked manual but lists no oracle sources, so nothing shows where it came from."

// policyOnly is the exit status of a TestCommands case whose every check
// holds but the holder's policy, which fails the vectors' unsourced price
// and nothing else: exit 1, and unsourced is the only failure.
const policyOnly = -1

// onlyUnsourced returns "" when out's only failure is unsourced (and the
// run says one check failed), else what is wrong.
func onlyUnsourced(code int, out string) string {
	if code != 1 {
		return fmt.Sprintf("exit %d, want 1 (the unsourced price only)", code)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "FAIL: ") && l != unsourced {
			return "another failure: " + l
		}
	}
	if !strings.Contains(out, unsourced) || !strings.Contains(out, "FAILED: 1 check(s) did not hold.") {
		return "the unsourced price is not the one failure"
	}
	return ""
}

func TestCommands(t *testing.T) {
	v := loadVectors(t)
	chainDir := filepath.Join(vectors, "chain")
	latest := filepath.Join(vectors, "latest.json")
	bundle := filepath.Join(vectors, "bundle.json")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"-h"}, 0, "Usage:"},
		{"no args", nil, 2, "Usage:"},
		{"unknown", []string{"frobnicate"}, 2, "unknown command"},
		{"sub help", []string{"attestation", "-h"}, 0, "Usage:"},
		{"valid", []string{"attestation", latest}, policyOnly, "ok:   signature, canonical form, sums, counting rules and coverage of"},
		{"valid chain", []string{"attestation", latest, "--chain", chainDir}, policyOnly, "hash chain of 3 attestation(s)"},
		{"flags first", []string{"attestation", "--chain", chainDir, latest}, policyOnly, "hash chain of 3"},
		{"chain to anchor", []string{"attestation", latest, "--chain", chainDir, "--first", v.Valid[1].Hash}, policyOnly, "hash chain of 2 attestation(s) back to attestation " + v.Valid[1].Hash},
		{"anchor not reached", []string{"attestation", latest, "--chain", chainDir, "--first", strings.Repeat("00", 32)}, 1, "not at the given first attestation"},
		{"anchor without chain", []string{"attestation", latest, "--first", v.Valid[0].Hash}, 1, "no --chain was given"},
		{"expected issuer", []string{"attestation", latest, "--issuer", v.IssuerKey}, policyOnly, "issuer declares: stale sources: bob"},
		{"other issuer", []string{"attestation", latest, "--issuer", strings.Repeat("ab", 32)}, 1, "not by the expected"},
		{"missing file", []string{"attestation", "/nonexistent/x.json"}, 1, "Cannot open"},
		{"two files", []string{"attestation", latest, latest}, 2, "exactly one"},
		{"plain http refused", []string{"attestation", "http://example.com/a.json"}, 1, "Refusing plain http"},
		{"inclusion", []string{"inclusion", "--attestation", latest, "--proof", bundle}, policyOnly, "account acct-dana holds 97000000 in SAT"},
		{"inclusion receipt ok", []string{"inclusion", "--attestation", latest, "--proof", bundle, "--receipt", filepath.Join(vectors, "receipt.json")}, policyOnly, "does not show more"},
		{"inclusion receipt more", []string{"inclusion", "--attestation", latest, "--proof", bundle, "--receipt", filepath.Join(vectors, "receipt-more.json")}, 1,
			"FAIL: The attestation shows account acct-dana with 97000000 in SAT, but a receipt signed by the issuer at journal sequence 2999, before the attestation's cut-off 3000, shows 98000000."},
		{"inclusion receipt after cut-off", []string{"inclusion", "--attestation", latest, "--proof", bundle, "--receipt", filepath.Join(vectors, "receipt-after-cutoff.json")}, policyOnly, "note: The receipt was taken at journal sequence 3001"},
		{"inclusion receipt other issuer", []string{"inclusion", "--attestation", latest, "--proof", bundle, "--receipt", filepath.Join(vectors, "receipt-other-issuer.json")}, 1, "not by the expected"},
		{"inclusion wrong attestation", []string{"inclusion", "--attestation", filepath.Join(chainDir, firstFile(t, chainDir, "000002-")), "--proof", bundle}, 1, "The inclusion proof is for attestation"},
		{"inclusion receipt with a failing proof", []string{"inclusion", "--attestation", filepath.Join(chainDir, firstFile(t, chainDir, "000002-")), "--proof", bundle,
			"--receipt", filepath.Join(vectors, "receipt.json")}, 1, "the receipt was not checked, because the inclusion proof did not verify"},
		{"inclusion missing flag", []string{"inclusion", "--attestation", latest}, 2, "needs --attestation and --proof"},
		{"receipt", []string{"receipt", filepath.Join(vectors, "receipt.json"), "--issuer", v.IssuerKey}, 0, "OK"},
		{"receipt flipped", []string{"receipt", filepath.Join(vectors, "receipt-flipped.json"), "--issuer", v.IssuerKey}, 1, "signature does not verify"},
		{"receipt other key", []string{"receipt", filepath.Join(vectors, "receipt-other-issuer.json"), "--issuer", v.IssuerKey}, 1, "not by the expected"},
		{"receipt needs issuer", []string{"receipt", filepath.Join(vectors, "receipt.json")}, 2, "--issuer"},
		{"both nodes", []string{"attestation", latest, "--btcd", "a:1", "--bitcoind", "b:2"}, 2, "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(t, tc.args...)
			if tc.code == policyOnly {
				if msg := onlyUnsourced(code, out); msg != "" || !strings.Contains(out, tc.want) {
					t.Fatalf("%s; or output lacks %q:\n%s", msg, tc.want, out)
				}
				return
			}
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

func firstFile(t *testing.T, dir, prefix string) string {
	m, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	if len(m) != 1 {
		t.Fatalf("no %s* in %s", prefix, dir)
	}
	return filepath.Base(m[0])
}

// TestTamperedVectors: every tampered vector exits 1 and prints each of its
// expected sentences.
func TestTamperedVectors(t *testing.T) {
	v := loadVectors(t)
	dir := t.TempDir()
	for i, x := range v.Invalid {
		p := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		if err := os.WriteFile(p, []byte(x.Document), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out := run(t, "attestation", p)
		if code != 1 {
			t.Errorf("%s: exit %d\n%s", x.Name, code, out)
		}
		for _, e := range x.Errors {
			if !strings.Contains(out, "FAIL: "+sentence(e)) {
				t.Errorf("%s: output lacks %q\n%s", x.Name, e, out)
			}
		}
	}
}

// TestBrokenChainDir: a chain directory missing the middle attestation.
func TestBrokenChainDir(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(vectors, "chain")
	for _, p := range []string{"000001-", "000003-"} {
		n := firstFile(t, src, p)
		b, _ := os.ReadFile(filepath.Join(src, n))
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	code, out := run(t, "attestation", filepath.Join(dir, firstFile(t, dir, "000003-")), "--chain", dir)
	if code != 1 || !strings.Contains(out, "which is not in") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestURLs fetches the attestation and its chain over loopback HTTP.
func TestURLs(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(vectors, "chain"))))
	defer srv.Close()
	n := firstFile(t, filepath.Join(vectors, "chain"), "000003-")
	code, out := run(t, "attestation", srv.URL+"/"+n, "--chain", srv.URL)
	if msg := onlyUnsourced(code, out); msg != "" || !strings.Contains(out, "hash chain of 3") {
		t.Fatalf("%s\n%s", msg, out)
	}
	code, out = run(t, "attestation", srv.URL+"/missing.json")
	if code != 1 || !strings.Contains(out, "404") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if _, err := readLimited(bytes.NewReader(make([]byte, maxFetch+1)), "x"); err == nil {
		t.Fatal("oversized input accepted")
	}
}

// TestURLRateLimited: a server that answers 429 with Retry-After is asked
// again after the wait, for the attestation and every file of its chain.
func TestURLRateLimited(t *testing.T) {
	files := http.FileServer(http.Dir(filepath.Join(vectors, "chain")))
	var mu sync.Mutex
	refused := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !refused[r.URL.Path]
		refused[r.URL.Path] = true
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"code":8,"message":"too many requests","details":[]}`))
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	n := firstFile(t, filepath.Join(vectors, "chain"), "000003-")
	code, out := run(t, "attestation", srv.URL+"/"+n, "--chain", srv.URL)
	if msg := onlyUnsourced(code, out); msg != "" || !strings.Contains(out, "hash chain of 3") {
		t.Fatalf("%s\n%s", msg, out)
	}
	if len(refused) < 3 {
		t.Fatalf("only %d files were asked for", len(refused))
	}
	for _, c := range []struct {
		h    string
		want time.Duration
	}{{"2", 2 * time.Second}, {"", time.Second}, {"soon", time.Second}, {"0", time.Second}, {"3600", 30 * time.Second}} {
		if got := retryAfter(c.h); got != c.want {
			t.Errorf("retryAfter(%q) = %s, want %s", c.h, got, c.want)
		}
	}
}

// fakeChain is a best chain of blocks and its UTXO set at the tip.
type fakeChain struct {
	blocks []*wire.MsgBlock
	utxos  map[wire.OutPoint]int64
}

func (f *fakeChain) BestHeight(context.Context) (int64, error) { return int64(len(f.blocks) - 1), nil }
func (f *fakeChain) BlockHash(_ context.Context, h int64) (*chainhash.Hash, error) {
	if h < 0 || h >= int64(len(f.blocks)) {
		return nil, errors.New("block height out of range")
	}
	x := f.blocks[h].BlockHash()
	return &x, nil
}
func (f *fakeChain) Block(_ context.Context, h *chainhash.Hash) (*wire.MsgBlock, error) {
	for _, b := range f.blocks {
		if b.BlockHash() == *h {
			return b, nil
		}
	}
	return nil, errors.New("block not found")
}
func (f *fakeChain) TxOut(op wire.OutPoint) (*btcjson.GetTxOutResult, error) {
	v, ok := f.utxos[op]
	if !ok {
		return nil, nil
	}
	// confirmations: find the creating block
	for h, b := range f.blocks {
		for _, tx := range b.Transactions {
			if tx.TxHash() == op.Hash {
				tip := f.blocks[len(f.blocks)-1].BlockHash()
				return &btcjson.GetTxOutResult{BestBlock: tip.String(), Confirmations: int64(len(f.blocks) - h), Value: btcutil.Amount(v).ToBTC(),
					ScriptPubKey: btcjson.ScriptPubKeyResult{Hex: fmt.Sprintf("%x", tx.TxOut[op.Index].PkScript)}}, nil
			}
		}
	}
	return nil, nil
}
func (f *fakeChain) Unspent(_ context.Context, op wire.OutPoint) (bool, error) {
	res, err := f.TxOut(op)
	return res != nil, err
}
func (f *fakeChain) TxOuts(_ context.Context, ops []wire.OutPoint) ([]*btcjson.GetTxOutResult, error) {
	out := make([]*btcjson.GetTxOutResult, len(ops))
	for i, op := range ops {
		res, err := f.TxOut(op)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}
func (f *fakeChain) Close() {}

// newFakeChain builds 20 blocks; block 5 pays outputs a (1 BTC), b (0.5 BTC)
// and a channel funding output c (0.2 BTC); block 15 spends b.
func newFakeChain() (*fakeChain, *wire.MsgTx, *wire.MsgTx) {
	f := &fakeChain{utxos: map[wire.OutPoint]int64{}}
	fund := wire.NewMsgTx(2)
	fund.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 7}})
	for _, v := range []int64{100_000_000, 50_000_000, 20_000_000} {
		fund.AddTxOut(&wire.TxOut{Value: v, PkScript: []byte{0x51}})
	}
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: fund.TxHash(), Index: 1}})
	spend.AddTxOut(&wire.TxOut{Value: 49_000_000, PkScript: []byte{0x51}})
	prev := chainhash.Hash{}
	for h := 0; h < 20; h++ {
		cb := wire.NewMsgTx(1)
		cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 0xffffffff}, SignatureScript: []byte{byte(h), 1}})
		cb.AddTxOut(&wire.TxOut{Value: 1, PkScript: []byte{0x51}})
		b := &wire.MsgBlock{Header: wire.BlockHeader{PrevBlock: prev, Nonce: uint32(h)}, Transactions: []*wire.MsgTx{cb}}
		switch h {
		case 5:
			b.Transactions = append(b.Transactions, fund)
		case 15:
			b.Transactions = append(b.Transactions, spend)
		}
		f.blocks = append(f.blocks, b)
		prev = b.BlockHash()
	}
	f.utxos[wire.OutPoint{Hash: fund.TxHash(), Index: 0}] = 100_000_000
	f.utxos[wire.OutPoint{Hash: fund.TxHash(), Index: 2}] = 20_000_000
	return f, fund, spend
}

func TestOnChain(t *testing.T) {
	f, fund, _ := newFakeChain()
	op := func(i int) string { return fmt.Sprintf("%s:%d", fund.TxHash(), i) }
	base := func(height int64) *attest.Attestation {
		h, _ := f.BlockHash(context.Background(), height)
		conf := height - 5 + 1
		return &attest.Attestation{Block: attest.Block{Height: height, Hash: h.String()},
			Reserves: attest.Reserves{
				Onchain:   []attest.UTXO{{Outpoint: op(0), Value: 100_000_000, Confirmations: conf}, {Outpoint: op(1), Value: 50_000_000, Confirmations: conf}},
				Lightning: []attest.Node{{Channels: []attest.Channel{{ChannelPoint: op(2), Capacity: 20_000_000, Confirmations: conf}}}},
			}}
	}
	tests := []struct {
		name   string
		height int64
		edit   func(a *attest.Attestation)
		fails  int
		want   string
	}{
		{"all hold, b spent later", 12, nil, 0, "was spent later, in block 15"},
		{"b spent before the attested block", 16, nil, 1, "was already spent at the attested block 16"},
		{"value differs", 12, func(a *attest.Attestation) { a.Reserves.Onchain[0].Value++ }, 1, "holds 100000000 sats on-chain, not the 100000001 sats attested"},
		{"capacity differs", 12, func(a *attest.Attestation) { a.Reserves.Lightning[0].Channels[0].Capacity = 30_000_000 }, 1, "Channel point"},
		{"spent value differs", 12, func(a *attest.Attestation) { a.Reserves.Onchain[1].Value = 1 }, 1, "holds 50000000 sats on-chain, not the 1 sats"},
		{"confirmations differ", 12, func(a *attest.Attestation) { a.Reserves.Onchain[0].Confirmations = 3 }, 1, "was created at height 5"},
		{"block not in chain", 12, func(a *attest.Attestation) { a.Block.Hash = strings.Repeat("11", 32) }, 1, "is not in your node's best chain"},
		{"unknown output", 12, func(a *attest.Attestation) { a.Reserves.Onchain[0].Outpoint = strings.Repeat("22", 32) + ":0" }, 1, "its transaction is not in block 5"},
		{"scan limit", 12, func(a *attest.Attestation) {}, -1, "more than --maxscan 3"},
		// Version 2: scripts and proof blocks are checked too.
		{"scripts hold", 12, v2(nil), 0, "every output's script is the one on the chain"},
		{"script differs", 12, v2(func(a *attest.Attestation) { a.Reserves.Onchain[0].Script = "52" }), 1,
			"has script 51 on-chain, not the 52 attested"},
		{"spent output's script differs", 12, v2(func(a *attest.Attestation) { a.Reserves.Onchain[1].Script = "52" }), 1,
			"has script 51 on-chain, not the 52 attested"},
		{"proof block not in the chain", 12, v2(func(a *attest.Attestation) { a.Reserves.Proofs[0].Block.Hash = strings.Repeat("33", 32) }), 1,
			"Proof 0 commits to block 3333"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := base(tc.height)
			if tc.edit != nil {
				tc.edit(a)
			}
			var out bytes.Buffer
			r := &runner{ctx: context.Background(), out: &out}
			maxScan := int64(100)
			if tc.fails < 0 {
				maxScan, tc.fails = 3, 1
			}
			r.checkOnChain(a, f, maxScan)
			if r.failures != tc.fails || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("%d failures (want %d), output lacks %q:\n%s", r.failures, tc.fails, tc.want, out.String())
			}
			// The same chain behind a bitcoind's JSON-RPC, through
			// the client --bitcoind dials: the same output, every
			// call on one kept-alive connection.
			node := nodetest.NewBitcoind(t, f)
			c, err := dial(t.Context(), nodeFlags{bitcoind: node.Addr, user: nodetest.User, pass: nodetest.Pass})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var viaNode bytes.Buffer
			rn := &runner{ctx: t.Context(), out: &viaNode}
			rn.checkOnChain(a, c, maxScan)
			if rn.failures != r.failures || viaNode.String() != out.String() {
				t.Fatalf("over bitcoind's JSON-RPC: %d failures, output\n%s\nwant %d failures, output\n%s", rn.failures, viaNode.String(), r.failures, out.String())
			}
			if node.Conns() != 1 {
				t.Errorf("%d HTTP requests to bitcoind over %d connections, want 1", node.Posts(), node.Conns())
			}
		})
	}
}

// v2 makes the TestOnChain attestation version 2 (scripts 51, one proof
// at block 10), then applies edit.
func v2(edit func(a *attest.Attestation)) func(a *attest.Attestation) {
	return func(a *attest.Attestation) {
		f, _, _ := newFakeChain()
		a.Version = 2
		for i := range a.Reserves.Onchain {
			a.Reserves.Onchain[i].Script = "51"
		}
		h, _ := f.BlockHash(context.Background(), 10)
		a.Reserves.Proofs = []attest.Proof{{Block: attest.Block{Height: 10, Hash: h.String()}}}
		if edit != nil {
			edit(a)
		}
	}
}

// TestForkedChainDir: a chain directory holding two different attestations
// numbered 2 under the same issuer key (one re-signed with another time)
// fails, naming the number and both ids, whichever branch the attestation
// checked runs through; so does a second #1 (a restarted history).
func TestForkedChainDir(t *testing.T) {
	src := filepath.Join(vectors, "chain")
	seed := sha256.Sum256([]byte("kosh attest vector: issuer key"))
	key, _ := btcec.PrivKeyFromBytes(seed[:])
	for _, n := range []string{"000001-", "000002-"} {
		dir := t.TempDir()
		for _, p := range []string{"000001-", "000002-", "000003-"} {
			f := firstFile(t, src, p)
			b, _ := os.ReadFile(filepath.Join(src, f))
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		b, _ := os.ReadFile(filepath.Join(src, firstFile(t, src, n)))
		fork, err := attest.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		tm, err := attest.ParseTime(fork.Time)
		if err != nil {
			t.Fatal(err)
		}
		fork.Time = tm.Add(time.Second).Format(attest.TimeLayout)
		if err := fork.Sign(key); err != nil {
			t.Fatal(err)
		}
		doc, err := fork.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := fork.ID()
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d-%s.json", fork.Seq, id)), doc, 0o644)
		code, out := run(t, "attestation", filepath.Join(dir, firstFile(t, dir, "000003-")), "--chain", dir)
		want := fmt.Sprintf("2 different attestations numbered %d", fork.Seq)
		if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, id) {
			t.Errorf("fork at %d: exit %d, want 1 and %q naming %s\n%s", fork.Seq, code, want, id, out)
		}
	}
}

// TestVersion2Offline: a version 2 attestation verifies offline, saying
// which outputs are not counted and why, which channels are claims, and
// which checks need the user's node and lnd.
func TestVersion2Offline(t *testing.T) {
	dir := filepath.Join(vectors, "chain-v2")
	code, out := run(t, "attestation", filepath.Join(dir, firstFile(t, dir, "000003-")), "--chain", dir)
	for _, want := range []string{"proofs of control: 3 proofs; 3 of 5 outputs counted", "no proof of control",
		"is older than 1000 blocks", "claimed channel", "not checked without your node", "not checked without your lnd",
		"hash chain of 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if msg := onlyUnsourced(code, out); msg != "" {
		t.Fatalf("%s\n%s", msg, out)
	}
}

// TestIssuerAccounts: an attestation listing issuer-held accounts
// (testdata/attest/chain-issuer) prints each one's name, account, balance
// and asset and says each is in its liability tree; its chain verifies.
func TestIssuerAccounts(t *testing.T) {
	dir := filepath.Join(vectors, "chain-issuer")
	code, out := run(t, "attestation", filepath.Join(dir, firstFile(t, dir, "000002-")), "--chain", dir)
	for _, want := range []string{
		"  held by the issuer: kosh payments escrow (redemptions in progress), account acct-escrow: 9000 base units of SAT\n",
		"  held by the issuer: fees, account acct-fees: 3000 base units of SAT\n",
		"ok:   each of the 2 balance(s) held by the issuer itself is in its asset's liability tree with exactly that balance",
		"hash chain of 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if msg := onlyUnsourced(code, out); msg != "" {
		t.Fatalf("%s\n%s", msg, out)
	}
}

// fakeGraph is a verifier's lnd graph: channels by short channel id.
type fakeGraph map[uint64]*lnrpc.ChannelEdge

func (g fakeGraph) GetChanInfo(_ context.Context, in *lnrpc.ChanInfoRequest, _ ...grpc.CallOption) (*lnrpc.ChannelEdge, error) {
	if e, ok := g[in.ChanId]; ok {
		return e, nil
	}
	return nil, errors.New("edge not found")
}

// TestAnnouncedChannels: each announced channel must be in the verifier's
// lnd graph with the same channel point and capacity and the node as one
// end; a channel point that is some other output of the same value, or a
// channel between two other nodes, fails.
func TestAnnouncedChannels(t *testing.T) {
	dir := filepath.Join(vectors, "chain-v2")
	b, _ := os.ReadFile(filepath.Join(dir, firstFile(t, dir, "000001-")))
	a, err := attest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	honest := fakeGraph{}
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			if c.Evidence != attest.EvidenceAnnounced {
				continue
			}
			h, tx, o, _ := attest.ParseShortChannelID(c.ShortChannelID)
			honest[uint64(h)<<40|uint64(tx)<<16|uint64(o)] = &lnrpc.ChannelEdge{ChanPoint: c.ChannelPoint,
				Node1Pub: n.PubKey, Node2Pub: "03" + strings.Repeat("ab", 32), Capacity: int64(c.Capacity)}
		}
	}
	cases := []struct {
		name  string
		edit  func(g fakeGraph)
		fails int
		want  string
	}{
		{"all announced", func(fakeGraph) {}, 0, "announced channels are in your lnd's graph"},
		{"another output of the same value", func(g fakeGraph) {
			for _, e := range g {
				e.ChanPoint = strings.Repeat("44", 32) + ":0"
				break
			}
		}, 1, "your lnd knows short channel id"},
		{"between two other nodes", func(g fakeGraph) {
			for _, e := range g {
				e.Node1Pub = "02" + strings.Repeat("cd", 32)
				break
			}
		}, 1, "not by node"},
		{"not in the graph", func(g fakeGraph) {
			for k := range g {
				delete(g, k)
				break
			}
		}, 1, "is not in your lnd's graph"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := fakeGraph{}
			for k, e := range honest {
				g[k] = proto.Clone(e).(*lnrpc.ChannelEdge)
			}
			c.edit(g)
			var out bytes.Buffer
			r := &runner{ctx: context.Background(), out: &out}
			r.checkAnnounced(context.Background(), a, &lndConn{graphClient: g})
			if r.failures != c.fails || !strings.Contains(out.String(), c.want) {
				t.Fatalf("%d failures (want %d), output lacks %q:\n%s", r.failures, c.fails, c.want, out.String())
			}
		})
	}
}

// TestRequireAnchor: a holder who requires an anchor fails an attestation
// that lists none, node or no node; one that lists an anchor is not failed
// for it.
func TestRequireAnchor(t *testing.T) {
	const sentence = "lists no bitcoin anchor, and you require one (--require-anchor)"
	plain := filepath.Join(vectors, "chain-v2")
	doc := filepath.Join(plain, firstFile(t, plain, "000003-"))
	if code, out := run(t, "attestation", doc, "--require-anchor"); code != 1 || !strings.Contains(out, sentence) {
		t.Fatalf("unanchored attestation with --require-anchor: exit %d\n%s", code, out)
	}
	if _, out := run(t, "attestation", doc); strings.Contains(out, sentence) {
		t.Fatalf("unanchored attestation without --require-anchor fails for it:\n%s", out)
	}
	anchored := filepath.Join(vectors, "chain-anchored")
	if _, out := run(t, "attestation", filepath.Join(anchored, firstFile(t, anchored, "000003-")), "--require-anchor"); strings.Contains(out, sentence) {
		t.Fatalf("anchored attestation failed for lacking an anchor:\n%s", out)
	}
}

// TestVersion3Commands: a holder checks a version 2 bundle and an absence
// statement of the version 3 vectors, with and without receipts, and the
// exit status and sentence follow the exact receipt rule
// (docs/proofs.md 6.2).
func TestVersion3Commands(t *testing.T) {
	v := loadVectors(t)
	dir := filepath.Join(vectors, "chain-v3")
	att := filepath.Join(dir, firstFile(t, dir, "000003-"))
	tmp := t.TempDir()
	receipts := map[string]string{}
	for _, b := range v.BundlesV3 {
		if b.Receipt != "" {
			p := filepath.Join(tmp, fmt.Sprintf("r%d.json", len(receipts)))
			if err := os.WriteFile(p, []byte(b.Receipt), 0o600); err != nil {
				t.Fatal(err)
			}
			receipts[b.Name] = p
		}
	}
	for _, b := range v.Absences {
		if b.Receipt != "" {
			p := filepath.Join(tmp, fmt.Sprintf("r%d.json", len(receipts)))
			if err := os.WriteFile(p, []byte(b.Receipt), 0o600); err != nil {
				t.Fatal(err)
			}
			receipts[b.Name] = p
		}
	}
	bundle := filepath.Join(vectors, "bundle-v2.json")
	absence := filepath.Join(vectors, "absence.json")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bundle", []string{"inclusion", "--attestation", att, "--proof", bundle}, policyOnly, "2 shares at positions"},
		{"bundle, receipt at the leaf's entry", []string{"inclusion", "--attestation", att, "--proof", bundle, "--receipt", receipts["v3: receipt at the leaf's entry, same balance"]},
			policyOnly, "agrees with the attestation's leaf"},
		{"bundle, later receipt", []string{"inclusion", "--attestation", att, "--proof", bundle, "--receipt", receipts["v3: receipt of a later entry before the cut-off, same balance"]},
			1, "the tree leaves it out"},
		{"bundle, superseded receipt", []string{"inclusion", "--attestation", att, "--proof", bundle, "--receipt", receipts["v3: older receipt showing more (superseded)"]},
			policyOnly, "a later entry superseded it"},
		{"bundle against version 1", []string{"inclusion", "--attestation", filepath.Join(vectors, "latest.json"), "--proof", bundle}, 1, "The inclusion proof is for attestation"},
		{"absent", []string{"absent", "--attestation", att, "--statement", absence}, policyOnly, "is absent from the INR liability tree of attestation 3"},
		{"absent, receipt showing a balance", []string{"absent", "--attestation", att, "--statement", absence, "--receipt", receipts["absent, receipt at the named entry showing a balance"]},
			1, "shows 500"},
		{"absent, receipt of 0", []string{"absent", "--attestation", att, "--statement", absence, "--receipt", receipts["absent, receipt at the named entry showing 0"]},
			policyOnly, "agrees with the statement"},
		{"absent missing flag", []string{"absent", "--attestation", att}, 2, "needs --attestation and --statement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(t, tc.args...)
			if tc.code == policyOnly {
				if msg := onlyUnsourced(code, out); msg != "" || !strings.Contains(out, tc.want) {
					t.Fatalf("%s; or output lacks %q:\n%s", msg, tc.want, out)
				}
				return
			}
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}
