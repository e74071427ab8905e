package anchorer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc"
)

// Wallet is the part of lnd's walletrpc an Anchorer uses
// (walletrpc.WalletKitClient satisfies it).
type Wallet interface {
	NextAddr(ctx context.Context, in *walletrpc.AddrRequest, opts ...grpc.CallOption) (*walletrpc.AddrResponse, error)
	LeaseOutput(ctx context.Context, in *walletrpc.LeaseOutputRequest, opts ...grpc.CallOption) (*walletrpc.LeaseOutputResponse, error)
	ReleaseOutput(ctx context.Context, in *walletrpc.ReleaseOutputRequest, opts ...grpc.CallOption) (*walletrpc.ReleaseOutputResponse, error)
	ListLeases(ctx context.Context, in *walletrpc.ListLeasesRequest, opts ...grpc.CallOption) (*walletrpc.ListLeasesResponse, error)
	FundPsbt(ctx context.Context, in *walletrpc.FundPsbtRequest, opts ...grpc.CallOption) (*walletrpc.FundPsbtResponse, error)
	FinalizePsbt(ctx context.Context, in *walletrpc.FinalizePsbtRequest, opts ...grpc.CallOption) (*walletrpc.FinalizePsbtResponse, error)
	PublishTransaction(ctx context.Context, in *walletrpc.Transaction, opts ...grpc.CallOption) (*walletrpc.PublishResponse, error)
	GetTransaction(ctx context.Context, in *walletrpc.GetTransactionRequest, opts ...grpc.CallOption) (*lnrpc.Transaction, error)
	BumpFee(ctx context.Context, in *walletrpc.BumpFeeRequest, opts ...grpc.CallOption) (*walletrpc.BumpFeeResponse, error)
	RemoveTransaction(ctx context.Context, in *walletrpc.GetTransactionRequest, opts ...grpc.CallOption) (*walletrpc.RemoveTransactionResponse, error)
}

// Attestations is where the anchorer finds the newest attestation
// (attestor.Service).
type Attestations interface {
	Latest(ctx context.Context) (attestor.Published, error)
}

// SealSats is the value of an anchor's seal output: above the dust limit
// of a P2TR output at lnd's default relay fee (330 sats).
const SealSats = 1000

// SealLeaseID is the walletrpc lease ID the seals of koshd's anchors are
// held under, SHA-256 of "kosh/anchor-seal"; FundingLeaseID is the one of
// the inputs FundPsbt adds, SHA-256 of "kosh/anchor-funding". They differ so
// that freeing the inputs of a run that died never frees a seal.
var (
	SealLeaseID    = leaseID("kosh/anchor-seal")
	FundingLeaseID = leaseID("kosh/anchor-funding")
)

func leaseID(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// sealLease is how long a seal stays leased; every run renews it.
const sealLease = 30 * 24 * time.Hour

// fundingLease is how long inputs FundPsbt adds stay locked if koshd dies
// before it stores the signed transaction.
const fundingLease = 10 * time.Minute

// Config configures an Anchorer.
type Config struct {
	Store        Store
	Wallet       Wallet
	Attestations Attestations
	// IssuerKey is the issuer's x-only public key the commitments use.
	IssuerKey [32]byte
	// Params is the network of the seal addresses.
	Params *chaincfg.Params
	// SatPerVbyte is the fee rate of anchor transactions.
	SatPerVbyte uint64
	// MinConf is how many confirmations make an anchor confirmed (default 1).
	MinConf int32
	// Bump is the fee policy of an anchor stuck unconfirmed (zero: never
	// bumped).
	Bump BumpPolicy
	// Fault is a test hook called at the crash points (docs/proofs.md
	// §4.14): anchor:funded, anchor:stored, anchor:published.
	Fault func(point string) error
	Now   func() time.Time
	Log   *slog.Logger
}

// Anchorer makes anchors, one step at a time, and follows them to
// confirmation.
type Anchorer struct {
	cfg Config
	mu  sync.Mutex // one Step at a time
}

// New returns an Anchorer.
func New(cfg Config) *Anchorer {
	if cfg.MinConf <= 0 {
		cfg.MinConf = 1
	}
	if cfg.SatPerVbyte == 0 {
		cfg.SatPerVbyte = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Fault == nil {
		cfg.Fault = func(string) error { return nil }
	}
	return &Anchorer{cfg: cfg}
}

// ErrCrash is returned after a fault hook asked for a simulated crash.
var ErrCrash = errors.New("anchorer: simulated crash")

// ErrPending means the newest anchor is not confirmed yet, so no new one
// can be made (it must spend that anchor's seal).
var ErrPending = errors.New("the newest anchor is not confirmed yet")

// ErrNothingToAnchor means the newest attestation is anchored already (or
// there is none).
var ErrNothingToAnchor = errors.New("the newest attestation is already anchored")

func (a *Anchorer) fault(point string) error {
	if err := a.cfg.Fault(point); err != nil {
		return fmt.Errorf("%w at %s: %w", ErrCrash, point, err)
	}
	return nil
}

// Follow moves the newest anchor towards confirmation: it publishes a
// signed or published one again (idempotently) and records its block once
// lnd's wallet sees it with MinConf confirmations; a confirmed one that
// left the chain goes back to published, and one lnd no longer knows after
// publication (double-spent inputs) is dropped, so that Anchor makes it
// again. It returns the newest anchor as it stands.
func (a *Anchorer) Follow(ctx context.Context) (Record, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.follow(ctx)
}

func (a *Anchorer) follow(ctx context.Context) (Record, error) {
	r, err := a.cfg.Store.Latest(ctx)
	if err != nil {
		return r, err
	}
	now := a.cfg.Now().UnixMilli()
	if r.State == StateSigned {
		// A transaction signed long ago (koshd down past the funding
		// lease) may find its coins spent elsewhere: drop it, make another.
		if err := a.publish(ctx, r); isConflict(err) {
			return a.drop(ctx, r, now, err)
		} else if err != nil {
			return r, err
		}
		next := r
		next.State, next.UpdatedAt = StatePublished, now
		if err := a.cfg.Store.Move(ctx, r.Seq, StateSigned, next); err != nil {
			return r, err
		}
		r = next
		if err := a.fault("anchor:published"); err != nil {
			return r, err
		}
	}
	if adopted, ok, err := a.adoptReplaced(ctx, r, now); err != nil || ok {
		return adopted, err
	}
	tx, err := a.cfg.Wallet.GetTransaction(ctx, &walletrpc.GetTransactionRequest{Txid: r.Txid})
	switch {
	case isUnknown(err):
		if r.State == StateConfirmed {
			// lnd forgot a confirmed transaction: a deep reorganisation
			// that conflicted it. Publish again; if its inputs are gone,
			// the next Follow drops it.
			return a.unconfirm(ctx, r, now)
		}
		if err := a.publish(ctx, r); isConflict(err) {
			return a.drop(ctx, r, now, err)
		} else if err != nil {
			return r, err
		}
		return r, nil
	case err != nil:
		return r, fmt.Errorf("look up anchor %s in lnd's wallet: %w", r.Txid, err)
	}
	confirmed := tx.NumConfirmations >= a.cfg.MinConf && tx.BlockHash != ""
	switch {
	case confirmed && (r.State != StateConfirmed || r.BlockHash != tx.BlockHash):
		next := r
		next.State, next.Height, next.BlockHash, next.UpdatedAt = StateConfirmed, int64(tx.BlockHeight), tx.BlockHash, now
		if err := a.cfg.Store.Move(ctx, r.Seq, r.State, next); err != nil {
			return r, err
		}
		a.cfg.Log.Info("anchor confirmed", "anchor", r.Seq, "attestation", r.AttestationSeq, "txid", r.Txid,
			"height", tx.BlockHeight)
		return next, a.leaseSeal(ctx, r.Txid)
	case !confirmed && r.State == StateConfirmed:
		return a.unconfirm(ctx, r, now)
	case !confirmed && tx.NumConfirmations == 0:
		// In the mempool, or back in it after a reorganisation: make sure
		// the network has it, and bump its fee when it is stuck. One the
		// network refuses for good (an input spent elsewhere or gone with
		// a reorganisation) is dropped and made again.
		if err := a.publish(ctx, r); isConflict(err) {
			return a.drop(ctx, r, now, err)
		} else if err != nil {
			return r, err
		}
		if next, err := a.bump(ctx, r, now); err != nil {
			a.cfg.Log.Warn("could not bump the fee of a stuck anchor", "anchor", r.Seq, "txid", r.Txid, "err", err)
		} else {
			r = next
		}
	}
	return r, a.leaseSeal(ctx, r.Txid)
}

// drop ends an anchor that can no longer confirm (why: the network's
// refusal) and has lnd forget it, freeing its inputs; Anchor then makes a
// new one spending the same seal.
func (a *Anchorer) drop(ctx context.Context, r Record, now int64, why error) (Record, error) {
	a.cfg.Log.Warn("anchor can no longer confirm: dropped, to be made again", "anchor", r.Seq, "txid", r.Txid, "err", why)
	next := r
	next.State, next.UpdatedAt = StateDropped, now
	if err := a.cfg.Store.Move(ctx, r.Seq, r.State, next); err != nil {
		return r, err
	}
	if _, err := a.cfg.Wallet.RemoveTransaction(ctx, &walletrpc.GetTransactionRequest{Txid: r.Txid}); err != nil {
		a.cfg.Log.Info("lnd did not remove the dropped anchor from its wallet", "txid", r.Txid, "err", err)
	}
	return next, nil
}

// unconfirm takes a confirmed anchor back to published after it left the
// chain, and publishes it again.
func (a *Anchorer) unconfirm(ctx context.Context, r Record, now int64) (Record, error) {
	a.cfg.Log.Warn("anchor left the chain (reorganisation): publishing it again", "anchor", r.Seq, "txid", r.Txid,
		"was_height", r.Height)
	next := r
	next.State, next.Height, next.BlockHash, next.UpdatedAt = StatePublished, 0, "", now
	if err := a.cfg.Store.Move(ctx, r.Seq, StateConfirmed, next); err != nil {
		return r, err
	}
	if err := a.publish(ctx, next); err != nil && !isConflict(err) {
		return next, err
	}
	return next, nil
}

// Anchor makes a new anchor for the newest attestation, after following
// the newest anchor: ErrPending while that one is unconfirmed,
// ErrNothingToAnchor when the newest attestation is anchored already.
func (a *Anchorer) Anchor(ctx context.Context, trigger string) (Record, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	prev, err := a.follow(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		prev = Record{}
	case err != nil:
		return prev, err
	case prev.State == StateDropped:
		// Made again below, spending what the dropped one spent.
		if prev, err = a.cfg.Store.LatestConfirmed(ctx); errors.Is(err, ErrNotFound) {
			prev = Record{}
		} else if err != nil {
			return prev, err
		}
	case prev.State != StateConfirmed:
		return prev, fmt.Errorf("%w: anchor %d (%s) is %s", ErrPending, prev.Seq, prev.Txid, prev.State)
	}
	att, err := a.cfg.Attestations.Latest(ctx)
	if errors.Is(err, ledger.ErrNotFound) || errors.Is(err, attestor.ErrNotStored) {
		return prev, fmt.Errorf("%w: no attestation has been made yet", ErrNothingToAnchor)
	}
	if err != nil {
		return prev, fmt.Errorf("read the newest attestation: %w", err)
	}
	if prev.Seq != 0 && att.Seq <= prev.AttestationSeq {
		return prev, fmt.Errorf("%w: anchor %d commits to attestation %d", ErrNothingToAnchor, prev.Seq, prev.AttestationSeq)
	}
	rec, err := a.make(ctx, prev, att, trigger)
	if err != nil {
		return rec, err
	}
	if err := a.fault("anchor:stored"); err != nil {
		return rec, err
	}
	return a.follow(ctx)
}

// make funds, signs and stores (as signed) the anchor of att spending
// prev's seal (none for the genesis anchor).
func (a *Anchorer) make(ctx context.Context, prev Record, att attestor.Published, trigger string) (Record, error) {
	id, err := hex.DecodeString(att.ID)
	if err != nil || len(id) != 32 {
		return Record{}, fmt.Errorf("attestation %d has a malformed id %q", att.Seq, att.ID)
	}
	payload := anchor.Payload{Seq: uint64(att.Seq), Commitment: anchor.Commit(a.cfg.IssuerKey, uint64(att.Seq), [32]byte(id)),
		PrevHeight: uint32(prev.Height)}
	// Inputs a run that died before storing its transaction left locked
	// are freed first (seals are leased under another id).
	if err := a.releaseStale(ctx); err != nil {
		return Record{}, err
	}
	packet, err := a.template(ctx, prev, payload)
	if err != nil {
		return Record{}, err
	}
	var buf bytes.Buffer
	if err := packet.Serialize(&buf); err != nil {
		return Record{}, fmt.Errorf("serialize the anchor template: %w", err)
	}
	funded, err := a.cfg.Wallet.FundPsbt(ctx, &walletrpc.FundPsbtRequest{
		Template: &walletrpc.FundPsbtRequest_CoinSelect{CoinSelect: &walletrpc.PsbtCoinSelect{
			Psbt: buf.Bytes(), ChangeOutput: &walletrpc.PsbtCoinSelect_Add{Add: true}}},
		Fees:                  &walletrpc.FundPsbtRequest_SatPerVbyte{SatPerVbyte: a.cfg.SatPerVbyte},
		MinConfs:              1,
		ChangeType:            walletrpc.ChangeAddressType_CHANGE_ADDRESS_TYPE_P2TR,
		CustomLockId:          FundingLeaseID,
		LockExpirationSeconds: uint64(fundingLease / time.Second),
	})
	if err != nil {
		return Record{}, fmt.Errorf("fund the anchor transaction (lnd FundPsbt): %w", err)
	}
	if err := a.fault("anchor:funded"); err != nil {
		return Record{}, err
	}
	// Every input signals replaceability (BIP 125), so that a stuck
	// anchor can be replaced at a higher fee.
	signaling, err := signalRBF(funded.FundedPsbt)
	if err != nil {
		return Record{}, err
	}
	fin, err := a.cfg.Wallet.FinalizePsbt(ctx, &walletrpc.FinalizePsbtRequest{FundedPsbt: signaling})
	if err != nil {
		return Record{}, fmt.Errorf("sign the anchor transaction (lnd FinalizePsbt): %w", err)
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(fin.RawFinalTx)); err != nil {
		return Record{}, fmt.Errorf("decode the signed anchor transaction: %w", err)
	}
	if err := checkShape(&tx, payload, prev); err != nil {
		return Record{}, err
	}
	fee, err := feeOf(signaling, &tx)
	if err != nil {
		return Record{}, err
	}
	now := a.cfg.Now().UnixMilli()
	rec, err := a.cfg.Store.Insert(ctx, Record{AttestationSeq: att.Seq, AttestationID: att.ID, PrevTxid: prev.Txid,
		PrevHeight: prev.Height, Txid: tx.TxHash().String(), RawTx: fin.RawFinalTx, FeeSats: fee, Vbytes: vsize(&tx),
		State: StateSigned, Trigger: trigger, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return rec, fmt.Errorf("store the signed anchor: %w", err)
	}
	a.cfg.Log.Info("anchor signed", "anchor", rec.Seq, "attestation", att.Seq, "txid", rec.Txid, "fee_sats", fee,
		"vbytes", rec.Vbytes, "genesis", prev.Txid == "")
	return rec, nil
}

// template is the unfunded anchor: the seal of prev as its input (none
// for genesis), the commitment as output 0 and a new seal to a fresh lnd
// address as output 1.
func (a *Anchorer) template(ctx context.Context, prev Record, p anchor.Payload) (*psbt.Packet, error) {
	addr, err := a.cfg.Wallet.NextAddr(ctx, &walletrpc.AddrRequest{Type: walletrpc.AddressType_TAPROOT_PUBKEY})
	if err != nil {
		return nil, fmt.Errorf("new seal address (lnd NextAddr): %w", err)
	}
	sealScript, err := scriptOf(addr.Addr, a.cfg.Params)
	if err != nil {
		return nil, err
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxOut(wire.NewTxOut(0, p.Script()))
	tx.AddTxOut(wire.NewTxOut(SealSats, sealScript))
	var prevOut *wire.TxOut
	if prev.Txid != "" {
		var ptx wire.MsgTx
		if err := ptx.Deserialize(bytes.NewReader(prev.RawTx)); err != nil {
			return nil, fmt.Errorf("decode anchor %d: %w", prev.Seq, err)
		}
		h := ptx.TxHash()
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, anchor.SealOutput), nil, nil))
		prevOut = ptx.TxOut[anchor.SealOutput]
		// coin_select wants the wallet's own inputs locked already.
		if err := a.leaseSeal(ctx, prev.Txid); err != nil {
			return nil, err
		}
	}
	packet, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		return nil, fmt.Errorf("anchor template: %w", err)
	}
	if prevOut != nil {
		packet.Inputs[0].WitnessUtxo = prevOut
	}
	return packet, nil
}

// checkShape makes sure lnd kept the template: the commitment at output
// 0, a seal at output 1 and, after genesis, prev's seal spent.
func checkShape(tx *wire.MsgTx, p anchor.Payload, prev Record) error {
	got, err := anchor.FromTx(tx)
	if err != nil || got != p {
		return fmt.Errorf("lnd changed the anchor template: output 0 is not the commitment (%v)", err)
	}
	if tx.TxOut[anchor.SealOutput].Value != SealSats {
		return fmt.Errorf("lnd changed the anchor template: output 1 holds %d sats, not the seal's %d", tx.TxOut[anchor.SealOutput].Value, SealSats)
	}
	if prev.Txid != "" {
		h, err := chainhash.NewHashFromStr(prev.Txid)
		if err != nil {
			return fmt.Errorf("anchor %d: txid %q: %w", prev.Seq, prev.Txid, err)
		}
		if !anchor.SpendsSeal(tx, *h) {
			return fmt.Errorf("the funded anchor does not spend the seal of anchor %d (%s)", prev.Seq, prev.Txid)
		}
	}
	return nil
}

// publish hands the stored transaction to lnd, which broadcasts it;
// publishing one the network already has is not an error.
func (a *Anchorer) publish(ctx context.Context, r Record) error {
	_, err := a.cfg.Wallet.PublishTransaction(ctx, &walletrpc.Transaction{TxHex: r.RawTx,
		Label: fmt.Sprintf("kosh-anchor:%d:attestation:%d", r.Seq, r.AttestationSeq)})
	if err != nil && !alreadyKnown(err) {
		return fmt.Errorf("publish anchor %d (%s): %w", r.Seq, r.Txid, err)
	}
	return nil
}

// leaseSeal keeps lnd's coin selection off the seal of the anchor txid
// (renewed by every run).
func (a *Anchorer) leaseSeal(ctx context.Context, txid string) error {
	if txid == "" {
		return nil
	}
	_, err := a.cfg.Wallet.LeaseOutput(ctx, &walletrpc.LeaseOutputRequest{Id: SealLeaseID,
		Outpoint:          &lnrpc.OutPoint{TxidStr: txid, OutputIndex: anchor.SealOutput},
		ExpirationSeconds: uint64(sealLease / time.Second)})
	if err != nil {
		return fmt.Errorf("lease the seal %s:%d (lnd LeaseOutput): %w", txid, anchor.SealOutput, err)
	}
	return nil
}

// releaseStale frees the inputs leased under FundingLeaseID: a run that
// died between funding and storing left them locked.
func (a *Anchorer) releaseStale(ctx context.Context) error {
	res, err := a.cfg.Wallet.ListLeases(ctx, &walletrpc.ListLeasesRequest{})
	if err != nil {
		return fmt.Errorf("list lnd's leases: %w", err)
	}
	for _, l := range res.LockedUtxos {
		if !bytes.Equal(l.Id, FundingLeaseID) || l.Outpoint == nil {
			continue
		}
		_, err := a.cfg.Wallet.ReleaseOutput(ctx, &walletrpc.ReleaseOutputRequest{Id: FundingLeaseID, Outpoint: l.Outpoint})
		if err != nil {
			return fmt.Errorf("release %s:%d: %w", l.Outpoint.TxidStr, l.Outpoint.OutputIndex, err)
		}
	}
	return nil
}

// isUnknown reports lnd's answer for a transaction its wallet does not
// know ("can not find transaction" from walletrpc.GetTransaction).
func isUnknown(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "not found") || strings.Contains(s, "can not find") || strings.Contains(s, "cannot find")
}

// alreadyKnown reports a publication error that means the network (or
// lnd's wallet) has the transaction already.
func alreadyKnown(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "already have") || strings.Contains(s, "already exists") ||
		strings.Contains(s, "already in block chain") || strings.Contains(s, "txn-already-known")
}

// isConflict reports a publication error that means the transaction can
// no longer confirm: an input is spent by another transaction.
func isConflict(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "double spend") || strings.Contains(s, "already spent") ||
		strings.Contains(s, "missing inputs") || strings.Contains(s, "orphan") || strings.Contains(s, "conflict")
}
