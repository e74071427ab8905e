package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// fakeLnd is an in-memory lnd for fault injection: invoices with add and
// settle indexes and a subscription that replays from them, payments keyed
// by hash that lnd refuses to send twice (as the real one does), and an
// on-chain wallet whose transactions carry labels. Knobs make it fail in
// the ways the real one can. It implements only what payments calls; the
// embedded nil interfaces panic on anything else.
type fakeLnd struct {
	lnrpc.LightningClient

	mu sync.Mutex
	// invoices (deposits) by hex hash, in add order.
	invoices    map[string]*lnrpc.Invoice
	order       []string
	addIdx      uint64
	settleIdx   uint64
	subscribers []*invoiceStream

	// payreqs the holder's side "issued", by string.
	payreqs map[string]*lnrpc.PayReq
	// payments by hex hash; sends counts payments initiated per hash.
	payments map[string]*lnrpc.Payment
	sends    map[string]int
	// outcome decides how a new payment ends: SUCCEEDED (default), FAILED,
	// or IN_FLIGHT (held until the test calls finish).
	outcome lnrpc.Payment_PaymentStatus
	// refuse makes SendPaymentV2 fail before initiating a payment with
	// this error (nil: none).
	refuse error
	// down makes every call fail with Unavailable.
	down bool
	// refuseMac, if set, is what every call fails with: lnd refusing the
	// macaroon (checked after down, as lnd's interceptor runs once the
	// connection is up).
	refuseMac error
	// perms is what ListPermissions answers (nil: lnd's own map for the
	// calls payments makes).
	perms map[string][]string
	// noLookup makes LookupInvoice fail, so that only the subscription
	// can tell about invoices.
	noLookup bool

	// now is the fake's clock (invoice timestamps).
	now func() time.Time

	// downCalls counts, per method, the calls refused because the fake
	// was down; tracks counts TrackPaymentV2 calls and recvs Recv calls
	// on payment streams, per payment hash: the evidence tests wait for
	// before asserting that nothing happened.
	downCalls map[string]int
	tracks    map[string]int
	recvs     map[string]int

	txs        []*lnrpc.Transaction
	coinSends  int
	txLookups  int // GetTransactions calls
	refuseSend error
	n          int
}

func newFakeLnd() *fakeLnd {
	return &fakeLnd{invoices: map[string]*lnrpc.Invoice{}, payreqs: map[string]*lnrpc.PayReq{},
		payments: map[string]*lnrpc.Payment{}, sends: map[string]int{}, outcome: lnrpc.Payment_SUCCEEDED, now: time.Now,
		downCalls: map[string]int{}, tracks: map[string]int{}, recvs: map[string]int{}}
}

var errDown = status.Error(codes.Unavailable, "fake lnd is down")

// refuseDown counts a call refused because the fake is down and returns
// the error; f.mu is held.
func (f *fakeLnd) refuseDown(call string) error {
	f.downCalls[call]++
	return errDown
}

// downCount is how many calls of a method were refused while down.
func (f *fakeLnd) downCount(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.downCalls[call]
}

// trackCount and recvCount are how many times a payment was tracked, and
// how many times a payment stream of it was read.
func (f *fakeLnd) trackCount(hash string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tracks[hash]
}

func (f *fakeLnd) recvCount(hash string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recvs[hash]
}

func (f *fakeLnd) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// fail is the error every call fails with now, if any.
func (f *fakeLnd) failLocked(call string) error {
	if f.down {
		return f.refuseDown(call)
	}
	return f.refuseMac
}

func (f *fakeLnd) GetInfo(context.Context, *lnrpc.GetInfoRequest, ...grpc.CallOption) (*lnrpc.GetInfoResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("GetInfo"); err != nil {
		return nil, err
	}
	return &lnrpc.GetInfoResponse{IdentityPubkey: "02fake", SyncedToChain: true}, nil
}

func (f *fakeLnd) ListPermissions(context.Context, *lnrpc.ListPermissionsRequest, ...grpc.CallOption) (*lnrpc.ListPermissionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("ListPermissions"); err != nil {
		return nil, err
	}
	perms := f.perms
	if perms == nil {
		perms = map[string][]string{}
		for _, c := range lndCalls {
			perms[c.method] = c.perms
		}
	}
	out := &lnrpc.ListPermissionsResponse{MethodPermissions: map[string]*lnrpc.MacaroonPermissionList{}}
	for m, ps := range perms {
		l := &lnrpc.MacaroonPermissionList{}
		for _, p := range ps {
			e, a, _ := strings.Cut(p, ":")
			l.Permissions = append(l.Permissions, &lnrpc.MacaroonPermission{Entity: e, Action: a})
		}
		out.MethodPermissions[m] = l
	}
	return out, nil
}

// --- invoices (deposits) ---

func (f *fakeLnd) AddInvoice(_ context.Context, in *lnrpc.Invoice, _ ...grpc.CallOption) (*lnrpc.AddInvoiceResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("AddInvoice"); err != nil {
		return nil, err
	}
	f.n++
	pre := sha256.Sum256([]byte(fmt.Sprintf("preimage-%d-%p", f.n, f)))
	hash := sha256.Sum256(pre[:])
	f.addIdx++
	inv := &lnrpc.Invoice{Memo: in.Memo, Value: in.Value, ValueMsat: in.Value * 1000, Expiry: in.Expiry,
		RPreimage: pre[:], RHash: hash[:], PaymentRequest: fmt.Sprintf("lnbcrt-deposit-%d", f.n),
		AddIndex: f.addIdx, State: lnrpc.Invoice_OPEN}
	h := hex.EncodeToString(hash[:])
	f.invoices[h] = inv
	f.order = append(f.order, h)
	f.publish(inv)
	return &lnrpc.AddInvoiceResponse{RHash: hash[:], PaymentRequest: inv.PaymentRequest, AddIndex: f.addIdx}, nil
}

// settle pays a deposit invoice with msat.
func (f *fakeLnd) settle(hash string, msat int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := f.invoices[hash]
	f.settleIdx++
	inv.State, inv.AmtPaidMsat, inv.AmtPaidSat, inv.SettleIndex = lnrpc.Invoice_SETTLED, msat, msat/1000, f.settleIdx
	f.publish(inv)
}

// cancel cancels (expires) a deposit invoice.
func (f *fakeLnd) cancel(hash string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := f.invoices[hash]
	inv.State = lnrpc.Invoice_CANCELED
	f.publish(inv)
}

func (f *fakeLnd) publish(inv *lnrpc.Invoice) {
	for _, st := range f.subscribers {
		st.send(clone(inv))
	}
}

func clone(inv *lnrpc.Invoice) *lnrpc.Invoice {
	return proto.Clone(inv).(*lnrpc.Invoice)
}

func (f *fakeLnd) LookupInvoice(_ context.Context, in *lnrpc.PaymentHash, _ ...grpc.CallOption) (*lnrpc.Invoice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.noLookup {
		return nil, f.refuseDown("LookupInvoice")
	}
	inv, ok := f.invoices[hex.EncodeToString(in.RHash)]
	if !ok {
		return nil, status.Error(codes.NotFound, "there are no existing invoices")
	}
	return clone(inv), nil
}

type invoiceStream struct {
	grpc.ClientStream
	ctx context.Context
	ch  chan *lnrpc.Invoice
	f   *fakeLnd
	// sent counts invoices queued to the subscriber; entered counts its
	// Recv calls. Each Recv after the first means the subscriber finished
	// with the invoice before, so entered > sent means it has handled
	// every invoice sent so far.
	sent, entered atomic.Int64
}

// send queues an invoice; f.mu is held.
func (s *invoiceStream) send(inv *lnrpc.Invoice) {
	s.sent.Add(1)
	select {
	case s.ch <- inv:
	default: // a slow subscriber misses it, as with a dropped stream
		s.sent.Add(-1)
	}
}

// handledAll reports whether the newest subscriber has handled every
// invoice sent to it and is waiting for the next.
func (f *fakeLnd) handledAll() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.subscribers) == 0 {
		return false
	}
	s := f.subscribers[len(f.subscribers)-1]
	return s.entered.Load() > s.sent.Load()
}

func (s *invoiceStream) Recv() (*lnrpc.Invoice, error) {
	s.entered.Add(1)
	select {
	case inv := <-s.ch:
		return inv, nil
	case <-s.ctx.Done():
		return nil, status.Error(codes.Canceled, "context canceled")
	}
}

// SubscribeInvoices replays invoices added after AddIndex and settled after
// SettleIndex, then streams updates, as lnd does.
func (f *fakeLnd) SubscribeInvoices(ctx context.Context, in *lnrpc.InvoiceSubscription, _ ...grpc.CallOption) (lnrpc.Lightning_SubscribeInvoicesClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, f.refuseDown("SubscribeInvoices")
	}
	st := &invoiceStream{ctx: ctx, ch: make(chan *lnrpc.Invoice, 1024), f: f}
	if in.AddIndex > 0 {
		for _, h := range f.order {
			if inv := f.invoices[h]; inv.AddIndex > in.AddIndex {
				st.send(clone(inv))
			}
		}
	}
	if in.SettleIndex > 0 {
		for _, h := range f.order {
			if inv := f.invoices[h]; inv.State == lnrpc.Invoice_SETTLED && inv.SettleIndex > in.SettleIndex {
				st.send(clone(inv))
			}
		}
	}
	f.subscribers = append(f.subscribers, st)
	return st, nil
}

// --- payments (redemptions) ---

// newPayReq registers an invoice of the holder's and returns it.
func (f *fakeLnd) newPayReq(sats int64) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	hash := sha256.Sum256([]byte(fmt.Sprintf("holder-invoice-%d-%p", f.n, f)))
	pr := fmt.Sprintf("lnbcrt-holder-%d", f.n)
	f.payreqs[pr] = &lnrpc.PayReq{PaymentHash: hex.EncodeToString(hash[:]), NumSatoshis: sats, NumMsat: sats * 1000,
		Timestamp: f.now().Unix(), Expiry: 3600}
	return pr, hex.EncodeToString(hash[:])
}

func (f *fakeLnd) DecodePayReq(_ context.Context, in *lnrpc.PayReqString, _ ...grpc.CallOption) (*lnrpc.PayReq, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("DecodePayReq"); err != nil {
		return nil, err
	}
	pr, ok := f.payreqs[in.PayReq]
	if !ok {
		return nil, status.Error(codes.Unknown, "invalid bech32 string")
	}
	return proto.Clone(pr).(*lnrpc.PayReq), nil
}

type paymentStreamFake struct {
	grpc.ClientStream
	ctx      context.Context
	f        *fakeLnd
	hash     string
	sent     bool
	inflight bool // send IN_FLIGHT updates
	err      error
}

func (s *paymentStreamFake) Recv() (*lnrpc.Payment, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.f.mu.Lock()
	s.f.recvs[s.hash]++
	s.f.mu.Unlock()
	for {
		s.f.mu.Lock()
		p, ok := s.f.payments[s.hash]
		down := s.f.down
		if down {
			s.f.downCalls["PaymentRecv"]++
		}
		var c *lnrpc.Payment
		if ok {
			c = proto.Clone(p).(*lnrpc.Payment)
		}
		s.f.mu.Unlock()
		if down {
			return nil, errDown
		}
		if !ok {
			return nil, status.Error(codes.NotFound, "payment isn't initiated")
		}
		final := c.Status == lnrpc.Payment_SUCCEEDED || c.Status == lnrpc.Payment_FAILED
		if final || (!s.sent && s.inflight) {
			s.sent = true
			return c, nil
		}
		select {
		case <-s.ctx.Done():
			return nil, status.Error(codes.Canceled, "context canceled")
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// fakeRouter is the router half of fakeLnd.
type fakeRouter struct {
	routerrpc.RouterClient
	f *fakeLnd
}

func (r fakeRouter) SendPaymentV2(ctx context.Context, in *routerrpc.SendPaymentRequest, _ ...grpc.CallOption) (routerrpc.Router_SendPaymentV2Client, error) {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, f.refuseDown("SendPaymentV2")
	}
	pr, ok := f.payreqs[in.PaymentRequest]
	if !ok {
		return &paymentStreamFake{err: status.Error(codes.InvalidArgument, "invalid payment request")}, nil
	}
	if f.refuse != nil {
		return &paymentStreamFake{err: f.refuse}, nil
	}
	if p, ok := f.payments[pr.PaymentHash]; ok {
		// lnd never pays one hash twice.
		if p.Status == lnrpc.Payment_SUCCEEDED {
			return &paymentStreamFake{err: status.Error(codes.AlreadyExists, "invoice is already paid")}, nil
		}
		if p.Status == lnrpc.Payment_IN_FLIGHT {
			return &paymentStreamFake{err: status.Error(codes.AlreadyExists, "payment is in transition")}, nil
		}
	}
	f.sends[pr.PaymentHash]++
	p := &lnrpc.Payment{PaymentHash: pr.PaymentHash, ValueSat: pr.NumSatoshis, Status: lnrpc.Payment_IN_FLIGHT}
	switch f.outcome {
	case lnrpc.Payment_SUCCEEDED:
		p.Status, p.FeeMsat, p.PaymentPreimage = lnrpc.Payment_SUCCEEDED, min(in.FeeLimitSat, 3)*1000, "00ff"
	case lnrpc.Payment_FAILED:
		p.Status, p.FailureReason = lnrpc.Payment_FAILED, lnrpc.PaymentFailureReason_FAILURE_REASON_NO_ROUTE
	}
	f.payments[pr.PaymentHash] = p
	return &paymentStreamFake{ctx: ctx, f: f, hash: pr.PaymentHash, inflight: true}, nil
}

func (r fakeRouter) TrackPaymentV2(ctx context.Context, in *routerrpc.TrackPaymentRequest, _ ...grpc.CallOption) (routerrpc.Router_TrackPaymentV2Client, error) {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, f.refuseDown("TrackPaymentV2")
	}
	f.tracks[hex.EncodeToString(in.PaymentHash)]++
	return &paymentStreamFake{ctx: ctx, f: r.f, hash: hex.EncodeToString(in.PaymentHash), inflight: !in.NoInflightUpdates}, nil
}

// finish ends a held payment.
func (f *fakeLnd) finish(hash string, st lnrpc.Payment_PaymentStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.payments[hash]
	p.Status = st
	if st == lnrpc.Payment_SUCCEEDED {
		p.FeeMsat, p.PaymentPreimage = 1000, "00ff"
	} else {
		p.FailureReason = lnrpc.PaymentFailureReason_FAILURE_REASON_TIMEOUT
	}
}

func (f *fakeLnd) sendCount(hash string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends[hash]
}

// --- on-chain wallet ---

func (f *fakeLnd) SendCoins(_ context.Context, in *lnrpc.SendCoinsRequest, _ ...grpc.CallOption) (*lnrpc.SendCoinsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, f.refuseDown("SendCoins")
	}
	if f.refuseSend != nil {
		return nil, f.refuseSend
	}
	f.coinSends++
	f.n++
	txid := hex.EncodeToString([]byte(fmt.Sprintf("payout-%026d", f.n)))
	f.txs = append(f.txs, &lnrpc.Transaction{TxHash: txid, Amount: -in.Amount, TotalFees: int64(in.SatPerVbyte) * 141,
		Label: in.Label})
	return &lnrpc.SendCoinsResponse{Txid: txid}, nil
}

func (f *fakeLnd) GetTransactions(_ context.Context, _ *lnrpc.GetTransactionsRequest, _ ...grpc.CallOption) (*lnrpc.TransactionDetails, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, f.refuseDown("GetTransactions")
	}
	f.txLookups++
	out := &lnrpc.TransactionDetails{}
	for _, t := range f.txs {
		out.Transactions = append(out.Transactions, proto.Clone(t).(*lnrpc.Transaction))
	}
	return out, nil
}

// confirm gives every wallet transaction a confirmation.
func (f *fakeLnd) confirm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.txs {
		t.NumConfirmations = 1
	}
}
