package lightning

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
	"github.com/kosh-reserve/kosh/store/provingdb"
	"github.com/kosh-reserve/kosh/store/storetest"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc"
)

const proveMac = "0201036c6e66"

// fakeWallet is lnd's walletkit FinalizePsbt: it signs every input whose
// witness UTXO pays one of its keys' P2WPKH scripts, as lnd signs the
// inputs of its own wallet, and returns the final transaction.
type fakeWallet struct {
	walletrpc.WalletKitClient
	t     *testing.T
	keys  []*ct.Output
	calls int
}

func (w *fakeWallet) FinalizePsbt(ctx context.Context, in *walletrpc.FinalizePsbtRequest, _ ...grpc.CallOption) (*walletrpc.FinalizePsbtResponse, error) {
	w.calls++
	if err := (&fakeLnd{t: w.t}).check(ctx, "FinalizePsbt", proveMac); err != nil {
		return nil, err
	}
	p, err := psbt.NewFromRawBytes(bytes.NewReader(in.FundedPsbt), false)
	if err != nil {
		return nil, err
	}
	f := txscript.NewMultiPrevOutFetcher(nil)
	for i, txIn := range p.UnsignedTx.TxIn {
		f.AddPrevOut(txIn.PreviousOutPoint, p.Inputs[i].WitnessUtxo)
	}
	hashes := txscript.NewTxSigHashes(p.UnsignedTx, f)
	for i := range p.Inputs {
		for _, k := range w.keys {
			if !bytes.Equal(p.Inputs[i].WitnessUtxo.PkScript, k.Script) {
				continue
			}
			wit, err := txscript.WitnessSignature(p.UnsignedTx, hashes, i, k.Value, k.Script, txscript.SigHashAll, k.Keys[0], true)
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			psbt.WriteTxWitness(&b, wit)
			p.Inputs[i].FinalScriptWitness = b.Bytes()
		}
	}
	tx, err := psbt.Extract(p)
	if err != nil {
		return nil, fmt.Errorf("error finalizing PSBT: %w", err)
	}
	var raw bytes.Buffer
	tx.Serialize(&raw)
	return &walletrpc.FinalizePsbtResponse{RawFinalTx: raw.Bytes()}, nil
}

// TestPollEvidenceAndProofs: an announced channel counts; a private one and
// a public one not (yet) in the graph are claims; the node's wallet outputs
// count only once proven, which the node does by FinalizePsbt with its
// proof macaroon, storing a proof that verifies; without that macaroon they
// are listed and not counted, saying why.
func TestPollEvidenceAndProofs(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	hash := func(h int64) string { s := sha256.Sum256([]byte(fmt.Sprint(h))); return fmt.Sprintf("%x", s) }
	if err := chaindb.New(db).Write(ctx, func(tx chain.StoreTx) error {
		return tx.InsertChainBlock(ctx, chain.StoredBlock{Height: height, Hash: hash(height)})
	}); err != nil {
		t.Fatal(err)
	}
	book, err := proving.New(ctx, proving.Config{DB: provingdb.New(db), IssuerKey: strings.Repeat("ab", 32), MaxAge: 100})
	if err != nil {
		t.Fatal(err)
	}
	w1 := ct.NewOutput(ct.P2WPKH, "wallet 1", 0, 70_000, 0, ct.Key("lnd wallet 1"))
	w2 := ct.NewOutput(ct.P2WPKH, "wallet 2", 2, 80_000, 0, ct.Key("lnd wallet 2"))
	lndUtxo := func(o *ct.Output) *lnrpc.Utxo {
		return &lnrpc.Utxo{AmountSat: o.Value, Confirmations: 5, PkScript: fmt.Sprintf("%x", o.Script),
			Outpoint: &lnrpc.OutPoint{TxidStr: o.OutPoint.Hash.String(), OutputIndex: o.OutPoint.Index}}
	}
	private := channel(2, 200_000, 150_000, 2_000)
	private.Private, private.ChanId = true, scid(701)
	unannounced := channel(3, 300_000, 100_000, 3_000)
	unannounced.ChanId = scid(702)
	lnd := &fakeLnd{t: t, channels: []*lnrpc.Channel{channel(1, 1_000_000, 600_000, 10_000), private, unannounced},
		unannounced: map[string]bool{point(3): true}, utxos: []*lnrpc.Utxo{lndUtxo(w1), lndUtxo(w2)},
		info: &lnrpc.GetInfoResponse{IdentityPubkey: nodeKey, BlockHeight: height, BlockHash: hash(height), SyncedToChain: true}}
	chain := &fakeChain{outs: funded(1, 6, 1_000_000, 2, 6, 200_000, 3, 6, 300_000)}
	chain.outs[w1.OutPoint.String()] = chainOut{conf: 5, value: w1.Value}
	chain.outs[w2.OutPoint.String()] = chainOut{conf: 5, value: w2.Value}
	wallet := &fakeWallet{t: t, keys: []*ct.Output{w1, w2}}
	src := &Source{cfg: Config{Name: "carol", MinConf: 3, Prover: book}, client: lnd, wallet: wallet,
		chain: chain, announced: map[uint64]bool{}}

	// Without the proof macaroon: listed, not counted, and why.
	r, err := src.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.WalletCounted != 0 || r.WalletUnproven != 150_000 || wallet.calls != 0 {
		t.Fatalf("without a proof macaroon: counted %d, unproven %d, FinalizePsbt calls %d", r.WalletCounted, r.WalletUnproven, wallet.calls)
	}
	for _, w := range r.Wallet {
		if w.Counted || !strings.Contains(w.Why, "no proof of control") {
			t.Errorf("wallet output %s: counted %v, why %q", w.Outpoint, w.Counted, w.Why)
		}
	}
	if r.ChannelsCounted != 590_000 || r.ChannelsClaimed != 148_000+97_000 {
		t.Errorf("channels counted %d, claimed %d; want the announced channel's 590000 and the two claims' 245000", r.ChannelsCounted, r.ChannelsClaimed)
	}
	if r.Counted() != 590_000 {
		t.Errorf("Counted() = %d: claims and unproven outputs must not count", r.Counted())
	}
	for i, ann := range []bool{true, false, false} {
		if r.Channels[i].Announced != ann {
			t.Errorf("channel %d announced %v, want %v", i+1, r.Channels[i].Announced, ann)
		}
	}

	// With it: the node proves both outputs at the challenge block, once.
	src.prove = testMac(proveMac)
	if r, err = src.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if r.WalletCounted != 150_000 || r.WalletUnproven != 0 || wallet.calls != 1 {
		t.Fatalf("with a proof macaroon: counted %d, unproven %d, FinalizePsbt calls %d (%s)", r.WalletCounted, r.WalletUnproven, wallet.calls, src.ProveError())
	}
	if st := book.Status(w1.OutPoint.String(), height); !st.Counts || st.Proof.Source != "carol" {
		t.Fatalf("stored proof: %+v", st)
	}
	if r, err = src.Poll(ctx); err != nil || r.WalletCounted != 150_000 || wallet.calls != 1 {
		t.Fatalf("a second poll proved again (%d calls) or lost the count (%d): %v", wallet.calls, r.WalletCounted, err)
	}
}

// TestAnnouncedNeedsTheNodesEdge: a channel is announced only when the
// graph's edge for its short channel id names the same channel point, the
// node as one end, and carries an authentication proof. A channel point
// that is some other output of the same value (the graph knows the id as
// another outpoint), an edge between two other nodes, or one without its
// proof leave the channel a claim, not counted.
func TestAnnouncedNeedsTheNodesEdge(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		edit func(*lnrpc.ChannelEdge)
		ann  bool
	}{
		{"the node's edge", nil, true},
		{"another output of the same value", func(e *lnrpc.ChannelEdge) { e.ChanPoint = point(7) }, false},
		{"an edge between two other nodes", func(e *lnrpc.ChannelEdge) { e.Node1Pub = "02" + txid(8)[2:] }, false},
		{"no authentication proof", func(e *lnrpc.ChannelEdge) { e.AuthProof = nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lnd := &fakeLnd{t: t, channels: []*lnrpc.Channel{channel(1, 1_000_000, 600_000, 10_000)},
				info: &lnrpc.GetInfoResponse{IdentityPubkey: nodeKey, BlockHeight: 800_000, SyncedToChain: true}}
			if tc.edit != nil {
				lnd.edges = map[string]func(*lnrpc.ChannelEdge){point(1): tc.edit}
			}
			src := &Source{cfg: Config{Name: "carol", MinConf: 3}, client: lnd,
				chain: &fakeChain{outs: funded(1, 6, 1_000_000)}, announced: map[uint64]bool{}}
			r, err := src.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			counted, claimed := int64(590_000), int64(0)
			if !tc.ann {
				counted, claimed = 0, 590_000
			}
			if r.Channels[0].Announced != tc.ann || r.ChannelsCounted != counted || r.ChannelsClaimed != claimed {
				t.Errorf("announced %v, counted %d, claimed %d; want %v, %d, %d",
					r.Channels[0].Announced, r.ChannelsCounted, r.ChannelsClaimed, tc.ann, counted, claimed)
			}
		})
	}
}
