package itest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/lightningnetwork/lnd/lnrpc"
)

func TestMain(m *testing.M) { harness.Main(m, harness.Config{}) }

// anchorSats is the value of each anchor output on an anchors commitment.
const anchorSats = 330

// freshAddress returns a regtest P2WPKH address nobody holds a key for,
// distinct per test, harness and label.
func freshAddress(t testing.TB, h *harness.Harness, label string) string {
	t.Helper()
	var hash [20]byte
	copy(hash[:], chainhash.DoubleHashB([]byte(t.Name() + h.Dir() + label))[:20])
	addr, err := btcutil.NewAddressWitnessPubKeyHash(hash[:], h.Params())
	if err != nil {
		t.Fatal(err)
	}
	return addr.EncodeAddress()
}

// TestBtcdMiningAndFunding: btcd is up, mines, and an address funded by the
// harness shows its exact output at the right confirmation counts.
func TestBtcdMiningAndFunding(t *testing.T) {
	h := harness.Shared(t)
	c := h.Client()

	_, start, err := c.GetBestBlock()
	if err != nil {
		t.Fatal(err)
	}
	if start < 432 {
		t.Fatalf("initial chain height %d, want >= 432 (segwit active)", start)
	}
	hashes := h.Mine(t, 3)
	if len(hashes) != 3 {
		t.Fatalf("mined %d blocks, want 3", len(hashes))
	}
	best, height, err := c.GetBestBlock()
	if err != nil {
		t.Fatal(err)
	}
	if height != start+3 || !best.IsEqual(hashes[2]) {
		t.Fatalf("tip %s at %d, want %s at %d", best, height, hashes[2], start+3)
	}

	addr := freshAddress(t, h, "a")
	const amount = 1_234_567
	txid := h.SendToAddress(t, addr, amount)
	vout := h.OutputIndex(t, txid, addr)

	// In the mempool: 0 confirmations.
	out, err := c.GetTxOut(txid, vout, true)
	if err != nil || out == nil {
		t.Fatalf("gettxout (mempool) = %v, %v", out, err)
	}
	if out.Confirmations != 0 {
		t.Fatalf("mempool output has %d confirmations", out.Confirmations)
	}
	if sats := mustAmount(t, out.Value); sats != amount {
		t.Fatalf("output value %d, want %d", sats, amount)
	}

	// Mined: the block holds it, then confirmations count up.
	blk := h.Mine(t, 1)[0]
	block, err := c.GetBlock(blk)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tx := range block.Transactions {
		if tx.TxHash() == *txid {
			found = true
			if got := tx.TxOut[vout].Value; got != amount {
				t.Fatalf("block output value %d, want %d", got, amount)
			}
		}
	}
	if !found {
		t.Fatalf("block %s does not contain %s", blk, txid)
	}
	for want := int64(1); want <= 3; want++ {
		out, err := c.GetTxOut(txid, vout, false)
		if err != nil || out == nil {
			t.Fatalf("gettxout = %v, %v", out, err)
		}
		if out.Confirmations != want {
			t.Fatalf("confirmations %d, want %d", out.Confirmations, want)
		}
		if sats := mustAmount(t, out.Value); sats != amount {
			t.Fatalf("output value %d, want %d", sats, amount)
		}
		h.Mine(t, 1)
	}

	// Many outputs in one transaction, each exact.
	want := map[string]int64{}
	for i, label := range []string{"m1", "m2", "m3", "m4", "m5"} {
		want[freshAddress(t, h, label)] = int64(10_000 * (i + 1))
	}
	multi := h.SendToAddresses(t, want)
	h.Mine(t, 1)
	for a, sats := range want {
		out, err := c.GetTxOut(multi, h.OutputIndex(t, multi, a), false)
		if err != nil || out == nil {
			t.Fatalf("gettxout for %s = %v, %v", a, out, err)
		}
		if got := mustAmount(t, out.Value); got != sats || out.Confirmations != 1 {
			t.Fatalf("%s: %d sat at %d confirmations, want %d at 1", a, got, out.Confirmations, sats)
		}
	}
}

// TestReorgs: InvalidateBlock re-mines the disconnected transaction;
// ReorgDroppingTx loses it for good.
func TestReorgs(t *testing.T) {
	h := harness.Shared(t)
	c := h.Client()
	addr := freshAddress(t, h, "a")

	// Invalidate: the tx goes back to the mempool and is re-confirmed.
	txid := h.SendToAddress(t, addr, 50_000)
	blk := h.Mine(t, 1)[0]
	_, before, _ := c.GetBestBlock()
	repl := h.InvalidateBlock(t, blk, 0)
	if len(repl) != 2 {
		t.Fatalf("replacement chain of %d blocks, want 2", len(repl))
	}
	_, after, _ := c.GetBestBlock()
	if after != before+1 {
		t.Fatalf("height %d after invalidating the tip at %d, want %d", after, before, before+1)
	}
	if conf := h.Confirmations(t, txid); conf != 2 {
		t.Fatalf("tx has %d confirmations after the reorg, want 2 (re-mined)", conf)
	}

	// Drop: a funding tx with 2 confirmations disappears in a depth-3 reorg.
	txid2 := h.SendToAddress(t, addr, 70_000)
	vout := h.OutputIndex(t, txid2, addr)
	h.Mine(t, 2)
	if conf := h.Confirmations(t, txid2); conf != 2 {
		t.Fatalf("tx has %d confirmations, want 2", conf)
	}
	_, tip, _ := c.GetBestBlock()
	newBlocks := h.ReorgDroppingTx(t, txid2, 3)
	if len(newBlocks) != 4 {
		t.Fatalf("reorg built %d blocks, want 4", len(newBlocks))
	}
	_, tip2, _ := c.GetBestBlock()
	if tip2 != tip+1 {
		t.Fatalf("tip %d after the reorg, want %d", tip2, tip+1)
	}
	if out, err := c.GetTxOut(txid2, vout, true); err == nil && out != nil {
		t.Fatalf("dropped output still there: %+v", out)
	}
	// Mining more does not bring it back.
	h.Mine(t, 2)
	if _, err := c.GetRawTransactionVerbose(txid2); err == nil {
		t.Fatalf("dropped tx %s came back", txid2)
	}
	// The harness wallet still works after the reorg.
	h.SendToAddress(t, addr, 1000)
	h.Mine(t, 1)
}

// TestLightning: two lnd nodes funded, a channel opened and paid through,
// balances exact, and a node that stops and restarts keeps working.
func TestLightning(t *testing.T) {
	h := harness.Shared(t)
	nodes := h.NewNodes(t, "alice", "bob")
	alice, bob := nodes[0], nodes[1]

	const (
		aliceFund = 5_000_000
		bobFund   = 2_000_000
	)
	h.FundNode(t, alice, aliceFund)
	h.FundNode(t, bob, bobFund)
	if got := alice.ConfirmedBalance(t); got != aliceFund {
		t.Fatalf("alice confirmed %d, want %d", got, aliceFund)
	}
	if got := bob.ConfirmedBalance(t); got != bobFund {
		t.Fatalf("bob confirmed %d, want %d", got, bobFund)
	}

	const capacity = 1_000_000
	cp := h.OpenChannel(t, alice, bob, capacity, 0)
	ac := alice.Channel(t, cp)
	if ac.Capacity != capacity {
		t.Fatalf("capacity %d, want %d", ac.Capacity, capacity)
	}
	if out, err := h.Client().GetTxOut(lndnode.FundingTxid(cp), cp.OutputIndex, false); err != nil || out == nil {
		t.Fatalf("funding output not on chain: %v %v", out, err)
	} else if sats := mustAmount(t, out.Value); sats != capacity {
		t.Fatalf("funding output %d sat, want %d", sats, capacity)
	}

	const amount = 123_456
	inv := bob.AddInvoice(t, amount, "smoke")
	p := h.Pay(t, alice, inv)
	if p.ValueSat != amount || p.FeeSat != 0 {
		t.Fatalf("payment value %d fee %d, want %d and 0", p.ValueSat, p.FeeSat, amount)
	}

	harness.WaitFor(t, func() error { return settledBalances(alice, bob, cp, amount) }, 30*time.Second)
	ac, bc := alice.Channel(t, cp), bob.Channel(t, cp)
	anchors := int64(0)
	if ac.CommitmentType == lnrpc.CommitmentType_ANCHORS ||
		ac.CommitmentType == lnrpc.CommitmentType_SIMPLE_TAPROOT {
		anchors = 2 * anchorSats
	}
	if bc.LocalBalance != amount {
		t.Fatalf("bob local %d, want %d", bc.LocalBalance, amount)
	}
	if want := capacity - amount - ac.CommitFee - anchors; ac.LocalBalance != want {
		t.Fatalf("alice local %d, want %d = %d - %d - commit fee %d - anchors %d (%s)",
			ac.LocalBalance, want, capacity, amount, ac.CommitFee, anchors, ac.CommitmentType)
	}
	if ac.RemoteBalance != amount || bc.RemoteBalance != ac.LocalBalance {
		t.Fatalf("remote balances alice %d bob %d", ac.RemoteBalance, bc.RemoteBalance)
	}
	t.Logf("channel %s (%s): alice %d, bob %d, commit fee %d, anchors %d",
		lndnode.ChanPointString(cp), ac.CommitmentType, ac.LocalBalance, bc.LocalBalance, ac.CommitFee, anchors)

	// Restart bob: same dir and ports, channel comes back, pays again.
	bob.Restart(t)
	// And kill alice, as a crash would, then start her again.
	alice.Kill(t)
	alice.Start(t)
	h.Mine(t, 1)
	h.WaitSynced(t, alice, bob)
	h.WaitChannelUsable(t, alice, bob, cp)
	const amount2 = 1_000
	h.Pay(t, alice, bob.AddInvoice(t, amount2, "after restart"))
	harness.WaitFor(t, func() error { return settledBalances(alice, bob, cp, amount+amount2) }, 30*time.Second)
}

// mustAmount converts a JSON BTC amount to sats exactly.
func mustAmount(t *testing.T, btc float64) int64 {
	t.Helper()
	a, err := btcutil.NewAmount(btc)
	if err != nil {
		t.Fatal(err)
	}
	return int64(a)
}

// settledBalances checks that bob's side of the channel holds exactly paid
// and nothing is in flight.
func settledBalances(alice, bob *lndnode.Node, cp *lnrpc.ChannelPoint, paid int64) error {
	for _, n := range []*lndnode.Node{alice, bob} {
		c, err := findChannel(n, cp)
		if err != nil {
			return err
		}
		if len(c.PendingHtlcs) != 0 {
			return fmt.Errorf("%s: %d pending htlcs", n, len(c.PendingHtlcs))
		}
	}
	bc, err := findChannel(bob, cp)
	if err != nil {
		return err
	}
	if bc.LocalBalance != paid {
		return fmt.Errorf("bob local balance %d, want %d", bc.LocalBalance, paid)
	}
	return nil
}

func findChannel(n *lndnode.Node, cp *lnrpc.ChannelPoint) (*lnrpc.Channel, error) {
	res, err := n.LN.ListChannels(context.Background(), &lnrpc.ListChannelsRequest{})
	if err != nil {
		return nil, fmt.Errorf("%s: list channels: %w", n, err)
	}
	point := lndnode.ChanPointString(cp)
	for _, c := range res.Channels {
		if c.ChannelPoint == point {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%s: no channel %s", n, point)
}
