// Package lightning is Kosh's Lightning reserve source: it asks one lnd node,
// through lnrpc with a read-only macaroon (connected by package lndconn), for its channels, pending
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
//     counting a deposit a double-spend removed);
//   - two exceptions follow the node's own spends, so that paying out from
//     the wallet moves the count from the inputs to the change instead of
//     dropping both for MinConf blocks: an output an unconfirmed
//     transaction of the node spends keeps counting while our chain backend
//     still sees it unspent ("spending"), and the change of the node's own
//     transaction counts from its first confirmation when every input it
//     spent was a counted output of the wallet ("change") — a reorg that
//     removes that transaction restores those inputs, so the two are never
//     counted at once;
//   - a wallet output of any of these classes counts only with a proof of
//     control: the node signs a BIP-127 proof over its unproven (or
//     half-expired) outputs through walletrpc's FinalizePsbt (with the proof
//     macaroon), kept by package reserve/proving;
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
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TxOutChecker looks an output up in the chain backend's UTXO set, and a
// block header up by hash (rpcclient.Client satisfies it). A nil GetTxOut
// result means spent or unknown.
type TxOutChecker interface {
	GetTxOut(txHash *chainhash.Hash, index uint32, mempool bool) (*btcjson.GetTxOutResult, error)
	GetBlockHeaderVerbose(blockHash *chainhash.Hash) (*btcjson.GetBlockHeaderVerboseResult, error)
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

// Lnd is the lnrpc calls a Source makes (lnrpc.LightningClient, such as
// lndconn.Conn's, satisfies it). They carry the read-only macaroon the
// connection was dialed with, except SignMessage, which carries the signing
// macaroon.
type Lnd interface {
	GetInfo(ctx context.Context, in *lnrpc.GetInfoRequest, opts ...grpc.CallOption) (*lnrpc.GetInfoResponse, error)
	ListChannels(ctx context.Context, in *lnrpc.ListChannelsRequest, opts ...grpc.CallOption) (*lnrpc.ListChannelsResponse, error)
	PendingChannels(ctx context.Context, in *lnrpc.PendingChannelsRequest, opts ...grpc.CallOption) (*lnrpc.PendingChannelsResponse, error)
	ListUnspent(ctx context.Context, in *lnrpc.ListUnspentRequest, opts ...grpc.CallOption) (*lnrpc.ListUnspentResponse, error)
	GetTransactions(ctx context.Context, in *lnrpc.GetTransactionsRequest, opts ...grpc.CallOption) (*lnrpc.TransactionDetails, error)
	GetChanInfo(ctx context.Context, in *lnrpc.ChanInfoRequest, opts ...grpc.CallOption) (*lnrpc.ChannelEdge, error)
	SignMessage(ctx context.Context, in *lnrpc.SignMessageRequest, opts ...grpc.CallOption) (*lnrpc.SignMessageResponse, error)
}

// WalletKit is the walletrpc call a Source makes to have the node prove
// control of its outputs, with the proof macaroon
// (walletrpc.WalletKitClient satisfies it).
type WalletKit interface {
	FinalizePsbt(ctx context.Context, in *walletrpc.FinalizePsbtRequest, opts ...grpc.CallOption) (*walletrpc.FinalizePsbtResponse, error)
}

// Source is one lnd node as a reserve source.
type Source struct {
	cfg    Config
	conn   io.Closer
	client Lnd
	wallet WalletKit
	sign   lndconn.Macaroon // with message:write; zero: cannot sign
	prove  lndconn.Macaroon // for FinalizePsbt; zero: cannot prove
	chain  TxOutChecker

	// announced remembers channels found announced (an announcement does
	// not go away); poll-goroutine only.
	announced map[uint64]bool
	// proveErr is the last proving failure, logged once per change.
	proveErr string
}

// nodeExample is a complete --lnd.node value, shown when one is incomplete.
const nodeExample = "name=alice,host=127.0.0.1:10009,tlscert=/home/u/.lnd/tls.cert,macaroon=/home/u/.lnd/data/chain/bitcoin/regtest/readonly.macaroon"

// ParseNode parses an --lnd.node value: lndconn's name, host, tlscert and
// macaroon, and optionally signmacaroon and proofmacaroon (see Config). The
// fields Dial needs besides are left for the caller.
func ParseNode(spec string) (Config, error) {
	n, f, err := lndconn.ParseNode("--lnd.node", spec, nodeExample, "signmacaroon", "proofmacaroon")
	if err != nil {
		return Config{}, err
	}
	return Config{Name: n.Name, Host: n.Host, TLSCertPath: n.TLSCertPath, MacaroonPath: n.MacaroonPath,
		SignMacaroonPath: f.String("signmacaroon"), ProofMacaroonPath: f.String("proofmacaroon")}, nil
}

// Dial reads the node's macaroons and connects to lnd (package lndconn).
// The connection reconnects by itself with exponential backoff (1 s up to
// 30 s) whenever the node goes away.
func Dial(cfg Config, chain TxOutChecker) (*Source, error) {
	if cfg.Name == "" || cfg.Host == "" {
		return nil, errors.New("lnd source needs a name and a host")
	}
	mac, err := lndconn.ReadMacaroon(cfg.MacaroonPath)
	if err != nil {
		return nil, fmt.Errorf("lnd %s: %w", cfg.Name, err)
	}
	src := &Source{cfg: cfg, chain: chain, announced: map[uint64]bool{}}
	if cfg.ProofMacaroonPath != "" {
		if src.prove, err = lndconn.ReadMacaroon(cfg.ProofMacaroonPath); err != nil {
			return nil, fmt.Errorf("lnd %s: proofmacaroon: %w", cfg.Name, err)
		}
	}
	if cfg.SignMacaroonPath != "" {
		if src.sign, err = lndconn.ReadMacaroon(cfg.SignMacaroonPath); err != nil {
			return nil, fmt.Errorf("lnd %s: signmacaroon: %w", cfg.Name, err)
		}
	}
	conn, err := lndconn.Dial(lndconn.Node{Name: cfg.Name, Host: cfg.Host, TLSCertPath: cfg.TLSCertPath}, mac, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("lnd %s: %w", cfg.Name, err)
	}
	if src.cfg.MinConf <= 0 {
		src.cfg.MinConf = 1
	}
	src.conn, src.client, src.wallet = conn, conn.Lightning, conn.Wallet
	return src, nil
}

// CanSign reports whether a signing macaroon is configured.
func (s *Source) CanSign() bool { return !s.sign.IsZero() }

// SignMessage has the node sign msg with its identity key (lnd SignMessage:
// "Lightning Signed Message:" prefix, double SHA-256, recoverable ECDSA,
// zbase32), as proofs/sig.VerifyNodeMessage checks without lnd.
func (s *Source) SignMessage(ctx context.Context, msg []byte) (string, error) {
	if s.sign.IsZero() {
		return "", fmt.Errorf("lnd %s: no signing macaroon configured (signmacaroon=)", s.cfg.Name)
	}
	r, err := s.client.SignMessage(lndconn.WithMacaroon(ctx, s.sign), &lnrpc.SignMessageRequest{Msg: msg})
	if err != nil {
		return "", fmt.Errorf("lnd %s: SignMessage: %w", s.cfg.Name, err)
	}
	return r.Signature, nil
}

// Name is the source's name.
func (s *Source) Name() string { return s.cfg.Name }

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
	// Class is the counted class the output belongs to by the wallet rules
	// ("confirmed", "change" or "spending"; "" for an output too young).
	Class string
	// Counted is true when the output counts toward the reserves: in a
	// class, and proven controlled.
	Counted bool
	// Why says why an output of a class does not count (no proof).
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
	// WalletChange is the change of the node's own confirmed transactions
	// younger than MinConf whose every input was a counted wallet output;
	// WalletSpending is wallet outputs that an unconfirmed transaction of
	// the node spends, still unspent on-chain and old enough to count
	// (docs/reserves.md, "Spending from the wallet"). Both count.
	WalletChange   int64
	WalletSpending int64
	// ChannelsClaimed is what claimed (unannounced) channels would count:
	// counted only if the operator's policy says so.
	ChannelsClaimed int64
	// WalletUnproven sums wallet outputs of a counted class without a good
	// proof of control: reported, not counted.
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
func (r Report) Counted() int64 {
	// Each class is bounded by 21 million BTC (checked as it is summed),
	// so four of them cannot overflow int64.
	return r.ChannelsCounted + r.WalletCounted + r.WalletChange + r.WalletSpending
}

// Poll asks the node for its balances and applies the counting rules.
func (s *Source) Poll(ctx context.Context) (Report, error) {
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

	if err := s.countWallet(ctx, info.BlockHeight, &r); err != nil {
		return r, err
	}
	if err := s.requireProofs(ctx, info, &r); err != nil {
		return r, err
	}
	return r, nil
}

// requireProofs keeps in their classes only the wallet outputs with a good
// proof of control at the challenge block, after having the node prove the
// ones that have none (or whose proof is half way to its age) when it can;
// the others move to WalletUnproven with the reason.
func (s *Source) requireProofs(ctx context.Context, info *lnrpc.GetInfoResponse, r *Report) error {
	height, hash := int64(info.BlockHeight), info.BlockHash
	if s.cfg.ChallengeBlock != nil {
		if h, bh, ok := s.cfg.ChallengeBlock(); ok {
			height, hash = h, bh
		}
	}
	var toProve []int
	for i := range r.Wallet {
		w := &r.Wallet[i]
		if w.Class == "" {
			continue
		}
		st := proving.Status{Why: "no proof of control (no proof macaroon configured for the node)"}
		if s.cfg.Prover != nil {
			st = s.cfg.Prover.Status(w.Outpoint, height)
		}
		w.Counted, w.Why = st.Counts, st.Why
		// Outputs being spent are no longer the wallet's to sign for: they
		// keep the proof they had.
		if s.canProve() && w.Class != classSpending && len(w.PkScript) > 0 &&
			(!st.Counts || st.Proof != nil && height-st.Proof.Challenge.Height > s.cfg.Prover.MaxAge()/2) {
			toProve = append(toProve, i)
		}
	}
	if len(toProve) > 0 && hash != "" {
		s.proveWallet(ctx, r.Wallet, toProve, control.Challenge{IssuerKey: s.cfg.Prover.IssuerKey(), Height: height, Hash: hash})
	}
	for _, w := range r.Wallet {
		if w.Class == "" || w.Counted {
			continue
		}
		class := map[string]*int64{classConfirmed: &r.WalletCounted, classChange: &r.WalletChange, classSpending: &r.WalletSpending}[w.Class]
		*class -= w.Value
		var ok bool
		if r.WalletUnproven, ok = add(r.WalletUnproven, w.Value); !ok {
			return overflow(s.cfg.Name)
		}
	}
	return nil
}

// The counted wallet classes.
const (
	classConfirmed = "confirmed"
	classChange    = "change"
	classSpending  = "spending"
)

// countWallet applies the wallet rules to the node's unspent outputs and to
// the outputs its recent transactions spend. Every on-chain lookup of one
// count must see the same best block of our backend (so that a block or a
// reorg arriving mid-count cannot show a spend both confirmed and not); if
// the backend moved, the count is taken again.
func (s *Source) countWallet(ctx context.Context, tip uint32, r *Report) error {
	utxos, err := s.client.ListUnspent(ctx, &lnrpc.ListUnspentRequest{MinConfs: 0, MaxConfs: math.MaxInt32})
	if err != nil {
		return fmt.Errorf("lnd %s: ListUnspent: %w", s.cfg.Name, err)
	}
	recent, err := s.recentTransactions(ctx, tip)
	if err != nil {
		return err
	}
	const attempts = 3
	for i := 0; ; i++ {
		w := walletCount{src: s, recent: recent, tip: tip, heights: map[string]int64{}}
		err := w.count(utxos.Utxos)
		if err == nil && len(w.bests) <= 1 {
			r.Wallet = w.outputs
			r.WalletCounted, r.WalletChange, r.WalletSpending = w.confirmed, w.change, w.spending
			r.WalletImmature, r.WalletUnverified = w.immature, w.unverified
			return nil
		}
		if err != nil {
			return err
		}
		if i+1 == attempts {
			return fmt.Errorf("lnd %s: our chain backend's best block changed during each of %d wallet counts", s.cfg.Name, attempts)
		}
	}
}

// walletCount is one count of a node's wallet.
type walletCount struct {
	src     *Source
	recent  recentTxs
	tip     uint32
	heights map[string]int64 // best block hash -> height
	bests   map[string]bool  // best blocks the lookups saw

	outputs                                           []WalletOutput
	confirmed, change, spending, immature, unverified int64
}

func (w *walletCount) txOut(txid string, index uint32) (*btcjson.GetTxOutResult, error) {
	out, err := w.src.txOut(txid, index)
	if out != nil {
		if w.bests == nil {
			w.bests = map[string]bool{}
		}
		w.bests[out.BestBlock] = true
	}
	return out, err
}

// counted adds o to a counted class (name: classConfirmed, ...); whether
// it counts is decided by its proof of control (requireProofs).
func (w *walletCount) counted(class *int64, name string, o WalletOutput) error {
	var ok bool
	if *class, ok = add(*class, o.Value); !ok {
		return overflow(w.src.cfg.Name)
	}
	o.Counted, o.Class = true, name
	w.outputs = append(w.outputs, o)
	return nil
}

func (w *walletCount) count(utxos []*lnrpc.Utxo) error {
	minConf := w.src.cfg.MinConf
	listed := map[string]bool{}
	for _, u := range utxos {
		txid, idx := u.Outpoint.GetTxidStr(), u.Outpoint.GetOutputIndex()
		op := fmt.Sprintf("%s:%d", txid, idx)
		listed[op] = true
		pk, _ := hex.DecodeString(u.PkScript)
		o := WalletOutput{Outpoint: op, Value: u.AmountSat, Address: u.Address, PkScript: pk,
			FundingHeight: int64(w.tip) - u.Confirmations + 1}
		if u.Confirmations >= minConf {
			out, err := w.txOut(txid, idx)
			if err != nil {
				return err
			}
			if !w.src.matches(txid, idx, out, u.AmountSat, minConf) {
				w.unverified, _ = add(w.unverified, u.AmountSat)
				continue
			}
			if err := w.counted(&w.confirmed, classConfirmed, o); err != nil {
				return err
			}
			continue
		}
		// Younger than MinConf: the change of the node's own spend of
		// counted outputs counts once our backend has the spend in a
		// block, whatever lnd says of it.
		if w.recent.ownSpend(txid) {
			out, err := w.txOut(txid, idx)
			if err != nil {
				return err
			}
			if w.src.matches(txid, idx, out, u.AmountSat, 1) {
				// lnd may not have seen the block yet: the height is our
				// backend's, as attestations state it.
				height, err := w.bestHeight(out.BestBlock)
				if err != nil {
					return fmt.Errorf("check %s on-chain: %w", op, err)
				}
				o.FundingHeight = height - out.Confirmations + 1
				if err := w.counted(&w.change, classChange, o); err != nil {
					return err
				}
				continue
			}
		}
		w.immature, _ = add(w.immature, u.AmountSat)
		if u.Confirmations > 0 {
			w.outputs = append(w.outputs, o)
		}
	}
	return w.countSpending(listed)
}

// countSpending counts the wallet outputs that the node's recent
// transactions spend and lnd therefore no longer lists: until our backend
// has the spend in a block, they are still on-chain and still the node's
// (only it can sign for them). Our backend's UTXO set, mempool excluded,
// decides: an output counts while it is unspent there with MinConf
// confirmations, or is in a block and is the change of the node's own
// spend. A reorg that un-confirms one of the node's transactions puts its
// inputs back here and takes its change out of the change class.
func (w *walletCount) countSpending(listed map[string]bool) error {
	for _, t := range w.recent.sorted() {
		for _, in := range t.PreviousOutpoints {
			if !in.IsOurOutput || listed[in.Outpoint] {
				continue
			}
			listed[in.Outpoint] = true // an output two conflicting spends share is counted once
			txid, idx, err := parseChannelPoint(in.Outpoint)
			if err != nil {
				return fmt.Errorf("lnd %s: transaction %s spends %w", w.src.cfg.Name, t.TxHash, err)
			}
			out, err := w.txOut(txid, idx)
			if err != nil {
				return err
			}
			if out == nil || out.Confirmations < 1 {
				continue // spent in our backend's chain (or never there): nothing to count
			}
			value, err := btcutil.NewAmount(out.Value)
			if err != nil {
				return fmt.Errorf("check %s on-chain: value %v: %w", in.Outpoint, out.Value, err)
			}
			if value <= 0 {
				continue
			}
			height, err := w.bestHeight(out.BestBlock)
			if err != nil {
				return fmt.Errorf("check %s on-chain: %w", in.Outpoint, err)
			}
			pk, _ := hex.DecodeString(out.ScriptPubKey.Hex)
			o := WalletOutput{Outpoint: in.Outpoint, Value: int64(value), Address: out.ScriptPubKey.Address, PkScript: pk,
				FundingHeight: height - out.Confirmations + 1}
			if o.Address == "" && len(out.ScriptPubKey.Addresses) == 1 {
				o.Address = out.ScriptPubKey.Addresses[0] // btcd before "address"
			}
			if out.Confirmations >= w.src.cfg.MinConf || w.recent.ownSpend(txid) {
				if err := w.counted(&w.spending, classSpending, o); err != nil {
					return err
				}
				continue
			}
			w.immature, _ = add(w.immature, int64(value))
			w.outputs = append(w.outputs, o)
		}
	}
	return nil
}

// bestHeight is the height of our backend's block hash.
func (w *walletCount) bestHeight(hash string) (int64, error) {
	if h, ok := w.heights[hash]; ok {
		return h, nil
	}
	bh, err := chainhash.NewHashFromStr(hash)
	if err != nil {
		return 0, fmt.Errorf("best block %q: %w", hash, err)
	}
	hdr, err := w.src.chain.GetBlockHeaderVerbose(bh)
	if err != nil {
		return 0, fmt.Errorf("header of %s: %w", hash, err)
	}
	w.heights[hash] = int64(hdr.Height)
	return int64(hdr.Height), nil
}

// recentTransactions lists the node's wallet transactions with fewer than
// MinConf+1 confirmations, unconfirmed ones included.
func (s *Source) recentTransactions(ctx context.Context, tip uint32) (recentTxs, error) {
	start := int64(tip) - s.cfg.MinConf + 1
	if start < 1 {
		start = 1 // 0 would mean "from genesis", which is what 1 means too
	}
	res, err := s.client.GetTransactions(ctx, &lnrpc.GetTransactionsRequest{StartHeight: int32(min(start, math.MaxInt32)), EndHeight: -1})
	if err != nil {
		return recentTxs{}, fmt.Errorf("lnd %s: GetTransactions: %w", s.cfg.Name, err)
	}
	return newRecentTxs(res.Transactions, s.cfg.MinConf), nil
}

// recentTxs are the wallet's transactions younger than MinConf: those it
// lists are all of them, so a transaction of the wallet that is not among
// them has at least MinConf confirmations.
type recentTxs struct {
	byID    map[string]*lnrpc.Transaction
	minConf int64
	memo    map[string]bool
}

func newRecentTxs(txs []*lnrpc.Transaction, minConf int64) recentTxs {
	r := recentTxs{byID: make(map[string]*lnrpc.Transaction, len(txs)), minConf: minConf, memo: map[string]bool{}}
	for _, t := range txs {
		r.byID[t.TxHash] = t
	}
	return r
}

// sorted returns the transactions in a fixed order.
func (r recentTxs) sorted() []*lnrpc.Transaction {
	out := make([]*lnrpc.Transaction, 0, len(r.byID))
	for _, t := range r.byID {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TxHash < out[j].TxHash })
	return out
}

// ownSpend reports whether transaction txid, younger than MinConf (or
// unconfirmed), is the node's own spend of counted outputs: lnd names its
// inputs, each one is the wallet's, and each was counted — made by a
// transaction with at least MinConf confirmations, or itself the change of
// such an own spend (a payout of a payout's change). Its change may count
// once our backend has it in a block. A transaction that spent anything
// else (another party's output, an output of the wallet not yet old
// enough) is not an own spend, and its change waits for MinConf.
func (r recentTxs) ownSpend(txid string) bool {
	t, ok := r.byID[txid]
	if !ok || int64(t.NumConfirmations) >= r.minConf || len(t.PreviousOutpoints) == 0 {
		return false
	}
	if v, ok := r.memo[txid]; ok {
		return v
	}
	r.memo[txid] = false // a cycle (impossible in a valid chain) counts nothing
	for _, in := range t.PreviousOutpoints {
		parent, _, err := parseChannelPoint(in.Outpoint)
		if err != nil || !in.IsOurOutput || parent == txid {
			return false
		}
		if p, listed := r.byID[parent]; listed && int64(p.NumConfirmations) < r.minConf && !r.ownSpend(parent) {
			return false
		}
	}
	r.memo[txid] = true
	return true
}

func (s *Source) canProve() bool { return !s.prove.IsZero() && s.cfg.Prover != nil }

// proveWallet has the node sign a proof of control over the wallet outputs
// at idx (walletrpc FinalizePsbt on a BIP-127 PSBT), stores it, and marks
// the outputs counted. A failure leaves them uncounted, with the reason.
func (s *Source) proveWallet(ctx context.Context, wallet []WalletOutput, idx []int, ch control.Challenge) {
	outs := make([]proving.Output, 0, len(idx))
	for _, i := range idx {
		w := wallet[i]
		txid, vout, err := parseChannelPoint(w.Outpoint)
		if err != nil {
			continue
		}
		h, err := chainhash.NewHashFromStr(txid)
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
	// The proof macaroon replaces the read macaroon of the connection.
	resp, err := s.wallet.FinalizePsbt(lndconn.WithMacaroon(ctx, s.prove), &walletrpc.FinalizePsbtRequest{FundedPsbt: raw.Bytes()})
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

func (s *Source) countChannel(c *lnrpc.Channel) (Channel, error) {
	// The reserve this node must keep in the channel (lnd's
	// local_constraints, which replaces the deprecated local_chan_reserve_sat).
	reserve, err := chanReserve(c)
	if err != nil {
		return Channel{}, fmt.Errorf("lnd %s: channel %s: %w", s.cfg.Name, c.ChannelPoint, err)
	}
	ch := Channel{ChannelPoint: c.ChannelPoint, Capacity: c.Capacity, Active: c.Active,
		LocalBalance: c.LocalBalance, Reserve: reserve, Unsettled: c.UnsettledBalance}
	// The short channel id's top 24 bits are the funding block height; a
	// zero-conf channel's id is an alias until its funding confirms.
	var scid uint64
	switch {
	case !c.ZeroConf:
		scid = c.ChanId
	case c.ZeroConfConfirmedScid != 0:
		scid = c.ZeroConfConfirmedScid
	}
	if scid != 0 {
		ch.FundingHeight = int64(scid >> 40)
		ch.ShortChannelID = fmt.Sprintf("%dx%dx%d", scid>>40, scid>>16&0xffffff, scid&0xffff)
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
	case c.LocalBalance <= reserve:
		ch.Why = "local balance is within the channel reserve"
	default:
		ch.Counted = c.LocalBalance - reserve
	}
	return ch, nil
}

// chanReserve is the channel reserve lnd reports for this node's side.
func chanReserve(c *lnrpc.Channel) (int64, error) {
	r := c.GetLocalConstraints().GetChanReserveSat()
	if r > math.MaxInt64 {
		return 0, fmt.Errorf("channel reserve %d sats is out of range", r)
	}
	return int64(r), nil
}

// onChain checks that an output is in our chain backend's UTXO set, with at
// least MinConf confirmations and the given value.
func (s *Source) onChain(txid string, index uint32, value int64) (bool, error) {
	out, err := s.txOut(txid, index)
	if err != nil {
		return false, err
	}
	return s.matches(txid, index, out, value, s.cfg.MinConf), nil
}

// txOut looks an output up in our chain backend's UTXO set, mempool
// excluded; nil means spent, unknown, or no chain backend.
func (s *Source) txOut(txid string, index uint32) (*btcjson.GetTxOutResult, error) {
	if s.chain == nil {
		return nil, nil
	}
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return nil, fmt.Errorf("lnd %s reported a malformed txid %q", s.cfg.Name, txid)
	}
	out, err := s.chain.GetTxOut(h, index, false)
	if err != nil {
		return nil, fmt.Errorf("check %s:%d on-chain: %w", txid, index, err)
	}
	return out, nil
}

// matches reports whether an output our backend returned is in a block
// with at least minConf confirmations and holds value.
func (s *Source) matches(txid string, index uint32, out *btcjson.GetTxOutResult, value, minConf int64) bool {
	if out == nil || out.Confirmations < minConf || out.Confirmations < 1 {
		return false
	}
	amt, err := btcutil.NewAmount(out.Value)
	return err == nil && int64(amt) == value
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
