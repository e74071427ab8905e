package itest

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestLightningReserves drives koshd's Lightning sources against two real
// lnd nodes: the on-chain wallet counts at the confirmation policy (each
// node proving control of it), an announced channel and a payment show up
// as settled local balances minus each side's channel reserve, exactly as
// lnd reports them; then bob's lnd stops, the
// snapshot goes stale, a mint is refused naming bob, and when bob comes
// back koshd recovers without a restart.
func TestLightningReserves(t *testing.T) {
	h := harness.Shared(t)
	nodes := h.NewNodes(t, "carol", "dave")
	carol, dave := nodes[0], nodes[1]

	const fund = 3_000_000
	h.FundNode(t, carol, fund)

	cfg := koshConfig(t, h)
	cfg.Chain.Birthday = tipHeight(t, h) + 1
	cfg.Lnd.Nodes = []string{lndSpec(carol), lndSpec(dave)}
	cfg.Lnd.MaxAge = 3 * time.Second
	k := startKosh(t, cfg)

	// FundNode mined one block: the deposit is reported, not counted, until
	// it has 3 confirmations.
	k.waitReserves("carol's deposit unconfirmed", syncTimeout, lnClasses(carol.Name, map[string]int64{
		"wallet_confirmed": 0, "wallet_unconfirmed": fund, "channel_local": 0}))
	h.Mine(t, 2)
	k.waitReserves("carol's deposit counted at 3 confirmations", syncTimeout, lnClasses(carol.Name, map[string]int64{
		"wallet_confirmed": fund, "wallet_unconfirmed": 0, "channel_local": 0}))

	// A channel carol -> dave pushing 100,000 sats, then a payment of 50,000.
	const capacity, push, paid = 1_000_000, 100_000, 50_000
	cp := h.OpenChannel(t, carol, dave, capacity, push)
	inv := dave.AddInvoice(t, paid, "kosh itest")
	h.Pay(t, carol, inv)
	harness.WaitFor(t, func() error {
		if c := dave.Channel(t, cp); c.LocalBalance != push+paid || len(c.PendingHtlcs) != 0 {
			return fmt.Errorf("dave local %d with %d HTLCs, want %d settled", c.LocalBalance, len(c.PendingHtlcs), push+paid)
		}
		return nil
	}, 30*time.Second)

	// The channel's funding has 1 confirmation: neither side counts it yet.
	point := lndnode.ChanPointString(cp)
	k.waitReserves("channel funding below 3 confirmations", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		ch := channel(s, carol.Name, point)
		if ch == nil || ch.Verified || ch.Counted != 0 {
			return fmt.Errorf("carol's channel %s: %v, want listed, unverified, uncounted", point, ch)
		}
		return nil
	})
	// Six confirmations: verified at 3, and announced at 6 (the nodes
	// exchange announcement signatures), which is what shows it is theirs.
	h.Mine(t, 5)
	h.WaitSynced(t, carol, dave)

	cc, dc := carol.Channel(t, cp), dave.Channel(t, cp)
	carolWant := cc.LocalBalance - int64(cc.LocalConstraints.ChanReserveSat)
	daveWant := dc.LocalBalance - int64(dc.LocalConstraints.ChanReserveSat)
	if dc.LocalBalance != push+paid || daveWant <= 0 || carolWant <= 0 {
		t.Fatalf("unexpected channel state: carol %d (reserve %d), dave %d (reserve %d)",
			cc.LocalBalance, cc.LocalConstraints.ChanReserveSat, dc.LocalBalance, dc.LocalConstraints.ChanReserveSat)
	}
	carolWallet := confirmedUnspent(t, carol, 3)
	snap := k.waitReserves("channel counted on both sides", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		for _, c := range []struct {
			node       string
			want, bal  int64
			reserveSat uint64
		}{{carol.Name, carolWant, cc.LocalBalance, cc.LocalConstraints.ChanReserveSat},
			{dave.Name, daveWant, dc.LocalBalance, dc.LocalConstraints.ChanReserveSat}} {
			ch := channel(s, c.node, point)
			if ch == nil || !ch.Verified || !ch.Announced || ch.Capacity != capacity || ch.LocalBalance != c.bal ||
				ch.Reserve != int64(c.reserveSat) || ch.Counted != c.want {
				return fmt.Errorf("%s's channel: %v; want verified, capacity %d, local %d, reserve %d, counted %d",
					c.node, ch, capacity, c.bal, c.reserveSat, c.want)
			}
		}
		if err := lnClasses(carol.Name, map[string]int64{"channel_local": carolWant, "wallet_confirmed": carolWallet})(s); err != nil {
			return err
		}
		return lnClasses(dave.Name, map[string]int64{"channel_local": daveWant, "wallet_confirmed": 0})(s)
	})
	total := carolWant + carolWallet + daveWant
	if snap.Counted != total {
		t.Fatalf("counted %d, want %d = carol channel %d + carol wallet %d + dave channel %d",
			snap.Counted, total, carolWant, carolWallet, daveWant)
	}
	t.Logf("channel %s: carol local %d - reserve %d = %d; dave local %d - reserve %d = %d; carol wallet %d",
		point, cc.LocalBalance, cc.LocalConstraints.ChanReserveSat, carolWant,
		dc.LocalBalance, dc.LocalConstraints.ChanReserveSat, daveWant, carolWallet)

	k.createAsset("LNT")
	holder := k.createAccount("holder")
	if err := k.mint("LNT", holder, 1000); err != nil {
		t.Fatalf("mint with fresh sources: %v", err)
	}

	// dave's lnd goes away: his source goes stale and minting stops, with a
	// message naming him.
	dave.Stop(t)
	k.waitReserves("dave stale", 30*time.Second, func(s *koshv1.ReserveSnapshot) error {
		if src := source(s, dave.Name); src == nil || !src.Stale || s.Usable {
			return fmt.Errorf("dave's source %v, usable %v; want stale and unusable", src, s.Usable)
		}
		return nil
	})
	err := k.mint("LNT", holder, 1000)
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !containsAll(st.Message(), "stale", dave.Name) {
		t.Fatalf("mint with dave stale: %v, want FailedPrecondition naming %q as stale", err, dave.Name)
	}

	// dave comes back; koshd reconnects on its own and minting resumes.
	dave.Start(t)
	k.waitReserves("dave fresh again", 90*time.Second, func(s *koshv1.ReserveSnapshot) error {
		if src := source(s, dave.Name); src == nil || src.Stale || !s.Usable {
			return fmt.Errorf("dave's source %v, usable %v (%s)", src, s.Usable, s.Problem)
		}
		return nil
	})
	if err := k.mint("LNT", holder, 1000); err != nil {
		t.Fatalf("mint after dave recovered: %v", err)
	}
}

// lnClasses checks the named Lightning source is fresh and has the given
// class amounts.
func lnClasses(node string, want map[string]int64) func(*koshv1.ReserveSnapshot) error {
	return func(s *koshv1.ReserveSnapshot) error {
		src := source(s, node)
		if src == nil {
			return fmt.Errorf("no source %q", node)
		}
		if src.Stale {
			return fmt.Errorf("source %q is stale: %s", node, src.LastError)
		}
		for name, amount := range want {
			if got, _ := class(src, name); got != amount {
				return fmt.Errorf("%s %s = %d, want %d", node, name, got, amount)
			}
		}
		return nil
	}
}

// channel returns node's channel at point in the snapshot, or nil.
func channel(s *koshv1.ReserveSnapshot, node, point string) *koshv1.LightningChannel {
	for _, c := range s.Channels {
		if c.Node == node && c.ChannelPoint == point {
			return c
		}
	}
	return nil
}

// confirmedUnspent is the sum of n's wallet outputs with at least minConf
// confirmations, as lnd lists them.
func confirmedUnspent(t *testing.T, n *lndnode.Node, minConf int32) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := n.LN.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: minConf, MaxConfs: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, u := range r.Utxos {
		sum += u.AmountSat
	}
	return sum
}

// TestFirstLightningPollAfterChain proves koshd's first Lightning poll
// waits for the chain client to connect instead of racing it: with the
// chain backend slow to answer (a proxy holds connections for its first 2 s) and
// a minute between polls, a node with wallet outputs to check on-chain
// still reports right after start (the first poll failed with "the client
// was never connected", and every start refused mints until the next poll).
func TestFirstLightningPollAfterChain(t *testing.T) {
	h := harness.Shared(t)
	erin := h.NewNodes(t, "erin")[0]
	h.FundNode(t, erin, 1_000_000)
	h.Mine(t, 3)
	h.WaitSynced(t, erin)

	cfg := koshConfig(t, h)
	cfg.Chain.Birthday = tipHeight(t, h) + 1
	cfg.Chain.RPCHost = slowProxy(t, cfg.Chain.RPCHost, 2*time.Second)
	cfg.Lnd.Nodes = []string{lndSpec(erin)}
	cfg.Lnd.PollInterval = time.Minute
	k := startKosh(t, cfg)
	k.waitReserves("erin's first poll", 20*time.Second, func(s *koshv1.ReserveSnapshot) error {
		src := source(s, erin.Name)
		if src == nil || src.LastSeen == nil || src.Stale {
			return fmt.Errorf("erin has not reported: %v", src)
		}
		return nil
	})
}

// slowProxy forwards loopback TCP connections to target, holding every
// connection made in its first delay until delay has passed: a chain
// backend slow to answer at first.
func slowProxy(t testing.TB, target string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ready := time.Now().Add(delay)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				time.Sleep(time.Until(ready))
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}(c)
		}
	}()
	return l.Addr().String()
}
