package anchorer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/anchorer"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"gopkg.in/macaroon.v2"
)

// fakeWallet is an lnd wallet for the anchorer's state machine: FundPsbt
// adds one coin of its own and a change output, FinalizePsbt returns the
// transaction, PublishTransaction puts it in a mempool, and the test
// confirms, forgets or conflicts transactions by hand.
type fakeWallet struct {
	walletrpc.WalletKitClient // unused methods panic

	mu        sync.Mutex
	coin      uint32
	mempool   map[string]*wire.MsgTx
	confirmed map[string]int32 // txid -> height
	conflict  map[string]bool  // publishing it fails: inputs spent elsewhere
	leases    map[wire.OutPoint][]byte
	raw       map[string][]byte // every transaction it made or saw, by txid
	// failNextPublish makes the next PublishTransaction fail as a crash
	// would leave it: nothing published.
	failNextPublish bool
	published       []string
	bumped          []string
}

func newFakeWallet() *fakeWallet {
	return &fakeWallet{mempool: map[string]*wire.MsgTx{}, confirmed: map[string]int32{}, conflict: map[string]bool{},
		leases: map[wire.OutPoint][]byte{}, raw: map[string][]byte{}}
}

var params = &chaincfg.RegressionNetParams

func (w *fakeWallet) NextAddr(context.Context, *walletrpc.AddrRequest, ...grpc.CallOption) (*walletrpc.AddrResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.coin++
	k := sha256.Sum256([]byte(fmt.Sprintf("seal %d", w.coin)))
	a, err := btcutil.NewAddressTaproot(k[:], params)
	if err != nil {
		return nil, err
	}
	return &walletrpc.AddrResponse{Addr: a.EncodeAddress()}, nil
}

func (w *fakeWallet) LeaseOutput(_ context.Context, in *walletrpc.LeaseOutputRequest, _ ...grpc.CallOption) (*walletrpc.LeaseOutputResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, _ := chainhash.NewHashFromStr(in.Outpoint.TxidStr)
	w.leases[wire.OutPoint{Hash: *h, Index: in.Outpoint.OutputIndex}] = in.Id
	return &walletrpc.LeaseOutputResponse{}, nil
}

func (w *fakeWallet) ReleaseOutput(_ context.Context, in *walletrpc.ReleaseOutputRequest, _ ...grpc.CallOption) (*walletrpc.ReleaseOutputResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, _ := chainhash.NewHashFromStr(in.Outpoint.TxidStr)
	delete(w.leases, wire.OutPoint{Hash: *h, Index: in.Outpoint.OutputIndex})
	return &walletrpc.ReleaseOutputResponse{}, nil
}

func (w *fakeWallet) ListLeases(context.Context, *walletrpc.ListLeasesRequest, ...grpc.CallOption) (*walletrpc.ListLeasesResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := &walletrpc.ListLeasesResponse{}
	for op, id := range w.leases {
		out.LockedUtxos = append(out.LockedUtxos, &walletrpc.UtxoLease{Id: id,
			Outpoint: &lnrpc.OutPoint{TxidStr: op.Hash.String(), OutputIndex: op.Index}})
	}
	return out, nil
}

func (w *fakeWallet) FundPsbt(_ context.Context, in *walletrpc.FundPsbtRequest, _ ...grpc.CallOption) (*walletrpc.FundPsbtResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, err := psbt.NewFromRawBytes(bytes.NewReader(in.GetCoinSelect().Psbt), false)
	if err != nil {
		return nil, err
	}
	w.coin++
	// A confirmed coin of the wallet: a transaction paying it 100,000 sats.
	fund := wire.NewMsgTx(2)
	fund.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{byte(w.coin)}, w.coin), nil, nil))
	fund.AddTxOut(wire.NewTxOut(100_000, []byte{0x51, 0x20, 1}))
	w.remember(fund)
	w.confirmed[fund.TxHash().String()] = 1
	coin := wire.OutPoint{Hash: fund.TxHash(), Index: 0}
	p.UnsignedTx.AddTxIn(wire.NewTxIn(&coin, nil, nil))
	p.Inputs = append(p.Inputs, psbt.PInput{WitnessUtxo: wire.NewTxOut(100_000, []byte{0x51, 0x20, 1})})
	p.UnsignedTx.AddTxOut(wire.NewTxOut(98_000, []byte{0x51, 0x20, 2}))
	p.Outputs = append(p.Outputs, psbt.POutput{})
	w.leases[coin] = in.CustomLockId
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return nil, err
	}
	return &walletrpc.FundPsbtResponse{FundedPsbt: buf.Bytes(), ChangeOutputIndex: 2}, nil
}

func (w *fakeWallet) FinalizePsbt(_ context.Context, in *walletrpc.FinalizePsbtRequest, _ ...grpc.CallOption) (*walletrpc.FinalizePsbtResponse, error) {
	p, err := psbt.NewFromRawBytes(bytes.NewReader(in.FundedPsbt), false)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := p.UnsignedTx.Serialize(&buf); err != nil {
		return nil, err
	}
	return &walletrpc.FinalizePsbtResponse{RawFinalTx: buf.Bytes()}, nil
}

func (w *fakeWallet) PublishTransaction(_ context.Context, in *walletrpc.Transaction, _ ...grpc.CallOption) (*walletrpc.PublishResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(in.TxHex)); err != nil {
		return nil, err
	}
	id := tx.TxHash().String()
	w.remember(&tx)
	if w.failNextPublish {
		w.failNextPublish = false
		return nil, errors.New("lnd is unreachable")
	}
	if w.conflict[id] {
		return nil, errors.New("rejected: transaction double spends an output")
	}
	w.published = append(w.published, id)
	if _, ok := w.confirmed[id]; !ok {
		w.mempool[id] = &tx
	}
	return &walletrpc.PublishResponse{}, nil
}

func (w *fakeWallet) GetTransaction(_ context.Context, in *walletrpc.GetTransactionRequest, _ ...grpc.CallOption) (*lnrpc.Transaction, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	raw := hex.EncodeToString(w.raw[in.Txid])
	if h, ok := w.confirmed[in.Txid]; ok {
		return &lnrpc.Transaction{TxHash: in.Txid, NumConfirmations: 1, BlockHeight: h, BlockHash: fmt.Sprintf("%064x", h),
			RawTxHex: raw}, nil
	}
	if _, ok := w.mempool[in.Txid]; ok {
		return &lnrpc.Transaction{TxHash: in.Txid, RawTxHex: raw}, nil
	}
	return nil, errors.New("transaction not found")
}

func (w *fakeWallet) BumpFee(_ context.Context, in *walletrpc.BumpFeeRequest, _ ...grpc.CallOption) (*walletrpc.BumpFeeResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bumped = append(w.bumped, fmt.Sprintf("%s:%d", in.Outpoint.TxidStr, in.Outpoint.OutputIndex))
	return &walletrpc.BumpFeeResponse{}, nil
}

func (w *fakeWallet) RemoveTransaction(_ context.Context, in *walletrpc.GetTransactionRequest, _ ...grpc.CallOption) (*walletrpc.RemoveTransactionResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.mempool, in.Txid)
	return &walletrpc.RemoveTransactionResponse{}, nil
}

// remember keeps a transaction's bytes for GetTransaction.
func (w *fakeWallet) remember(tx *wire.MsgTx) {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	w.raw[tx.TxHash().String()] = buf.Bytes()
}

func (w *fakeWallet) mine(txid string, height int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.mempool, txid)
	w.confirmed[txid] = height
}

// forget drops a transaction as a reorganisation that double-spends its
// funding coin would: lnd no longer knows it and cannot publish it again.
func (w *fakeWallet) forget(txid string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.mempool, txid)
	delete(w.confirmed, txid)
	w.conflict[txid] = true
}

// memStore is anchorer.Store in memory.
type memStore struct {
	mu   sync.Mutex
	recs []anchorer.Record
}

func (m *memStore) last(ok func(anchorer.Record) bool) (anchorer.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.recs) - 1; i >= 0; i-- {
		if ok(m.recs[i]) {
			return m.recs[i], nil
		}
	}
	return anchorer.Record{}, anchorer.ErrNotFound
}

func (m *memStore) Latest(context.Context) (anchorer.Record, error) {
	return m.last(func(r anchorer.Record) bool { return r.State != anchorer.StateDropped })
}

func (m *memStore) LatestConfirmed(context.Context) (anchorer.Record, error) {
	return m.last(func(r anchorer.Record) bool { return r.State == anchorer.StateConfirmed })
}

func (m *memStore) Insert(_ context.Context, r anchorer.Record) (anchorer.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.recs {
		if x.AttestationSeq == r.AttestationSeq && x.State != anchorer.StateDropped {
			return r, anchorer.ErrConflict
		}
	}
	r.Seq = int64(len(m.recs) + 1)
	m.recs = append(m.recs, r)
	return r, nil
}

func (m *memStore) Move(_ context.Context, seq int64, from anchorer.State, r anchorer.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := &m.recs[seq-1]
	if x.State != from {
		return anchorer.ErrNoChange
	}
	x.State, x.Height, x.BlockHash, x.UpdatedAt = r.State, r.Height, r.BlockHash, r.UpdatedAt
	return nil
}

func (m *memStore) Replace(_ context.Context, seq int64, fromTxid string, r anchorer.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := &m.recs[seq-1]
	if x.Txid != fromTxid {
		return anchorer.ErrNoChange
	}
	x.Txid, x.RawTx, x.FeeSats, x.Vbytes, x.Replaced = r.Txid, r.RawTx, r.FeeSats, r.Vbytes, r.Replaced
	x.State, x.Height, x.BlockHash, x.UpdatedAt = r.State, r.Height, r.BlockHash, r.UpdatedAt
	return nil
}

func (m *memStore) List(context.Context, int64, int) ([]anchorer.Record, error) { return nil, nil }

// attestations is a growing attestation chain.
type attestations struct{ seq int64 }

func (a *attestations) Latest(context.Context) (attestor.Published, error) {
	if a.seq == 0 {
		return attestor.Published{}, attestor.ErrNotStored
	}
	id := sha256.Sum256([]byte(fmt.Sprintf("attestation %d", a.seq)))
	return attestor.Published{Seq: a.seq, ID: hex.EncodeToString(id[:])}, nil
}

// TestDroppedAnchorRemade: a stuck anchor is replaced at the bump rate (the
// difference from its change), and when the original confirms after all
// koshd adopts it; one whose change cannot pay is bumped by a child through
// its change output, never its seal; an anchor that can no longer confirm
// (lnd forgot it after a reorganisation double-spent its funding, and
// publishing it again is refused) is dropped, and the next Anchor makes a
// new one for the newest attestation, spending the seal the dropped one
// spent.
func TestDroppedAnchorRemade(t *testing.T) {
	ctx := context.Background()
	w, st, att := newFakeWallet(), &memStore{}, &attestations{}
	now := time.Unix(1_000_000, 0)
	a := anchorer.New(anchorer.Config{Store: st, Wallet: w, Attestations: att, Params: params,
		Bump: anchorer.BumpPolicy{After: time.Minute, SatPerVbyte: 10, Budget: 5000}, Now: func() time.Time { return now }})

	if _, err := a.Anchor(ctx, "test"); !errors.Is(err, anchorer.ErrNothingToAnchor) {
		t.Fatalf("anchor with no attestation: %v", err)
	}
	att.seq = 1
	g, err := a.Anchor(ctx, "test")
	if err != nil || g.State != anchorer.StatePublished || g.PrevTxid != "" {
		t.Fatalf("genesis: %+v %v", g, err)
	}
	w.mine(g.Txid, 100)
	if g, err = a.Follow(ctx); err != nil || g.State != anchorer.StateConfirmed || g.Height != 100 {
		t.Fatalf("genesis after a block: %+v %v", g, err)
	}

	att.seq = 3
	second, err := a.Anchor(ctx, "test")
	if err != nil || second.PrevTxid != g.Txid || second.AttestationSeq != 3 {
		t.Fatalf("second: %+v %v", second, err)
	}
	if _, err := a.Anchor(ctx, "test"); !errors.Is(err, anchorer.ErrPending) {
		t.Fatalf("anchor while one is unconfirmed: %v", err)
	}
	// Stuck for two minutes: replaced by the same transaction at 10
	// sat/vbyte, the difference taken from its change; its seal, payload
	// and inputs are the same.
	now = now.Add(2 * time.Minute)
	replaced, err := a.Follow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if replaced.Txid == second.Txid || len(replaced.Replaced) != 1 || replaced.Replaced[0] != second.Txid ||
		replaced.FeeSats != 10*second.Vbytes || replaced.State != anchorer.StatePublished {
		t.Fatalf("replacement: %+v (was %s)", replaced, second.Txid)
	}
	var oldTx, newTx wire.MsgTx
	if err := oldTx.Deserialize(bytes.NewReader(second.RawTx)); err != nil {
		t.Fatal(err)
	}
	if err := newTx.Deserialize(bytes.NewReader(replaced.RawTx)); err != nil {
		t.Fatal(err)
	}
	if len(newTx.TxIn) != len(oldTx.TxIn) || newTx.TxOut[1].Value != oldTx.TxOut[1].Value ||
		newTx.TxOut[2].Value != oldTx.TxOut[2].Value-(replaced.FeeSats-second.FeeSats) || newTx.TxIn[0].Sequence != wire.MaxTxInSequenceNum-2 {
		t.Fatalf("the replacement differs from the original beyond its fee")
	}
	// The original wins the race to a block: koshd adopts it.
	w.mine(second.Txid, 101)
	adopted, err := a.Follow(ctx)
	if err != nil || adopted.Txid != second.Txid || adopted.State != anchorer.StateConfirmed || adopted.Height != 101 ||
		len(adopted.Replaced) != 1 || adopted.Replaced[0] != replaced.Txid {
		t.Fatalf("after the original confirmed: %+v %v", adopted, err)
	}

	// The next anchor spends the adopted one's seal; stuck with a bump
	// rate its change cannot pay, it is bumped by a child instead.
	a = anchorer.New(anchorer.Config{Store: st, Wallet: w, Attestations: att, Params: params,
		Bump: anchorer.BumpPolicy{After: time.Minute, SatPerVbyte: 1000, Budget: 5000}, Now: func() time.Time { return now }})
	att.seq = 4
	third, err := a.Anchor(ctx, "test")
	if err != nil || third.PrevTxid != second.Txid {
		t.Fatalf("third: %+v %v", third, err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := a.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if len(w.bumped) != 1 || w.bumped[0] != third.Txid+":2" {
		t.Fatalf("bumped %v, want a child of %s:2", w.bumped, third.Txid)
	}

	// A reorganisation double-spends its funding coin: lnd forgets it.
	w.forget(third.Txid)
	dropped, err := a.Follow(ctx)
	if err != nil || dropped.State != anchorer.StateDropped || dropped.Seq != third.Seq {
		t.Fatalf("after the conflict: %+v %v", dropped, err)
	}
	att.seq = 5
	remade, err := a.Anchor(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if remade.Seq == third.Seq || remade.PrevTxid != second.Txid || remade.AttestationSeq != 5 || remade.State != anchorer.StatePublished {
		t.Fatalf("re-made anchor: %+v", remade)
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(remade.RawTx)); err != nil {
		t.Fatal(err)
	}
	sh, _ := chainhash.NewHashFromStr(second.Txid)
	if !anchor.SpendsSeal(&tx, *sh) {
		t.Fatalf("the re-made anchor does not spend the seal of anchor 2")
	}
	if p, err := anchor.FromTx(&tx); err != nil || p.Seq != 5 || p.PrevHeight != 101 {
		t.Fatalf("re-made anchor payload: %+v %v", p, err)
	}
	if !strings.Contains(strings.Join(w.published, ","), third.Txid) {
		t.Fatalf("the dropped anchor was never published")
	}
}

// TestRunnerMetrics: the runner counts anchors made and skipped and says
// where the newest stands (pending, then confirmed at its height).
func TestRunnerMetrics(t *testing.T) {
	ctx := context.Background()
	w, st, att := newFakeWallet(), &memStore{}, &attestations{seq: 1}
	a := anchorer.New(anchorer.Config{Store: st, Wallet: w, Attestations: att, Params: params})
	reg := prometheus.NewRegistry()
	r, err := anchorer.NewRunner(a, nil, 10*time.Millisecond, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Anchor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Anchor(ctx); !errors.Is(err, anchorer.ErrPending) {
		t.Fatalf("second anchor: %v", err)
	}
	value := func(name string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.GetMetric() {
					sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
		return sum
	}
	wait := func(name string, want float64) {
		t.Helper()
		for i := 0; i < 400 && value(name) != want; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		if got := value(name); got != want {
			t.Fatalf("%s = %v, want %v", name, got, want)
		}
	}
	if value("kosh_anchors_made_total") != 1 || value("kosh_anchors_skipped_total") != 1 {
		t.Fatalf("made %v, skipped %v", value("kosh_anchors_made_total"), value("kosh_anchors_skipped_total"))
	}
	r.Start(ctx)
	defer r.Stop()
	wait("kosh_anchor_pending", 1)
	w.mine(rec.Txid, 321)
	wait("kosh_anchor_last_confirmed_height", 321)
	wait("kosh_anchor_pending", 0)
	wait("kosh_anchor_last_confirmed_attestation_seq", 1)
}

// TestCheckMacaroon: a macaroon without the wallet permissions anchoring
// needs is refused, naming them; one with all of them passes.
func TestCheckMacaroon(t *testing.T) {
	bake := func(ops ...*lnrpc.Op) lndconn.Macaroon {
		id, err := proto.Marshal(&lnrpc.MacaroonId{Nonce: []byte{1}, StorageId: []byte("0"), Ops: ops})
		if err != nil {
			t.Fatal(err)
		}
		m, err := macaroon.New([]byte("root key"), append([]byte{3}, id...), "lnd", macaroon.LatestVersion)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return lndconn.NewMacaroon(raw)
	}
	readOnly := bake(&lnrpc.Op{Entity: "onchain", Actions: []string{"read"}}, &lnrpc.Op{Entity: "address", Actions: []string{"read"}})
	err := anchorer.CheckMacaroon(readOnly)
	if err == nil || !strings.Contains(err.Error(), "lacks onchain:write (LeaseOutput: keeping the seal)") ||
		strings.Contains(strings.Split(err.Error(), "; use")[0], "address") {
		t.Fatalf("read-only macaroon: %v", err)
	}
	full := bake(&lnrpc.Op{Entity: "onchain", Actions: []string{"read", "write"}}, &lnrpc.Op{Entity: "address", Actions: []string{"read"}})
	if err := anchorer.CheckMacaroon(full); err != nil {
		t.Fatalf("full macaroon: %v", err)
	}
	// lnd's per-method permissions count too.
	var uris []*lnrpc.Op
	for _, c := range anchorer.Calls {
		uris = append(uris, &lnrpc.Op{Entity: "uri", Actions: []string{c.Method}})
	}
	if err := anchorer.CheckMacaroon(bake(uris...)); err != nil {
		t.Fatalf("macaroon with a uri: permission per call: %v", err)
	}
}

// TestSignedAnchorWhoseCoinsWentElsewhere: an anchor signed and stored but
// never published (koshd down past the funding lease), whose funding coin
// lnd has since spent, is dropped on the next Follow and made again.
func TestSignedAnchorWhoseCoinsWentElsewhere(t *testing.T) {
	ctx := context.Background()
	w, att := newFakeWallet(), &attestations{seq: 1}
	st := &memStore{}
	a := anchorer.New(anchorer.Config{Store: st, Wallet: w, Attestations: att, Params: params})
	g, err := a.Anchor(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	w.mine(g.Txid, 50)
	if _, err := a.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	// A second anchor is signed and stored; koshd dies before publishing.
	att.seq = 2
	st.mu.Lock()
	n := len(st.recs)
	st.mu.Unlock()
	w.failNextPublish = true
	if _, err := a.Anchor(ctx, "test"); err == nil {
		t.Fatal("the publication was meant to fail")
	}
	st.mu.Lock()
	signed := st.recs[n]
	st.mu.Unlock()
	if signed.State != anchorer.StateSigned {
		t.Fatalf("stored anchor is %s, want signed", signed.State)
	}
	w.mu.Lock()
	w.conflict[signed.Txid] = true // its coin went into another transaction
	w.mu.Unlock()
	dropped, err := a.Follow(ctx)
	if err != nil || dropped.State != anchorer.StateDropped {
		t.Fatalf("follow: %+v %v", dropped, err)
	}
	again, err := a.Anchor(ctx, "test")
	if err != nil || again.Txid == signed.Txid || again.PrevTxid != g.Txid || again.State != anchorer.StatePublished {
		t.Fatalf("made again: %+v %v", again, err)
	}
}
