package lightning

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// allProven is a prover that has a good proof of control for every output:
// the counting-rule tables test everything but proofs.
type allProven struct{}

func (allProven) Status(string, int64) proving.Status { return proving.Status{Counts: true} }
func (allProven) Add(context.Context, *control.Proof, string) (*proving.Proof, error) {
	return nil, errors.New("allProven stores nothing")
}
func (allProven) IssuerKey() string { return "" }
func (allProven) MaxAge() int64     { return 1 << 40 }

const (
	readMac = "0201036c6e64" // the connection's: what Source sends on every poll call
	signMac = "0201036c6e65" // what it sends to SignMessage
	nodeKey = "02" + "aa" + "00000000000000000000000000000000000000000000000000000000000000"
	height  = 800
)

// fakeLnd answers the four calls Poll makes, and SignMessage, from fixed
// responses; any other lnrpc call panics (nil embedded interface). Every
// call must carry the macaroon the Source was configured with.
type fakeLnd struct {
	lnrpc.LightningClient

	t        *testing.T
	info     *lnrpc.GetInfoResponse
	channels []*lnrpc.Channel
	pending  *lnrpc.PendingChannelsResponse
	utxos    []*lnrpc.Utxo
	// unannounced lists channel points GetChanInfo does not find.
	unannounced map[string]bool
	// edges changes the graph's edge of a listed channel point (a forged
	// or foreign announcement).
	edges map[string]func(*lnrpc.ChannelEdge)
	// fail makes the named call fail.
	fail string
}

// check fails the test unless a call made with ctx carries mac, given that
// its connection was dialed with readMac (as Dial does).
func (f *fakeLnd) check(ctx context.Context, call, mac string) error {
	md, err := testMac(readMac).GetRequestMetadata(ctx)
	if got := md["macaroon"]; err != nil || got != mac {
		f.t.Errorf("%s sent macaroon %q (%v), want %s", call, got, err, mac)
	}
	if f.fail == call {
		return fmt.Errorf("fake lnd: %s failed", call)
	}
	return nil
}

// testMac is the macaroon whose hex encoding is h.
func testMac(h string) lndconn.Macaroon {
	raw, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return lndconn.NewMacaroon(raw)
}

func (f *fakeLnd) GetInfo(ctx context.Context, _ *lnrpc.GetInfoRequest, _ ...grpc.CallOption) (*lnrpc.GetInfoResponse, error) {
	if err := f.check(ctx, "GetInfo", readMac); err != nil {
		return nil, err
	}
	return f.info, nil
}

func (f *fakeLnd) ListChannels(ctx context.Context, _ *lnrpc.ListChannelsRequest, _ ...grpc.CallOption) (*lnrpc.ListChannelsResponse, error) {
	if err := f.check(ctx, "ListChannels", readMac); err != nil {
		return nil, err
	}
	return &lnrpc.ListChannelsResponse{Channels: f.channels}, nil
}

func (f *fakeLnd) PendingChannels(ctx context.Context, _ *lnrpc.PendingChannelsRequest, _ ...grpc.CallOption) (*lnrpc.PendingChannelsResponse, error) {
	if err := f.check(ctx, "PendingChannels", readMac); err != nil {
		return nil, err
	}
	if f.pending == nil {
		return &lnrpc.PendingChannelsResponse{}, nil
	}
	return f.pending, nil
}

func (f *fakeLnd) ListUnspent(ctx context.Context, in *lnrpc.ListUnspentRequest, _ ...grpc.CallOption) (*lnrpc.ListUnspentResponse, error) {
	if err := f.check(ctx, "ListUnspent", readMac); err != nil {
		return nil, err
	}
	if in.MinConfs != 0 {
		f.t.Errorf("ListUnspent asked with MinConfs %d: Source must see unconfirmed outputs to report them", in.MinConfs)
	}
	return &lnrpc.ListUnspentResponse{Utxos: f.utxos}, nil
}

// GetTransactions lists no recent wallet transaction: the tables here are
// about counting; spend_test.go covers the node's own spends.
func (f *fakeLnd) GetTransactions(ctx context.Context, _ *lnrpc.GetTransactionsRequest, _ ...grpc.CallOption) (*lnrpc.TransactionDetails, error) {
	if err := f.check(ctx, "GetTransactions", readMac); err != nil {
		return nil, err
	}
	return &lnrpc.TransactionDetails{}, nil
}

// GetChanInfo finds a listed channel as announced with the node as one end
// and an authentication proof, unless private lists its channel point
// (then: not in the graph).
func (f *fakeLnd) GetChanInfo(ctx context.Context, in *lnrpc.ChanInfoRequest, _ ...grpc.CallOption) (*lnrpc.ChannelEdge, error) {
	if err := f.check(ctx, "GetChanInfo", readMac); err != nil {
		return nil, err
	}
	for _, c := range f.channels {
		if c.ChanId == in.ChanId && !f.unannounced[c.ChannelPoint] {
			e := &lnrpc.ChannelEdge{ChannelId: c.ChanId, ChanPoint: c.ChannelPoint, Node1Pub: nodeKey, Node2Pub: "03" + txid(9)[2:],
				Capacity: c.Capacity, AuthProof: &lnrpc.ChannelAuthProof{NodeSig1: []byte{1}, BitcoinSig1: []byte{1},
					NodeSig2: []byte{1}, BitcoinSig2: []byte{1}}}
			if edit := f.edges[c.ChannelPoint]; edit != nil {
				edit(e)
			}
			return e, nil
		}
	}
	return nil, status.Error(codes.NotFound, "edge not found")
}

func (f *fakeLnd) SignMessage(ctx context.Context, in *lnrpc.SignMessageRequest, _ ...grpc.CallOption) (*lnrpc.SignMessageResponse, error) {
	if err := f.check(ctx, "SignMessage", signMac); err != nil {
		return nil, err
	}
	return &lnrpc.SignMessageResponse{Signature: "signed:" + string(in.Msg)}, nil
}

// fakeChain is the chain backend's UTXO set: outpoint → confirmations and
// value in sats. Absent means spent or unknown.
type fakeChain struct {
	outs map[string]chainOut
	err  error
}

type chainOut struct {
	conf  int64
	value int64
}

func (c *fakeChain) GetTxOut(h *chainhash.Hash, index uint32, mempool bool) (*btcjson.GetTxOutResult, error) {
	if mempool {
		return nil, errors.New("Source must not count mempool outputs")
	}
	if c.err != nil {
		return nil, c.err
	}
	o, ok := c.outs[fmt.Sprintf("%s:%d", h, index)]
	if !ok {
		return nil, nil
	}
	return &btcjson.GetTxOutResult{Confirmations: o.conf, Value: btcutil.Amount(o.value).ToBTC()}, nil
}

func (c *fakeChain) GetBlockHeaderVerbose(h *chainhash.Hash) (*btcjson.GetBlockHeaderVerboseResult, error) {
	return &btcjson.GetBlockHeaderVerboseResult{Hash: h.String(), Height: height}, nil
}

// txid n as lnd and the chain backend write it.
func txid(n int) string { return fmt.Sprintf("%064x", n) }

func point(n int) string { return txid(n) + ":1" }

// scid builds a short channel id at a funding height.
func scid(h uint64) uint64 { return h<<40 | 7<<16 | 1 }

// channel returns an active channel at point(n), funded at height 700.
func channel(n int, capacity, local, reserve int64) *lnrpc.Channel {
	return &lnrpc.Channel{Active: true, ChannelPoint: point(n), ChanId: scid(700), Capacity: capacity,
		LocalBalance: local, LocalConstraints: &lnrpc.ChannelConstraints{ChanReserveSat: uint64(reserve)}}
}

func utxo(n int, amount, conf int64) *lnrpc.Utxo {
	return &lnrpc.Utxo{AmountSat: amount, Confirmations: conf, Address: fmt.Sprintf("bcrt1q%d", n),
		Outpoint: &lnrpc.OutPoint{TxidStr: txid(n), OutputIndex: 1}}
}

// funded is a chain that holds point(n) with conf confirmations and value.
func funded(outs ...any) map[string]chainOut {
	m := map[string]chainOut{}
	for i := 0; i < len(outs); i += 3 {
		m[point(outs[i].(int))] = chainOut{conf: int64(outs[i+1].(int)), value: int64(outs[i+2].(int))}
	}
	return m
}

// wantChannel is a channel as counted; why is a word the reason must
// contain ("" for a channel that counts in full).
type wantChannel struct {
	verified      bool
	counted       int64
	why           string
	fundingHeight int64
}

// TestPollCountingRules: one row per counting rule of the package doc
// (docs/reserves.md), against a fake lnd and a fake chain backend, with
// MinConf 3. Each row states every total of the report.
func TestPollCountingRules(t *testing.T) {
	type totals struct {
		channels, wallet, reserve, unsettled, pendingOpen, pendingClose, unverified, immature int64
	}
	cases := []struct {
		name     string
		channels []*lnrpc.Channel
		pending  *lnrpc.PendingChannelsResponse
		utxos    []*lnrpc.Utxo
		chain    map[string]chainOut
		noChain  bool
		want     totals
		chans    []wantChannel
		// wallet lists the outpoints listed in Report.Wallet, with
		// whether each counts.
		wallet map[string]bool
	}{
		{name: "active channel, funding confirmed: settled local balance less the channel reserve",
			channels: []*lnrpc.Channel{channel(1, 1_000_000, 600_000, 10_000)},
			chain:    funded(1, 3, 1_000_000),
			want:     totals{channels: 590_000, reserve: 10_000},
			chans:    []wantChannel{{verified: true, counted: 590_000, fundingHeight: 700}}},
		{name: "unsettled HTLCs are reported, not counted",
			channels: []*lnrpc.Channel{func() *lnrpc.Channel {
				c := channel(1, 1_000_000, 500_000, 10_000)
				c.UnsettledBalance = 80_000
				return c
			}()},
			chain: funded(1, 10, 1_000_000),
			want:  totals{channels: 490_000, reserve: 10_000, unsettled: 80_000},
			chans: []wantChannel{{verified: true, counted: 490_000, fundingHeight: 700}}},
		{name: "local balance within the channel reserve counts nothing",
			channels: []*lnrpc.Channel{channel(1, 1_000_000, 10_000, 10_000), channel(2, 1_000_000, 9_999, 10_000)},
			chain:    funded(1, 3, 1_000_000, 2, 3, 1_000_000),
			want:     totals{reserve: 20_000},
			chans: []wantChannel{{verified: true, why: "reserve", fundingHeight: 700},
				{verified: true, why: "reserve", fundingHeight: 700}}},
		{name: "inactive channel counts nothing",
			channels: []*lnrpc.Channel{func() *lnrpc.Channel {
				c := channel(1, 1_000_000, 600_000, 10_000)
				c.Active = false
				return c
			}()},
			chain: funded(1, 3, 1_000_000),
			want:  totals{reserve: 10_000},
			chans: []wantChannel{{verified: true, why: "inactive", fundingHeight: 700}}},
		{name: "funding output with fewer confirmations than MinConf counts nothing",
			channels: []*lnrpc.Channel{channel(1, 1_000_000, 600_000, 10_000)},
			chain:    funded(1, 2, 1_000_000),
			want:     totals{reserve: 10_000},
			chans:    []wantChannel{{why: "funding output", fundingHeight: 700}}},
		{name: "funding output spent or unknown to our chain backend counts nothing",
			channels: []*lnrpc.Channel{channel(1, 1_000_000, 600_000, 10_000)},
			chain:    funded(),
			want:     totals{reserve: 10_000},
			chans:    []wantChannel{{why: "funding output", fundingHeight: 700}}},
		{name: "funding output of another value than the stated capacity counts nothing",
			channels: []*lnrpc.Channel{channel(1, 2_000_000, 600_000, 10_000)},
			chain:    funded(1, 50, 1_000_000),
			want:     totals{reserve: 10_000},
			chans:    []wantChannel{{why: "funding output", fundingHeight: 700}}},
		{name: "without a chain backend no channel and no wallet output counts",
			channels: []*lnrpc.Channel{channel(1, 1_000_000, 600_000, 10_000)},
			utxos:    []*lnrpc.Utxo{utxo(5, 70_000, 10)},
			noChain:  true,
			want:     totals{reserve: 10_000, unverified: 70_000},
			chans:    []wantChannel{{why: "funding output", fundingHeight: 700}},
			wallet:   map[string]bool{}},
		{name: "funding height from the short channel id; zero-conf from its confirmed scid, else unknown",
			channels: []*lnrpc.Channel{
				{Active: true, ChannelPoint: point(1), ChanId: scid(123), Capacity: 100_000, LocalBalance: 50_000},
				{Active: true, ChannelPoint: point(2), ChanId: scid(16_000_000), ZeroConf: true, ZeroConfConfirmedScid: scid(456),
					Capacity: 100_000, LocalBalance: 50_000},
				{Active: true, ChannelPoint: point(3), ChanId: scid(16_000_001), ZeroConf: true, Capacity: 100_000, LocalBalance: 50_000},
			},
			chain: funded(1, 3, 100_000, 2, 3, 100_000),
			want:  totals{channels: 100_000},
			chans: []wantChannel{{verified: true, counted: 50_000, fundingHeight: 123},
				{verified: true, counted: 50_000, fundingHeight: 456}, {why: "funding output"}}},
		{name: "pending open channels are reported, not counted",
			pending: &lnrpc.PendingChannelsResponse{PendingOpenChannels: []*lnrpc.PendingChannelsResponse_PendingOpenChannel{
				{Channel: &lnrpc.PendingChannelsResponse_PendingChannel{ChannelPoint: point(7), Capacity: 500_000, LocalBalance: 400_000}},
				{Channel: &lnrpc.PendingChannelsResponse_PendingChannel{ChannelPoint: point(8), Capacity: 500_000, LocalBalance: 100_000}},
			}},
			chain: funded(7, 6, 500_000, 8, 6, 500_000),
			want:  totals{pendingOpen: 500_000}},
		{name: "closing channels' limbo balances are reported, not counted",
			pending: &lnrpc.PendingChannelsResponse{
				WaitingCloseChannels: []*lnrpc.PendingChannelsResponse_WaitingCloseChannel{
					{Channel: &lnrpc.PendingChannelsResponse_PendingChannel{ChannelPoint: point(7), LocalBalance: 300_000}, LimboBalance: 300_000}},
				PendingForceClosingChannels: []*lnrpc.PendingChannelsResponse_ForceClosedChannel{
					{Channel: &lnrpc.PendingChannelsResponse_PendingChannel{ChannelPoint: point(8), LocalBalance: 200_000}, LimboBalance: 150_000}},
			},
			chain: funded(7, 6, 500_000, 8, 6, 500_000),
			want:  totals{pendingClose: 450_000}},
		{name: "wallet output with MinConf confirmations, unspent on-chain at its value, counts",
			utxos:  []*lnrpc.Utxo{utxo(5, 70_000, 3)},
			chain:  funded(5, 3, 70_000),
			want:   totals{wallet: 70_000},
			wallet: map[string]bool{point(5): true}},
		{name: "wallet output below MinConf is listed, reported, not counted",
			utxos:  []*lnrpc.Utxo{utxo(5, 70_000, 2)},
			chain:  funded(5, 2, 70_000),
			want:   totals{immature: 70_000},
			wallet: map[string]bool{point(5): false}},
		{name: "unconfirmed wallet output is reported, neither listed nor counted",
			utxos:  []*lnrpc.Utxo{utxo(5, 70_000, 0)},
			want:   totals{immature: 70_000},
			wallet: map[string]bool{}},
		{name: "wallet output our chain backend does not see unspent is unverified (a double-spend lnd missed)",
			utxos:  []*lnrpc.Utxo{utxo(5, 70_000, 4)},
			chain:  funded(),
			want:   totals{unverified: 70_000},
			wallet: map[string]bool{}},
		{name: "wallet output with another value on-chain is unverified",
			utxos:  []*lnrpc.Utxo{utxo(5, 70_000, 4)},
			chain:  funded(5, 4, 60_000),
			want:   totals{unverified: 70_000},
			wallet: map[string]bool{}},
		{name: "wallet output lnd calls confirmed that our backend sees below MinConf is unverified",
			utxos:  []*lnrpc.Utxo{utxo(5, 70_000, 5)},
			chain:  funded(5, 2, 70_000),
			want:   totals{unverified: 70_000},
			wallet: map[string]bool{}},
		{name: "everything at once: only settled local balances and confirmed wallet outputs count",
			channels: []*lnrpc.Channel{
				func() *lnrpc.Channel {
					c := channel(1, 1_000_000, 600_000, 10_000)
					c.UnsettledBalance = 5_000
					return c
				}(),
				channel(2, 200_000, 1_000, 2_000),
				func() *lnrpc.Channel { c := channel(3, 300_000, 250_000, 3_000); c.Active = false; return c }(),
				channel(4, 400_000, 390_000, 4_000),
			},
			pending: &lnrpc.PendingChannelsResponse{PendingOpenChannels: []*lnrpc.PendingChannelsResponse_PendingOpenChannel{
				{Channel: &lnrpc.PendingChannelsResponse_PendingChannel{LocalBalance: 11_000}}}},
			utxos: []*lnrpc.Utxo{utxo(5, 70_000, 3), utxo(6, 80_000, 1), utxo(9, 90_000, 0), utxo(10, 100_000, 9)},
			chain: funded(1, 6, 1_000_000, 2, 6, 200_000, 3, 6, 300_000, 4, 1, 400_000, 5, 3, 70_000, 6, 1, 80_000),
			want: totals{channels: 590_000, wallet: 70_000, reserve: 19_000, unsettled: 5_000, pendingOpen: 11_000,
				unverified: 100_000, immature: 170_000},
			chans: []wantChannel{{verified: true, counted: 590_000, fundingHeight: 700},
				{verified: true, why: "reserve", fundingHeight: 700}, {verified: true, why: "inactive", fundingHeight: 700},
				{why: "funding output", fundingHeight: 700}},
			wallet: map[string]bool{point(5): true, point(6): false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lnd := &fakeLnd{t: t, channels: c.channels, pending: c.pending, utxos: c.utxos,
				info: &lnrpc.GetInfoResponse{IdentityPubkey: nodeKey, BlockHeight: height, BlockHash: txid(height), SyncedToChain: true}}
			src := &Source{cfg: Config{Name: "carol", MinConf: 3, Prover: allProven{}}, client: lnd, announced: map[uint64]bool{}}
			if !c.noChain {
				src.chain = &fakeChain{outs: c.chain}
			}
			r, err := src.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := totals{r.ChannelsCounted, r.WalletCounted, r.ChannelReserve, r.Unsettled, r.PendingOpen,
				r.PendingClose, r.WalletUnverified, r.WalletImmature}
			if got != c.want {
				t.Errorf("totals\n got %+v\nwant %+v", got, c.want)
			}
			if r.Counted() != c.want.channels+c.want.wallet {
				t.Errorf("Counted() = %d, want channels %d + wallet %d", r.Counted(), c.want.channels, c.want.wallet)
			}
			if r.Name != "carol" || r.PubKey != nodeKey || r.BlockHeight != height || r.BlockHash != txid(height) || !r.Synced {
				t.Errorf("node fields: %q %q %d %q %v", r.Name, r.PubKey, r.BlockHeight, r.BlockHash, r.Synced)
			}
			if len(r.Channels) != len(c.channels) {
				t.Fatalf("%d channels reported, want %d", len(r.Channels), len(c.channels))
			}
			for i, ch := range r.Channels {
				w, in := c.chans[i], c.channels[i]
				if ch.ChannelPoint != in.ChannelPoint || ch.Capacity != in.Capacity || ch.LocalBalance != in.LocalBalance ||
					ch.Reserve != int64(in.LocalConstraints.GetChanReserveSat()) || ch.Unsettled != in.UnsettledBalance || ch.Active != in.Active {
					t.Errorf("channel %d does not report lnd's figures: %+v", i, ch)
				}
				if ch.Verified != w.verified || ch.Counted != w.counted || ch.FundingHeight != w.fundingHeight {
					t.Errorf("channel %d: verified %v counted %d funding height %d; want %v %d %d",
						i, ch.Verified, ch.Counted, ch.FundingHeight, w.verified, w.counted, w.fundingHeight)
				}
				if (w.why == "") != (ch.Why == "") || !strings.Contains(ch.Why, w.why) {
					t.Errorf("channel %d: why %q, want one mentioning %q", i, ch.Why, w.why)
				}
			}
			if c.wallet != nil {
				listed := map[string]bool{}
				for _, o := range r.Wallet {
					listed[o.Outpoint] = o.Counted
				}
				if !reflect.DeepEqual(listed, c.wallet) {
					t.Errorf("wallet outputs listed %v, want %v", listed, c.wallet)
				}
			}
			for _, o := range r.Wallet {
				var conf int64
				for _, u := range c.utxos {
					if fmt.Sprintf("%s:%d", u.Outpoint.TxidStr, u.Outpoint.OutputIndex) == o.Outpoint {
						conf = u.Confirmations
						if o.Value != u.AmountSat || o.Address != u.Address {
							t.Errorf("wallet output %s: value %d address %s, want lnd's %d %s", o.Outpoint, o.Value, o.Address, u.AmountSat, u.Address)
						}
					}
				}
				if want := height - conf + 1; o.FundingHeight != want {
					t.Errorf("wallet output %s at %d confirmations: funding height %d, want %d", o.Outpoint, conf, o.FundingHeight, want)
				}
			}
		})
	}
}

// TestPollRefuses: a poll that cannot be trusted is an error naming the
// node, never a report with partial figures the monitor would accept.
func TestPollRefuses(t *testing.T) {
	max := int64(btcutil.MaxSatoshi)
	cases := []struct {
		name     string
		fail     string
		unsynced bool
		channels []*lnrpc.Channel
		utxos    []*lnrpc.Utxo
		chain    *fakeChain
		want     string
	}{
		{name: "lnd not synced to the chain", unsynced: true, want: "not synced"},
		{name: "GetInfo fails", fail: "GetInfo", want: "GetInfo"},
		{name: "ListChannels fails", fail: "ListChannels", want: "ListChannels"},
		{name: "PendingChannels fails", fail: "PendingChannels", want: "PendingChannels"},
		{name: "ListUnspent fails", fail: "ListUnspent", want: "ListUnspent"},
		{name: "malformed channel point", channels: []*lnrpc.Channel{{Active: true, ChannelPoint: txid(1), Capacity: 1, LocalBalance: 1}},
			want: "malformed channel point"},
		{name: "malformed funding txid", channels: []*lnrpc.Channel{{Active: true, ChannelPoint: "xyz:0", Capacity: 1, LocalBalance: 1}},
			want: "malformed txid"},
		{name: "chain backend fails", channels: []*lnrpc.Channel{channel(1, 1_000, 500, 0)},
			chain: &fakeChain{err: errors.New("backend down")}, want: "backend down"},
		{name: "channel balances summing past 21 million BTC",
			channels: []*lnrpc.Channel{channel(1, max, max, 0), channel(2, 1_000, 500, 0)},
			chain:    &fakeChain{outs: funded(1, 3, int(max), 2, 3, 1_000)}, want: "21 million"},
		{name: "wallet outputs summing past 21 million BTC",
			utxos: []*lnrpc.Utxo{utxo(5, max, 3), utxo(6, 1, 3)},
			chain: &fakeChain{outs: funded(5, 3, int(max), 6, 3, 1)}, want: "21 million"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lnd := &fakeLnd{t: t, fail: c.fail, channels: c.channels, utxos: c.utxos,
				info: &lnrpc.GetInfoResponse{IdentityPubkey: nodeKey, BlockHeight: height, SyncedToChain: !c.unsynced}}
			chain := c.chain
			if chain == nil {
				chain = &fakeChain{outs: funded()}
			}
			src := &Source{cfg: Config{Name: "carol", MinConf: 3, Prover: allProven{}}, client: lnd, chain: chain, announced: map[uint64]bool{}}
			_, err := src.Poll(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Poll: %v, want an error mentioning %q", err, c.want)
			}
			if c.fail != "" || c.unsynced {
				if !strings.Contains(err.Error(), "carol") {
					t.Errorf("error %q does not name the node", err)
				}
			}
		})
	}
}

// TestSignMessage: the node signs only with the signing macaroon, and
// refuses without one.
func TestSignMessage(t *testing.T) {
	lnd := &fakeLnd{t: t}
	src := &Source{cfg: Config{Name: "carol"}, client: lnd}
	if src.CanSign() {
		t.Fatal("CanSign without a signing macaroon")
	}
	if _, err := src.SignMessage(context.Background(), []byte("m")); err == nil || !strings.Contains(err.Error(), "signmacaroon") {
		t.Fatalf("SignMessage without a signing macaroon: %v", err)
	}
	src.sign = testMac(signMac)
	s, err := src.SignMessage(context.Background(), []byte("kosh/attestation:ab"))
	if err != nil || s != "signed:kosh/attestation:ab" {
		t.Fatalf("SignMessage: %q, %v", s, err)
	}
	lnd.fail = "SignMessage"
	if _, err := src.SignMessage(context.Background(), []byte("m")); err == nil || !strings.Contains(err.Error(), "carol") {
		t.Fatalf("failing SignMessage: %v", err)
	}
}
