package harness

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
)

// WaitFor polls cond until it returns nil, failing the test with cond's last
// error if that does not happen within timeout (or the test's context ends).
func WaitFor(t testing.TB, cond func() error, timeout time.Duration) {
	t.Helper()
	if err := waitFor(t.Context(), cond, timeout); err != nil {
		t.Fatal(err)
	}
}

func waitFor(ctx context.Context, cond func() error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 20 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait %s: %w: last: %w", timeout, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// WaitSynced waits until every node is synced to chain at btcd's tip.
func (h *Harness) WaitSynced(t testing.TB, nodes ...*lndnode.Node) {
	t.Helper()
	_, height, err := h.client.GetBestBlock()
	if err != nil {
		t.Fatalf("get best block: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() {
			errs[i] = waitFor(t.Context(), func() error {
				info, err := n.LN.GetInfo(t.Context(), &lnrpc.GetInfoRequest{})
				if err != nil {
					return err
				}
				if !info.SyncedToChain || int32(info.BlockHeight) != height {
					return fmt.Errorf("lnd %s: synced=%v at %d, btcd at %d", n.Name, info.SyncedToChain, info.BlockHeight, height)
				}
				return nil
			}, 30*time.Second)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// FundNode sends sats to a new address of n, mines one block, and waits until
// n's confirmed wallet balance has grown by exactly sats. It returns the
// funding txid.
func (h *Harness) FundNode(t testing.TB, n *lndnode.Node, sats int64) *chainhash.Hash {
	t.Helper()
	before := n.ConfirmedBalance(t)
	txid := h.SendToAddress(t, n.NewAddress(t), sats)
	h.Mine(t, 1)
	if c := h.Confirmations(t, txid); c != 1 {
		t.Fatalf("funding tx %s has %d confirmations after mining, want 1", txid, c)
	}
	want := before + sats
	WaitFor(t, func() error {
		got := n.ConfirmedBalance(t)
		if got != want {
			return fmt.Errorf("lnd %s confirmed balance %d, want %d", n.Name, got, want)
		}
		return nil
	}, 30*time.Second)
	return txid
}

// ConnectPeers connects a to b (a dials b's 127.0.0.1 listener) and waits
// until each lists the other as a peer. Already connected is fine.
func (h *Harness) ConnectPeers(t testing.TB, a, b *lndnode.Node) {
	t.Helper()
	_, err := a.LN.ConnectPeer(t.Context(), &lnrpc.ConnectPeerRequest{
		Addr:    &lnrpc.LightningAddress{Pubkey: b.PubKey, Host: b.P2PAddr},
		Timeout: 20,
	})
	if err != nil && !strings.Contains(err.Error(), "already connected") {
		t.Fatalf("connect %s to %s: %v", a.Name, b.Name, err)
	}
	isPeer := func(x, y *lndnode.Node) error {
		res, err := x.LN.ListPeers(t.Context(), &lnrpc.ListPeersRequest{})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(res.Peers, func(p *lnrpc.Peer) bool { return p.PubKey == y.PubKey }) {
			return fmt.Errorf("%s does not list %s as peer", x.Name, y.Name)
		}
		return nil
	}
	WaitFor(t, func() error { return errors.Join(isPeer(a, b), isPeer(b, a)) }, 20*time.Second)
}

// OpenChannel opens a channel from a to b of capacity sats, pushing push
// sats to b, funded at the harness fee rate; it connects the peers if needed,
// mines the funding transaction, and waits until the channel is active on
// both sides. It returns the channel point.
func (h *Harness) OpenChannel(t testing.TB, a, b *lndnode.Node, capacity, push int64) *lnrpc.ChannelPoint {
	t.Helper()
	h.ConnectPeers(t, a, b)
	pub, err := hexPubKey(b.PubKey)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := a.LN.OpenChannelSync(t.Context(), &lnrpc.OpenChannelRequest{
		NodePubkey:         pub,
		LocalFundingAmount: capacity,
		PushSat:            push,
		SatPerVbyte:        uint64(h.cfg.FeeRate),
	})
	if err != nil {
		t.Fatalf("open channel %s->%s: %v", a.Name, b.Name, err)
	}
	fundingTxid := lndnode.FundingTxid(cp)
	WaitFor(t, func() error {
		pool, err := h.client.GetRawMempool()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(pool, func(x *chainhash.Hash) bool { return x.IsEqual(fundingTxid) }) {
			return fmt.Errorf("funding tx %s not in btcd's mempool", fundingTxid)
		}
		return nil
	}, 20*time.Second)
	h.Mine(t, 1)
	h.WaitChannelUsable(t, a, b, cp)
	point := lndnode.ChanPointString(cp)
	t.Logf("harness: channel %s %s->%s active, capacity %d, push %d", point, a.Name, b.Name, capacity, push)
	return cp
}

// WaitChannelUsable waits until the channel between a and b is active on both
// sides and each side whose spendable balance is well above its reserve can
// route 1 sat to the other. ListChannels reports a channel active before
// lnd's link will forward over it (the link waits for the peer's
// channel_ready or channel_reestablish); paying in that gap fails with
// "insufficient balance", so this is checked with QueryRoutes, which uses the
// same link bandwidth.
func (h *Harness) WaitChannelUsable(t testing.TB, a, b *lndnode.Node, cp *lnrpc.ChannelPoint) {
	t.Helper()
	point := lndnode.ChanPointString(cp)
	WaitFor(t, func() error {
		return errors.Join(usableTowards(t.Context(), a, b, point), usableTowards(t.Context(), b, a, point))
	}, 60*time.Second)
}

// usableTowards checks n's side of the channel at point towards peer.
func usableTowards(ctx context.Context, n, peer *lndnode.Node, point string) error {
	res, err := n.LN.ListChannels(ctx, &lnrpc.ListChannelsRequest{})
	if err != nil {
		return fmt.Errorf("lnd %s: list channels: %w", n.Name, err)
	}
	var ch *lnrpc.Channel
	for _, c := range res.Channels {
		if c.ChannelPoint == point {
			ch = c
		}
	}
	if ch == nil {
		return fmt.Errorf("lnd %s: no channel %s", n.Name, point)
	}
	if !ch.Active {
		return fmt.Errorf("lnd %s: channel %s not active", n.Name, point)
	}
	var reserve int64
	if ch.LocalConstraints != nil {
		reserve = int64(ch.LocalConstraints.ChanReserveSat)
	}
	if ch.LocalBalance < reserve+10_000 {
		return nil // nothing to spend from this side; nothing to check
	}
	if _, err := n.LN.QueryRoutes(ctx, &lnrpc.QueryRoutesRequest{PubKey: peer.PubKey, Amt: 1}); err != nil {
		return fmt.Errorf("lnd %s: no route to %s over %s yet: %w", n.Name, peer.Name, point, err)
	}
	return nil
}

// Pay pays a BOLT11 invoice from `from` with routerrpc.SendPaymentV2, with the
// harness's routing fee limit and a 60 s timeout, and returns the succeeded
// payment; any other outcome fails the test.
func (h *Harness) Pay(t testing.TB, from *lndnode.Node, invoice string) *lnrpc.Payment {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	stream, err := from.Router.SendPaymentV2(ctx, &routerrpc.SendPaymentRequest{
		PaymentRequest: invoice,
		TimeoutSeconds: 60,
		FeeLimitSat:    h.cfg.PayFeeLimitSat,
	})
	if err != nil {
		t.Fatalf("lnd %s: send payment: %v", from.Name, err)
	}
	for {
		p, err := stream.Recv()
		if err == io.EOF {
			t.Fatalf("lnd %s: payment stream ended before a final state", from.Name)
		}
		if err != nil {
			t.Fatalf("lnd %s: payment: %v", from.Name, err)
		}
		switch p.Status {
		case lnrpc.Payment_SUCCEEDED:
			t.Logf("harness: %s paid %d sat (fee %d msat), hash %s", from.Name, p.ValueSat, p.FeeMsat, p.PaymentHash)
			return p
		case lnrpc.Payment_FAILED:
			t.Fatalf("lnd %s: payment failed: %s", from.Name, p.FailureReason)
		}
	}
}

func hexPubKey(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode pubkey %q: %w", s, err)
	}
	return b, nil
}
