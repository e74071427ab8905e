package lightning

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc"
)

// fakeNode is an lnd wallet as lnrpc shows it, and chain the UTXO set our
// own chain backend shows (mempool excluded). Tests move both by hand.
type fakeNode struct {
	lnrpc.LightningClient
	tip   uint32
	utxos []*lnrpc.Utxo
	txs   []*lnrpc.Transaction
}

func (f *fakeNode) GetInfo(context.Context, *lnrpc.GetInfoRequest, ...grpc.CallOption) (*lnrpc.GetInfoResponse, error) {
	return &lnrpc.GetInfoResponse{IdentityPubkey: "02ab", BlockHeight: f.tip, SyncedToChain: true}, nil
}

func (f *fakeNode) ListChannels(context.Context, *lnrpc.ListChannelsRequest, ...grpc.CallOption) (*lnrpc.ListChannelsResponse, error) {
	return &lnrpc.ListChannelsResponse{}, nil
}

func (f *fakeNode) PendingChannels(context.Context, *lnrpc.PendingChannelsRequest, ...grpc.CallOption) (*lnrpc.PendingChannelsResponse, error) {
	return &lnrpc.PendingChannelsResponse{}, nil
}

func (f *fakeNode) ListUnspent(context.Context, *lnrpc.ListUnspentRequest, ...grpc.CallOption) (*lnrpc.ListUnspentResponse, error) {
	return &lnrpc.ListUnspentResponse{Utxos: f.utxos}, nil
}

// GetTransactions answers as lnd does: transactions from StartHeight up,
// unconfirmed ones included (EndHeight -1).
func (f *fakeNode) GetTransactions(_ context.Context, in *lnrpc.GetTransactionsRequest, _ ...grpc.CallOption) (*lnrpc.TransactionDetails, error) {
	if in.EndHeight != -1 {
		return nil, fmt.Errorf("fake: EndHeight %d, want -1", in.EndHeight)
	}
	out := &lnrpc.TransactionDetails{}
	for _, t := range f.txs {
		if t.NumConfirmations == 0 || t.BlockHeight >= in.StartHeight {
			out.Transactions = append(out.Transactions, t)
		}
	}
	return out, nil
}

type spendChain struct {
	tip  int64
	outs map[string]btcjson.GetTxOutResult // "txid:vout" -> confirmations, value
	// epoch, if set, gives the best block (by number) at each lookup: a
	// backend receiving blocks while it is asked.
	epoch func(call int) int
	calls int
}

var bestHash = chainhash.DoubleHashH([]byte("best"))

func (c *spendChain) best() chainhash.Hash {
	if c.epoch != nil {
		return chainhash.DoubleHashH([]byte(fmt.Sprint("best", c.epoch(c.calls))))
	}
	return bestHash
}

func (c *spendChain) GetTxOut(h *chainhash.Hash, index uint32, mempool bool) (*btcjson.GetTxOutResult, error) {
	if mempool {
		return nil, fmt.Errorf("fake: the mempool must not be asked")
	}
	c.calls++
	o, ok := c.outs[fmt.Sprintf("%s:%d", h, index)]
	if !ok {
		return nil, nil
	}
	o.BestBlock = c.best().String()
	return &o, nil
}

func (c *spendChain) GetBlockHeaderVerbose(h *chainhash.Hash) (*btcjson.GetBlockHeaderVerboseResult, error) {
	return &btcjson.GetBlockHeaderVerboseResult{Hash: h.String(), Height: int32(c.tip)}, nil
}

// world is the node's wallet and our backend's UTXO set, built from
// transactions that tests confirm, spend and reorg.
type world struct {
	t     *testing.T
	node  *fakeNode
	chain *spendChain
	src   *Source
	// per transaction: height (0 = unconfirmed, -1 = gone) and outputs.
	height map[string]int64
	outs   map[string][]out
	ins    map[string][]*lnrpc.PreviousOutPoint
	spent  map[string]string // outpoint -> spending txid
	order  []string
}

type out struct {
	value int64
	ours  bool
}

const minConf = 6

func newWorld(t *testing.T) *world {
	w := &world{t: t, node: &fakeNode{tip: 100}, chain: &spendChain{tip: 100}, height: map[string]int64{},
		outs: map[string][]out{}, ins: map[string][]*lnrpc.PreviousOutPoint{}, spent: map[string]string{}}
	w.src = &Source{cfg: Config{Name: "alice", MinConf: minConf, Prover: allProven{}}, client: w.node, chain: w.chain, announced: map[uint64]bool{}}
	return w
}

func spendTxid(name string) string { return chainhash.DoubleHashH([]byte(name)).String() }

func op(name string, i int) string { return fmt.Sprintf("%s:%d", spendTxid(name), i) }

// tx adds transaction name spending ins (outpoints; ours says whether lnd
// marks them the wallet's), at height (0: unconfirmed).
func (w *world) tx(name string, height int64, ins map[string]bool, outs ...out) {
	id := spendTxid(name)
	w.height[id], w.outs[id] = height, outs
	w.order = append(w.order, id)
	for o, ours := range ins {
		w.ins[id] = append(w.ins[id], &lnrpc.PreviousOutPoint{Outpoint: o, IsOurOutput: ours})
		w.spent[o] = id
	}
	w.sync()
}

// setHeight confirms (h > 0), un-confirms (0) or drops (-1) a transaction.
func (w *world) setHeight(name string, h int64) {
	id := spendTxid(name)
	w.height[id] = h
	if h < 0 {
		for _, in := range w.ins[id] {
			delete(w.spent, in.Outpoint)
		}
	}
	w.sync()
}

// mine moves both tips.
func (w *world) mine(n int64) {
	w.node.tip += uint32(n)
	w.chain.tip += n
	w.sync()
}

// sync derives what lnd and our backend show.
func (w *world) sync() {
	w.node.utxos, w.node.txs = nil, nil
	w.chain.outs = map[string]btcjson.GetTxOutResult{}
	for _, id := range w.order {
		h := w.height[id]
		if h < 0 {
			continue
		}
		confs := int64(0)
		if h > 0 {
			confs = int64(w.node.tip) - h + 1
		}
		t := &lnrpc.Transaction{TxHash: id, NumConfirmations: int32(confs), BlockHeight: int32(h), PreviousOutpoints: w.ins[id]}
		w.node.txs = append(w.node.txs, t)
		for i, o := range w.outs[id] {
			point := fmt.Sprintf("%s:%d", id, i)
			spender, spent := w.spent[point]
			spentOnChain := spent && w.height[spender] > 0
			if h > 0 && !spentOnChain {
				w.chain.outs[point] = btcjson.GetTxOutResult{Confirmations: w.chain.tip - h + 1,
					Value: btcutil.Amount(o.value).ToBTC()}
			}
			// lnd lists its outputs unspent unless a transaction of its
			// own (confirmed or not) spends them.
			if o.ours && (!spent || w.height[spender] < 0) {
				w.node.utxos = append(w.node.utxos, &lnrpc.Utxo{AmountSat: o.value, Confirmations: confs,
					Outpoint: &lnrpc.OutPoint{TxidStr: id, OutputIndex: uint32(i)}})
			}
		}
	}
}

type counts struct{ confirmed, change, spending, immature int64 }

func (w *world) poll() counts {
	w.t.Helper()
	r, err := w.src.Poll(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	var listed int64
	for _, o := range r.Wallet {
		if o.Counted {
			listed += o.Value
		}
	}
	c := counts{r.WalletCounted, r.WalletChange, r.WalletSpending, r.WalletImmature}
	if listed != r.Counted() || r.Counted() != c.confirmed+c.change+c.spending {
		w.t.Fatalf("counted %d, counted outputs listed %d, classes %+v", r.Counted(), listed, c)
	}
	return c
}

// listed returns the wallet output the last poll listed at outpoint.
func (w *world) listed(outpoint string) (WalletOutput, bool) {
	w.t.Helper()
	r, err := w.src.Poll(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, o := range r.Wallet {
		if o.Outpoint == outpoint {
			return o, true
		}
	}
	return WalletOutput{}, false
}

// wantListed checks an output is listed, counted, at height (as our
// backend has it: what attestations state).
func (w *world) wantListed(what, outpoint string, value, height int64) {
	w.t.Helper()
	o, ok := w.listed(outpoint)
	if !ok || !o.Counted || o.Value != value || o.FundingHeight != height {
		w.t.Fatalf("%s: %s listed %v as %+v, want counted, %d sats at height %d", what, outpoint, ok, o, value, height)
	}
}

func (w *world) want(what string, want counts) {
	w.t.Helper()
	if got := w.poll(); got != want {
		w.t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

// TestWalletSpendCounting walks the node's own on-chain payout through
// broadcast, confirmation, a reorg that un-confirms it, re-confirmation and
// MinConf: the input counts until the payout confirms, the change from
// then on, never both, and never a sat more than the wallet holds.
func TestWalletSpendCounting(t *testing.T) {
	w := newWorld(t)
	// A deposit from outside, 60 blocks deep: counted.
	w.tx("funding", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
	w.want("before the payout", counts{confirmed: 1_000_000})

	// The payout is broadcast: lnd lists the input spent and the change
	// unconfirmed; on-chain the input is still unspent, and still counts.
	w.tx("payout", 0, map[string]bool{op("funding", 0): true}, out{50_000, false}, out{949_000, true})
	w.want("payout in the mempool", counts{spending: 1_000_000, immature: 949_000})
	w.wantListed("payout in the mempool", op("funding", 0), 1_000_000, 41)

	// One confirmation: the input is spent, the change counts.
	w.mine(1)
	w.setHeight("payout", 101)
	w.want("payout confirmed", counts{change: 949_000})
	w.wantListed("payout confirmed", op("payout", 1), 949_000, 101)
	if _, ok := w.listed(op("funding", 0)); ok {
		w.t.Fatal("the spent input is still listed")
	}

	// A reorg takes the payout out of the chain (back to the mempool): the
	// input counts again, the change stops counting.
	w.setHeight("payout", 0)
	w.want("payout reorged out", counts{spending: 1_000_000, immature: 949_000})

	// Mined again, then old enough: the change moves to the confirmed class.
	w.mine(1)
	w.setHeight("payout", 102)
	w.want("payout confirmed again", counts{change: 949_000})
	w.mine(4)
	w.want("payout at 5 confirmations", counts{change: 949_000})
	w.mine(1)
	w.want("payout at 6 confirmations", counts{confirmed: 949_000})
}

// TestWalletSpendConservative: change counts early only from a confirmed
// transaction of the node's own whose every input counted; anything else
// waits for MinConf confirmations.
func TestWalletSpendConservative(t *testing.T) {
	t.Run("an input not yet old enough", func(t *testing.T) {
		w := newWorld(t)
		w.tx("old", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
		w.tx("young", 99, map[string]bool{spendTxid("outside2") + ":0": false}, out{20_000, true})
		w.want("two deposits", counts{confirmed: 1_000_000, immature: 20_000})
		w.tx("payout", 0, map[string]bool{op("old", 0): true, op("young", 0): true}, out{50_000, false}, out{969_000, true})
		// The young input is still not counted while it is being spent.
		w.want("payout in the mempool", counts{spending: 1_000_000, immature: 20_000 + 969_000})
		w.mine(1)
		w.setHeight("payout", 101)
		w.want("payout confirmed", counts{immature: 969_000})
		w.mine(5)
		w.want("change at MinConf", counts{confirmed: 969_000})
	})
	t.Run("an input that is not the wallet's", func(t *testing.T) {
		w := newWorld(t)
		w.tx("old", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
		w.tx("joint", 0, map[string]bool{op("old", 0): true, spendTxid("theirs") + ":3": false}, out{1_500_000, true})
		w.want("joint in the mempool", counts{spending: 1_000_000, immature: 1_500_000})
		w.mine(1)
		w.setHeight("joint", 101)
		w.want("joint confirmed", counts{immature: 1_500_000})
	})
	t.Run("lnd names no inputs", func(t *testing.T) {
		w := newWorld(t)
		w.tx("old", 41, nil, out{1_000_000, true})
		w.tx("payout", 101, nil, out{949_000, true})
		w.mine(1)
		w.want("payout confirmed without inputs", counts{confirmed: 1_000_000, immature: 949_000})
	})
	t.Run("our backend does not see the change", func(t *testing.T) {
		w := newWorld(t)
		w.tx("old", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
		w.tx("payout", 0, map[string]bool{op("old", 0): true}, out{50_000, false}, out{949_000, true})
		w.mine(1)
		w.setHeight("payout", 101)
		delete(w.chain.outs, op("payout", 1))
		w.want("change unknown to our backend", counts{immature: 949_000})
	})
	t.Run("a chain of payouts", func(t *testing.T) {
		w := newWorld(t)
		w.tx("old", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
		w.tx("payout1", 0, map[string]bool{op("old", 0): true}, out{50_000, false}, out{949_000, true})
		w.mine(1)
		w.setHeight("payout1", 101)
		// The second payout spends the first one's early-counted change:
		// it keeps counting while the second is in the mempool, and the
		// second's change counts when it confirms.
		w.tx("payout2", 0, map[string]bool{op("payout1", 1): true}, out{40_000, false}, out{908_000, true})
		w.want("second payout in the mempool", counts{spending: 949_000, immature: 908_000})
		w.mine(1)
		w.setHeight("payout2", 102)
		w.want("second payout confirmed", counts{change: 908_000})
		// A reorg of both: the first input is back; the first change, spent
		// by the second payout and on-chain nowhere, is not listed at all.
		w.setHeight("payout2", 0)
		w.setHeight("payout1", 0)
		w.want("both reorged out", counts{spending: 1_000_000, immature: 908_000})
	})
	t.Run("an input spent on-chain by another transaction", func(t *testing.T) {
		w := newWorld(t)
		w.tx("old", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
		w.tx("payout", 0, map[string]bool{op("old", 0): true}, out{949_000, true})
		// Our backend no longer has the input (a conflicting spend won).
		delete(w.chain.outs, op("old", 0))
		w.want("input gone on-chain", counts{immature: 949_000})
	})
}

// TestWalletSpendLag: lnd and our backend see a block at different
// moments. Our backend decides whether the spend is in a block, so the
// count moves from the input to the change exactly when the backend's
// UTXO set does, whichever of the two is behind.
func TestWalletSpendLag(t *testing.T) {
	setup := func(t *testing.T) *world {
		w := newWorld(t)
		w.tx("old", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
		w.tx("payout", 0, map[string]bool{op("old", 0): true}, out{50_000, false}, out{949_000, true})
		return w
	}
	t.Run("lnd behind", func(t *testing.T) {
		w := setup(t)
		// Our backend has the payout in block 101; lnd has not seen it.
		w.chain.tip = 101
		delete(w.chain.outs, op("old", 0))
		w.chain.outs[op("payout", 1)] = btcjson.GetTxOutResult{Confirmations: 1, Value: btcutil.Amount(949_000).ToBTC()}
		w.want("lnd behind our backend", counts{change: 949_000})
		w.wantListed("lnd behind our backend", op("payout", 1), 949_000, 101)
	})
	t.Run("backend behind", func(t *testing.T) {
		w := setup(t)
		// lnd has the payout confirmed; our backend is one block behind.
		w.mine(1)
		w.setHeight("payout", 101)
		w.chain.tip = 100
		delete(w.chain.outs, op("payout", 1))
		w.chain.outs[op("old", 0)] = btcjson.GetTxOutResult{Confirmations: 60, Value: btcutil.Amount(1_000_000).ToBTC()}
		w.want("our backend behind lnd", counts{spending: 1_000_000, immature: 949_000})
	})
	t.Run("backend moves during the count", func(t *testing.T) {
		w := setup(t)
		w.tx("other", 41, map[string]bool{spendTxid("outside3") + ":0": false}, out{30_000, true})
		// A count looks up three outputs (the change, missing, and two that
		// are there): a new best block at every lookup never settles.
		w.chain.epoch = func(call int) int { return call }
		if _, err := w.src.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "best block changed") {
			t.Fatalf("poll while the backend moves at every lookup: %v, want an error", err)
		}
		// One new block between the first count's two found outputs: the
		// second count is consistent.
		w.chain.calls = 0
		w.chain.epoch = func(call int) int { return min(call/3, 1) }
		w.want("after one retry", counts{confirmed: 30_000, spending: 1_000_000, immature: 949_000})
		if w.chain.calls != 6 {
			t.Fatalf("%d lookups, want 6 (two counts)", w.chain.calls)
		}
	})
}

// TestWalletSpendWindow: the source asks lnd only for transactions younger
// than MinConf (and unconfirmed ones), never the wallet's whole history,
// and takes a transaction missing from that window as old enough.
func TestWalletSpendWindow(t *testing.T) {
	w := newWorld(t)
	w.tx("old", 41, map[string]bool{spendTxid("outside") + ":0": false}, out{1_000_000, true})
	w.tx("payout", 0, map[string]bool{op("old", 0): true}, out{949_000, true})
	rec, err := w.src.recentTransactions(context.Background(), w.node.tip)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.byID) != 1 || rec.byID[spendTxid("payout")] == nil {
		t.Fatalf("window holds %d transactions, want only the payout", len(rec.byID))
	}
	if !rec.ownSpend(spendTxid("payout")) || rec.ownSpend(spendTxid("old")) {
		t.Fatal("the payout of an output older than the window is an own spend; the old deposit is not in the window")
	}
}
