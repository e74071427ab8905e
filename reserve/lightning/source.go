// Package lightning is Kosh's Lightning reserve source: it asks one lnd node,
// through lnrpc with a read-only macaroon, for its channels, pending
// channels and on-chain wallet, and counts them by rules that are
// conservative and written down (docs/reserves.md):
//
//   - an active channel counts its settled local balance minus the channel
//     reserve the node cannot spend, and only if its funding output is
//     confirmed on-chain (checked against our own chain backend, because lnd
//     keeps a channel active after a reorg un-confirms its funding) with the
//     stated capacity;
//   - in-flight HTLCs, pending and closing channels are reported, not counted;
//   - the node's on-chain wallet counts outputs with at least MinConf
//     confirmations that our chain backend also sees unspent (lnd can keep
//     counting a deposit a double-spend removed), and only with a proof of
//     control: the node signs a BIP-127 proof over them through walletrpc's
//     FinalizePsbt (with the proof macaroon), kept by package
//     reserve/proving;
//   - a channel counts as the node's only when it is announced in the
//     gossip graph with the node as one of its ends (GetChanInfo with its
//     authentication proof); any other channel is a claim, reported in
//     ChannelsClaimed, which counts only if the operator's policy says so.
//
// Nobody can prove a channel's current local balance — a later state may
// supersede it — so these figures are the node's signed claims, bounded
// above by the on-chain capacities.
package lightning

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TxOutChecker looks an output up in the chain backend's UTXO set
// (rpcclient.Client satisfies it). A nil result means spent or unknown.
type TxOutChecker interface {
	GetTxOut(txHash *chainhash.Hash, index uint32, mempool bool) (*btcjson.GetTxOutResult, error)
}

// Config locates one lnd node.
type Config struct {
	// Name identifies the node in snapshots and logs, e.g. "alice".
	Name string
	// Host is lnd's gRPC host:port.
	Host string
	// TLSCertPath is lnd's tls.cert.
	TLSCertPath string
	// MacaroonPath is a read-only macaroon (readonly.macaroon suffices;
	// attestations additionally need signer permission for SignMessage).
	MacaroonPath string
	// MinConf is how many confirmations wallet outputs and channel funding
	// outputs need to be counted.
	MinConf int64
	// SignMacaroonPath, optional, is a macaroon with lnd's message:write
	// permission (signer.macaroon or a baked one), used only to have the
	// node sign attestations with its identity key. Without it the node's
	// figures go into attestations unsigned.
	SignMacaroonPath string
	// ProofMacaroonPath, optional, is a macaroon for walletrpc's
	// FinalizePsbt (lncli bakemacaroon uri:/walletrpc.WalletKit/FinalizePsbt),
	// used only to have the node prove control of its wallet outputs.
	// Without it those outputs are listed and not counted.
	ProofMacaroonPath string
	// Prover keeps proofs of control (a *proving.Book); nil: wallet
	// outputs are never proven and never count.
	Prover Prover
	// ChallengeBlock returns the block proofs commit to: the chain
	// watcher's tip (ok false while it has none; then the node's own best
	// block is used).
	ChallengeBlock func() (height int64, hash string, ok bool)
}

// Prover keeps proofs of control (package reserve/proving).
type Prover interface {
	Status(outpoint string, height int64) proving.Status
	Add(ctx context.Context, p *control.Proof, source string) (*proving.Proof, error)
	IssuerKey() string
	MaxAge() int64
}

// Source is one lnd node as a reserve source.
type Source struct {
	cfg    Config
	conn   *grpc.ClientConn
	client lnrpc.LightningClient
	wallet walletrpc.WalletKitClient
	mac    string
	sign   string // hex macaroon with message:write; empty: cannot sign
	prove  string // hex macaroon for FinalizePsbt; empty: cannot prove
	chain  TxOutChecker

	// announced remembers channels found announced (an announcement does
	// not go away); poll-goroutine only.
	announced map[uint64]bool
	// proveErr is the last proving failure, logged once per change.
	proveErr string
}

// Dial connects to lnd. The connection reconnects by itself with
// exponential backoff (1 s up to 30 s) whenever the node goes away.
func Dial(cfg Config, chain TxOutChecker) (*Source, error) {
	if cfg.Name == "" || cfg.Host == "" {
		return nil, errors.New("lnd source needs a name and a host")
	}
	creds, err := credentials.NewClientTLSFromFile(cfg.TLSCertPath, "")
	if err != nil {
		return nil, fmt.Errorf("lnd %s: load tls cert %s: %w", cfg.Name, cfg.TLSCertPath, err)
	}
	mac, err := os.ReadFile(cfg.MacaroonPath)
	if err != nil {
		return nil, fmt.Errorf("lnd %s: read macaroon: %w", cfg.Name, err)
	}
	bo := backoff.DefaultConfig
	bo.MaxDelay = 30 * time.Second
	conn, err := grpc.NewClient(cfg.Host, grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, fmt.Errorf("lnd %s: dial %s: %w", cfg.Name, cfg.Host, err)
	}
	if cfg.MinConf <= 0 {
		cfg.MinConf = 1
	}
	src := &Source{cfg: cfg, conn: conn, client: lnrpc.NewLightningClient(conn), wallet: walletrpc.NewWalletKitClient(conn),
		mac: hex.EncodeToString(mac), chain: chain, announced: map[uint64]bool{}}
	if cfg.ProofMacaroonPath != "" {
		pm, err := os.ReadFile(cfg.ProofMacaroonPath)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("lnd %s: read proof macaroon: %w", cfg.Name, err)
		}
		src.prove = hex.EncodeToString(pm)
	}
	if cfg.SignMacaroonPath != "" {
		sm, err := os.ReadFile(cfg.SignMacaroonPath)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("lnd %s: read signing macaroon: %w", cfg.Name, err)
		}
		src.sign = hex.EncodeToString(sm)
	}
	return src, nil
}

// CanSign reports whether a signing macaroon is configured.
func (s *Source) CanSign() bool { return s.sign != "" }

// SignMessage has the node sign msg with its identity key (lnd SignMessage:
// "Lightning Signed Message:" prefix, double SHA-256, recoverable ECDSA,
// zbase32), as proofs/sig.VerifyNodeMessage checks without lnd.
func (s *Source) SignMessage(ctx context.Context, msg []byte) (string, error) {
	if s.sign == "" {
		return "", fmt.Errorf("lnd %s: no signing macaroon configured (signmacaroon=)", s.cfg.Name)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "macaroon", s.sign)
	r, err := s.client.SignMessage(ctx, &lnrpc.SignMessageRequest{Msg: msg})
	if err != nil {
		return "", fmt.Errorf("lnd %s: SignMessage: %w", s.cfg.Name, err)
	}
	return r.Signature, nil
}

// Name is the source's name.
func (s *Source) Name() string { return s.cfg.Name }

// Client returns an lnrpc client whose calls carry the macaroon.
func (s *Source) Client() lnrpc.LightningClient { return s.client }

// Context adds the macaroon to ctx.
func (s *Source) Context(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "macaroon", s.mac)
}

// Close closes the connection.
func (s *Source) Close() error { return s.conn.Close() }

// Channel is one channel as reported and as counted.
type Channel struct {
	ChannelPoint string
	Capacity     int64
	Active       bool
	LocalBalance int64
	Reserve      int64
	Unsettled    int64
	// Verified is true when the funding output is unspent on-chain with at
	// least MinConf confirmations and value equal to Capacity.
	Verified bool
	// Counted is what this channel contributes to reserves.
	Counted int64
	// Why explains a channel that counts less than its local balance.
	Why string
	// FundingHeight is the height of the block holding the funding output,
	// from the short channel id; 0 when unknown (an alias scid).
	FundingHeight int64
	// ShortChannelID is "block x tx x output" ("" when unknown).
	ShortChannelID string
	// Announced is true when the node's own graph holds the channel's
	// announcement (with its authentication proof) naming this node:
	// third-party evidence that the channel is the node's. Otherwise the
	// channel is a claim, and Counted goes to Report.ChannelsClaimed.
	Announced bool
}

// WalletOutput is one output of the node's on-chain wallet that is listed
// in attestations: verified unspent on-chain, or not yet old enough to count.
type WalletOutput struct {
	Outpoint string
	Value    int64
	Address  string
	// PkScript is the output's script.
	PkScript []byte
	// FundingHeight is the height of the block holding the output.
	FundingHeight int64
	// Verified is true when the output is old enough and unspent on-chain.
	Verified bool
	// Counted is true when the output counts toward the reserves:
	// verified, and proven controlled.
	Counted bool
	// Why says why a verified output does not count.
	Why string
}

// Report is one poll of the node.
type Report struct {
	Name        string
	PubKey      string
	BlockHeight uint32
	// BlockHash is the node's best block when polled.
	BlockHash string
	Synced    bool
	Channels  []Channel
	// Wallet lists the on-chain wallet's outputs with at least one
	// confirmation that are either counted or not yet old enough to count
	// (outputs that fail the on-chain check are summed in WalletUnverified
	// and not listed).
	Wallet []WalletOutput
	// Counted classes.
	ChannelsCounted int64
	WalletCounted   int64
	// ChannelsClaimed is what claimed (unannounced) channels would count:
	// counted only if the operator's policy says so.
	ChannelsClaimed int64
	// WalletUnproven sums verified wallet outputs without a good proof of
	// control: reported, not counted.
	WalletUnproven int64
	// Reported, not counted.
	ChannelReserve   int64
	Unsettled        int64
	PendingOpen      int64
	PendingClose     int64
	WalletUnverified int64
	WalletImmature   int64
	Time             time.Time
}

// Counted is the node's total contribution to reserves.
func (r Report) Counted() int64 { return r.ChannelsCounted + r.WalletCounted }

// Poll asks the node for its balances and applies the counting rules.
func (s *Source) Poll(ctx context.Context) (Report, error) {
	ctx = s.Context(ctx)
	r := Report{Name: s.cfg.Name, Time: time.Now()}
	info, err := s.client.GetInfo(ctx, &lnrpc.GetInfoRequest{})
	if err != nil {
		return r, fmt.Errorf("lnd %s: GetInfo: %w", s.cfg.Name, err)
	}
	r.PubKey, r.BlockHeight, r.BlockHash, r.Synced = info.IdentityPubkey, info.BlockHeight, info.BlockHash, info.SyncedToChain
	if !info.SyncedToChain {
		return r, fmt.Errorf("lnd %s is not synced to the chain (height %d)", s.cfg.Name, info.BlockHeight)
	}

	chans, err := s.client.ListChannels(ctx, &lnrpc.ListChannelsRequest{})
	if err != nil {
		return r, fmt.Errorf("lnd %s: ListChannels: %w", s.cfg.Name, err)
	}
	for _, c := range chans.Channels {
		ch, err := s.countChannel(c)
		if err != nil {
			return r, err
		}
		if ch.Announced, err = s.isAnnounced(ctx, c, info.IdentityPubkey); err != nil {
			return r, err
		}
		r.Channels = append(r.Channels, ch)
		var ok bool
		sum := &r.ChannelsCounted
		if !ch.Announced {
			sum = &r.ChannelsClaimed
		}
		if *sum, ok = add(*sum, ch.Counted); !ok {
			return r, overflow(s.cfg.Name)
		}
		if r.ChannelReserve, ok = add(r.ChannelReserve, ch.Reserve); !ok {
			return r, overflow(s.cfg.Name)
		}
		if r.Unsettled, ok = add(r.Unsettled, ch.Unsettled); !ok {
			return r, overflow(s.cfg.Name)
		}
	}

	pend, err := s.client.PendingChannels(ctx, &lnrpc.PendingChannelsRequest{})
	if err != nil {
		return r, fmt.Errorf("lnd %s: PendingChannels: %w", s.cfg.Name, err)
	}
	for _, p := range pend.PendingOpenChannels {
		r.PendingOpen, _ = add(r.PendingOpen, p.GetChannel().GetLocalBalance())
	}
	for _, p := range pend.WaitingCloseChannels {
		r.PendingClose, _ = add(r.PendingClose, p.GetLimboBalance())
	}
	for _, p := range pend.PendingForceClosingChannels {
		r.PendingClose, _ = add(r.PendingClose, p.GetLimboBalance())
	}

	utxos, err := s.client.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 0, MaxConfs: math.MaxInt32})
	if err != nil {
		return r, fmt.Errorf("lnd %s: ListUnspent: %w", s.cfg.Name, err)
	}
	challengeHeight, challengeHash := int64(info.BlockHeight), info.BlockHash
	if s.cfg.ChallengeBlock != nil {
		if h, hash, ok := s.cfg.ChallengeBlock(); ok {
			challengeHeight, challengeHash = h, hash
		}
	}
	var toProve []int // indexes into r.Wallet
	for _, u := range utxos.Utxos {
		pk, _ := hex.DecodeString(u.PkScript)
		out := WalletOutput{Outpoint: fmt.Sprintf("%s:%d", u.Outpoint.GetTxidStr(), u.Outpoint.GetOutputIndex()),
			Value: u.AmountSat, Address: u.Address, PkScript: pk, FundingHeight: int64(info.BlockHeight) - u.Confirmations + 1}
		if u.Confirmations < s.cfg.MinConf {
			r.WalletImmature, _ = add(r.WalletImmature, u.AmountSat)
			if u.Confirmations > 0 {
				r.Wallet = append(r.Wallet, out)
			}
			continue
		}
		ok, err := s.onChain(u.Outpoint.GetTxidStr(), u.Outpoint.GetOutputIndex(), u.AmountSat)
		if err != nil {
			return r, err
		}
		if !ok {
			r.WalletUnverified, _ = add(r.WalletUnverified, u.AmountSat)
			continue
		}
		out.Verified = true
		st := proving.Status{Why: "no proof of control (no proof macaroon configured for the node)"}
		if s.cfg.Prover != nil {
			st = s.cfg.Prover.Status(out.Outpoint, challengeHeight)
		}
		out.Counted, out.Why = st.Counts, st.Why
		r.Wallet = append(r.Wallet, out)
		if s.canProve() && (!st.Counts || st.Proof != nil && challengeHeight-st.Proof.Challenge.Height > s.cfg.Prover.MaxAge()/2) {
			toProve = append(toProve, len(r.Wallet)-1)
		}
	}
	if len(toProve) > 0 && challengeHash != "" {
		s.proveWallet(ctx, r.Wallet, toProve, control.Challenge{IssuerKey: s.cfg.Prover.IssuerKey(), Height: challengeHeight, Hash: challengeHash})
	}
	for _, w := range r.Wallet {
		if !w.Verified {
			continue
		}
		var fine bool
		if w.Counted {
			r.WalletCounted, fine = add(r.WalletCounted, w.Value)
		} else {
			r.WalletUnproven, fine = add(r.WalletUnproven, w.Value)
		}
		if !fine {
			return r, overflow(s.cfg.Name)
		}
	}
	return r, nil
}

func (s *Source) canProve() bool { return s.prove != "" && s.cfg.Prover != nil }

// proveWallet has the node sign a proof of control over the wallet outputs
// at idx (walletrpc FinalizePsbt on a BIP-127 PSBT), stores it, and marks
// the outputs counted. A failure leaves them uncounted, with the reason.
func (s *Source) proveWallet(ctx context.Context, wallet []WalletOutput, idx []int, ch control.Challenge) {
	outs := make([]proving.Output, 0, len(idx))
	for _, i := range idx {
		w := wallet[i]
		h, vout, err := parseOutpoint(w.Outpoint)
		if err != nil {
			continue
		}
		outs = append(outs, proving.Output{OutPoint: wire.OutPoint{Hash: *h, Index: vout}, Value: w.Value, PkScript: w.PkScript})
	}
	fail := func(err error) {
		why := fmt.Sprintf("the node could not prove control: %v", err)
		for _, i := range idx {
			if !wallet[i].Counted {
				wallet[i].Why = why
			}
		}
		s.proveErr = why
	}
	p, err := proving.Unsigned(ch, outs)
	if err != nil {
		fail(err)
		return
	}
	var raw bytes.Buffer
	if err := p.Serialize(&raw); err != nil {
		fail(err)
		return
	}
	// The proof macaroon replaces the read macaroon Poll's context carries.
	mctx := metadata.NewOutgoingContext(ctx, metadata.Pairs("macaroon", s.prove))
	resp, err := s.wallet.FinalizePsbt(mctx, &walletrpc.FinalizePsbtRequest{FundedPsbt: raw.Bytes()})
	if err != nil {
		if status.Code(err) == codes.PermissionDenied {
			err = fmt.Errorf("the proof macaroon lacks permission for walletrpc FinalizePsbt (%w)", err)
		}
		fail(err)
		return
	}
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(resp.RawFinalTx)); err != nil {
		fail(fmt.Errorf("decode the signed proof: %w", err))
		return
	}
	proof := &control.Proof{Challenge: ch, Tx: tx}
	for _, o := range outs {
		proof.PrevOuts = append(proof.PrevOuts, control.PrevOut{Value: o.Value, Script: o.PkScript})
	}
	if _, err := s.cfg.Prover.Add(ctx, proof, s.cfg.Name); err != nil {
		fail(err)
		return
	}
	s.proveErr = ""
	for _, i := range idx {
		wallet[i].Counted, wallet[i].Why = true, ""
	}
}

// ProveError is the last reason the node could not prove its wallet
// outputs ("" after a success).
func (s *Source) ProveError() string { return s.proveErr }

// isAnnounced reports whether the node's graph holds c's announcement, with
// its authentication proof, naming the node as one end and the same
// channel point. A private channel is never announced; an announced one is
// remembered.
func (s *Source) isAnnounced(ctx context.Context, c *lnrpc.Channel, self string) (bool, error) {
	if c.Private || c.ChanId == 0 {
		return false, nil
	}
	if s.announced[c.ChanId] {
		return true, nil
	}
	e, err := s.client.GetChanInfo(ctx, &lnrpc.ChanInfoRequest{ChanId: c.ChanId, IncludeAuthProof: true})
	if status.Code(err) == codes.NotFound || err != nil && strings.Contains(err.Error(), "not found") {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lnd %s: GetChanInfo %d: %w", s.cfg.Name, c.ChanId, err)
	}
	ok := e.ChanPoint == c.ChannelPoint && (e.Node1Pub == self || e.Node2Pub == self) &&
		e.AuthProof != nil && len(e.AuthProof.NodeSig1) > 0 && len(e.AuthProof.BitcoinSig1) > 0
	if ok {
		s.announced[c.ChanId] = true
	}
	return ok, nil
}

// parseOutpoint parses "txid:vout".
func parseOutpoint(s string) (*chainhash.Hash, uint32, error) {
	txid, vout, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, fmt.Errorf("outpoint %q is not txid:vout", s)
	}
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return nil, 0, err
	}
	n, err := strconv.ParseUint(vout, 10, 32)
	if err != nil {
		return nil, 0, err
	}
	return h, uint32(n), nil
}

func (s *Source) countChannel(c *lnrpc.Channel) (Channel, error) {
	ch := Channel{ChannelPoint: c.ChannelPoint, Capacity: c.Capacity, Active: c.Active,
		LocalBalance: c.LocalBalance, Reserve: c.LocalChanReserveSat, Unsettled: c.UnsettledBalance}
	// The short channel id's top 24 bits are the funding block height; a
	// zero-conf channel's id is an alias until its funding confirms.
	switch {
	case !c.ZeroConf:
		ch.FundingHeight = int64(c.ChanId >> 40)
	case c.ZeroConfConfirmedScid != 0:
		ch.FundingHeight = int64(c.ZeroConfConfirmedScid >> 40)
	}
	txid, idx, err := parseChannelPoint(c.ChannelPoint)
	if err != nil {
		return ch, fmt.Errorf("lnd %s: %w", s.cfg.Name, err)
	}
	ch.Verified, err = s.onChain(txid, idx, c.Capacity)
	if err != nil {
		return ch, err
	}
	switch {
	case !c.Active:
		ch.Why = "channel is inactive"
	case !ch.Verified:
		ch.Why = fmt.Sprintf("funding output is not unspent on-chain with %d confirmations and the stated capacity", s.cfg.MinConf)
	case c.LocalBalance <= c.LocalChanReserveSat:
		ch.Why = "local balance is within the channel reserve"
	default:
		ch.Counted = c.LocalBalance - c.LocalChanReserveSat
	}
	return ch, nil
}

// onChain checks that an output is in our chain backend's UTXO set, with at
// least MinConf confirmations and the given value.
func (s *Source) onChain(txid string, index uint32, value int64) (bool, error) {
	if s.chain == nil {
		return false, nil
	}
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return false, fmt.Errorf("lnd %s reported a malformed txid %q", s.cfg.Name, txid)
	}
	out, err := s.chain.GetTxOut(h, index, false)
	if err != nil {
		return false, fmt.Errorf("check %s:%d on-chain: %w", txid, index, err)
	}
	if out == nil || out.Confirmations < s.cfg.MinConf {
		return false, nil
	}
	amt, err := btcutil.NewAmount(out.Value)
	if err != nil {
		return false, fmt.Errorf("check %s:%d on-chain: value %v: %w", txid, index, out.Value, err)
	}
	return int64(amt) == value, nil
}

func parseChannelPoint(cp string) (string, uint32, error) {
	txid, idx, ok := strings.Cut(cp, ":")
	if !ok {
		return "", 0, fmt.Errorf("malformed channel point %q", cp)
	}
	n, err := strconv.ParseUint(idx, 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("malformed channel point %q", cp)
	}
	return txid, uint32(n), nil
}

func add(a, b int64) (int64, bool) {
	if b < 0 || a > btcutil.MaxSatoshi-b {
		return a, false
	}
	return a + b, true
}

func overflow(name string) error {
	return fmt.Errorf("lnd %s reported balances summing past 21 million BTC", name)
}
