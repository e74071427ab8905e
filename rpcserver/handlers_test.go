package rpcserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/auth"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/perms"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	acctA = "0b6f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	acctB = "7d2e9c10-5a4b-4c3d-9e8f-112233445566"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testMacs(t *testing.T) *auth.Service {
	t.Helper()
	m, err := auth.NewService(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// walletCtx is the context a wallet handler runs in after auth's
// interceptor let a wallet macaroon for account through.
func walletCtx(t *testing.T, macs *auth.Service, account string) context.Context {
	t.Helper()
	mac, err := macs.BakeHex(perms.Wallet, account, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("macaroon", mac))
	ctx, err := macs.Authorize(in, "/kosh.v1.WalletService/GetBalance")
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// requireStatus fails unless err is a status with code whose message
// contains every one of want (what a person needs to fix the call).
func requireStatus(t *testing.T, what string, err error, code codes.Code, want ...string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Errorf("%s: %v, want %s", what, err, code)
		return
	}
	for _, w := range want {
		if !strings.Contains(st.Message(), w) {
			t.Errorf("%s: message %q does not say %q", what, st.Message(), w)
		}
	}
}

// TestHandlersRefuseBadInput: requests whose shape is wrong are refused by
// the handler itself, before the ledger, payments, prices or proofs are
// reached (the server here has none), with InvalidArgument and a message
// that names the field and what it must be. A service that is not
// configured says so with how to turn it on.
func TestHandlersRefuseBadInput(t *testing.T) {
	macs := testMacs(t)
	s := New(Config{Macaroons: macs, Log: quietLog()})
	w := s.Wallet()
	pub := s.Public()
	bg := context.Background()
	own := walletCtx(t, macs, acctA)
	for _, c := range []struct {
		name string
		call func() error
		code codes.Code
		want []string
	}{
		{"ListAccounts page_size above max", func() error {
			_, err := s.ListAccounts(bg, &koshv1.ListAccountsRequest{PageSize: maxPageSize + 1})
			return err
		}, codes.InvalidArgument, []string{"page size 1001", "maximum of 1000"}},
		{"ListAccounts page_token not a token", func() error {
			_, err := s.ListAccounts(bg, &koshv1.ListAccountsRequest{PageToken: "next"})
			return err
		}, codes.InvalidArgument, []string{`page_token "next"`, "ListAccounts"}},
		{"ListAccounts negative page_token", func() error {
			_, err := s.ListAccounts(bg, &koshv1.ListAccountsRequest{PageToken: "-5"})
			return err
		}, codes.InvalidArgument, []string{"page_token"}},
		{"ListJournal limit above max", func() error {
			_, err := s.ListJournal(bg, &koshv1.ListJournalRequest{Limit: 5000})
			return err
		}, codes.InvalidArgument, []string{"maximum of 1000"}},
		{"ExportControlProof outpoints and all", func() error {
			_, err := s.ExportControlProof(bg, &koshv1.ExportControlProofRequest{All: true, Outpoints: []string{"x:0"}})
			return err
		}, codes.InvalidArgument, []string{"outpoints or all"}},
		{"ImportControlProof empty", func() error {
			_, err := s.ImportControlProof(bg, &koshv1.ImportControlProofRequest{})
			return err
		}, codes.InvalidArgument, []string{"psbts is empty"}},
		{"ExportControlProof without a proving reserve source", func() error {
			_, err := s.ExportControlProof(bg, &koshv1.ExportControlProofRequest{All: true})
			return err
		}, codes.Unavailable, []string{"not available"}},
		{"SetManualPrice currency not ISO 4217", func() error {
			_, err := s.SetManualPrice(bg, &koshv1.SetManualPriceRequest{Currency: "rupees", Price: "83"})
			return err
		}, codes.InvalidArgument, []string{`currency "rupees"`, "ISO 4217"}},
		{"SetManualPrice negative validity", func() error {
			_, err := s.SetManualPrice(bg, &koshv1.SetManualPriceRequest{Currency: "INR", Price: "83", ValidForSeconds: -1})
			return err
		}, codes.InvalidArgument, []string{"valid_for_seconds"}},
		{"SetManualPrice without an oracle", func() error {
			_, err := s.SetManualPrice(bg, &koshv1.SetManualPriceRequest{Currency: "INR", Price: "83"})
			return err
		}, codes.FailedPrecondition, []string{"--oracle.manualcurrency"}},
		{"Attest without attestations", func() error {
			_, err := s.Attest(bg, &koshv1.AttestRequest{})
			return err
		}, codes.Unavailable, []string{"not enabled"}},
		{"ListAttestations without attestations", func() error {
			_, err := pub.ListAttestations(bg, &koshv1.ListAttestationsRequest{})
			return err
		}, codes.Unavailable, []string{"not enabled"}},
		{"wallet account_id not a UUID", func() error {
			_, err := w.GetBalance(own, &koshv1.GetBalanceRequest{AccountId: "alice"})
			return err
		}, codes.InvalidArgument, []string{"account_id"}},
		{"wallet call without a wallet grant", func() error {
			_, err := w.GetBalance(bg, &koshv1.GetBalanceRequest{AccountId: acctA})
			return err
		}, codes.PermissionDenied, []string{"wallet macaroon"}},
		{"wallet call on another account", func() error {
			_, err := w.Transfer(own, &koshv1.WalletServiceTransferRequest{AccountId: acctB, ToAccountId: acctA, Asset: "KSH", Amount: 1})
			return err
		}, codes.PermissionDenied, []string{acctA, acctB}},
		{"ListHistory limit above max", func() error {
			_, err := w.ListHistory(own, &koshv1.ListHistoryRequest{AccountId: acctA, Limit: 1001})
			return err
		}, codes.InvalidArgument, []string{"maximum of 1000"}},
		{"CreateDeposit without payments", func() error {
			_, err := w.CreateDeposit(own, &koshv1.CreateDepositRequest{AccountId: acctA, Asset: "KSH", Amount: 1})
			return err
		}, codes.FailedPrecondition, []string{"--payments.lnd"}},
		{"CreateDeposit on another account, before payments are checked", func() error {
			_, err := w.CreateDeposit(own, &koshv1.CreateDepositRequest{AccountId: acctB, Asset: "KSH", Amount: 1})
			return err
		}, codes.PermissionDenied, []string{acctB}},
		{"Redeem without payments", func() error {
			_, err := w.Redeem(own, &koshv1.RedeemRequest{AccountId: acctA})
			return err
		}, codes.FailedPrecondition, []string{"--payments.lnd"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			requireStatus(t, c.name, c.call(), c.code, c.want...)
		})
	}
}

// TestToStatus: ledger refusals keep their message under the code a client
// can act on; anything else is Internal with a generic message (the cause,
// which may name tables or paths, goes to the log only); a status passes
// through unchanged.
func TestToStatus(t *testing.T) {
	var logBuf bytes.Buffer
	s := New(Config{Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	for _, c := range []struct {
		err  error
		code codes.Code
	}{
		{fmt.Errorf("%w: amount must be positive", ledger.ErrInvalidArgument), codes.InvalidArgument},
		{fmt.Errorf("%w: asset XYZ", ledger.ErrNotFound), codes.NotFound},
		{fmt.Errorf("%w: asset KSH", ledger.ErrAlreadyExists), codes.AlreadyExists},
		{fmt.Errorf("%w: key k1 was used for another request", ledger.ErrIdempotencyConflict), codes.AlreadyExists},
		{fmt.Errorf("%w: balance 5, need 9", ledger.ErrInsufficientFunds), codes.FailedPrecondition},
		{fmt.Errorf("%w: coverage would fall below 100%%", ledger.ErrMintRefused), codes.FailedPrecondition},
		{fmt.Errorf("%w: supply", ledger.ErrOverflow), codes.OutOfRange},
		{fmt.Errorf("commit: %w", context.Canceled), codes.Canceled},
		{fmt.Errorf("commit: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
	} {
		requireStatus(t, c.err.Error(), s.toStatus(c.err), c.code, c.err.Error())
	}
	secret := errors.New("sqlite: disk I/O error at /var/lib/kosh/regtest/kosh.db")
	err := s.toStatus(secret)
	requireStatus(t, "internal", err, codes.Internal, "see koshd's log")
	if strings.Contains(err.Error(), "/var/lib") {
		t.Errorf("internal error leaks its cause: %v", err)
	}
	if !strings.Contains(logBuf.String(), "/var/lib/kosh/regtest/kosh.db") {
		t.Errorf("internal error not logged: %q", logBuf.String())
	}
	already := status.Error(codes.PermissionDenied, "no")
	if got := s.toStatus(already); got != already {
		t.Errorf("a status error was rewritten: %v", got)
	}
	if s.toStatus(nil) != nil {
		t.Error("toStatus(nil) is not nil")
	}
}

// TestHandlersOverLedger: the codes a real ledger's refusals reach a client
// with, through the handlers: unknown asset or account NotFound, a second
// asset with the same code AlreadyExists, a malformed asset InvalidArgument,
// a transfer above the balance FailedPrecondition; and a wallet sees its own
// balance but not another account's.
func TestHandlersOverLedger(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	l := ledger.New(storetest.Ledger(t, db), allowMints{}, ledger.Config{})
	l.Start()
	defer l.Stop()
	macs := testMacs(t)
	s := New(Config{Ledger: l, Macaroons: macs, Log: quietLog()})
	w := s.Wallet()

	if _, err := s.CreateAsset(ctx, &koshv1.CreateAssetRequest{Code: "KSH", Name: "Kosh", Peg: koshv1.Peg_PEG_SAT, MinCoverageBps: 10000}); err != nil {
		t.Fatal(err)
	}
	a, err := l.CreateAccount(ctx, "a", "ka")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.CreateAccount(ctx, "b", "kb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, IdempotencyKey: "m1", Asset: "KSH", To: a.ID, Amount: 100}); err != nil {
		t.Fatal(err)
	}

	_, err = s.GetAsset(ctx, &koshv1.GetAssetRequest{Code: "XYZ"})
	requireStatus(t, "GetAsset unknown", err, codes.NotFound, "XYZ")
	_, err = s.GetAccount(ctx, &koshv1.GetAccountRequest{AccountId: acctB})
	requireStatus(t, "GetAccount unknown", err, codes.NotFound)
	_, err = s.BakeWalletMacaroon(ctx, &koshv1.BakeWalletMacaroonRequest{AccountId: acctB})
	requireStatus(t, "BakeWalletMacaroon unknown account", err, codes.NotFound)
	_, err = s.CreateAsset(ctx, &koshv1.CreateAssetRequest{Code: "KSH", Name: "again", Peg: koshv1.Peg_PEG_SAT, MinCoverageBps: 10000})
	requireStatus(t, "CreateAsset twice", err, codes.AlreadyExists, "KSH")
	_, err = s.CreateAsset(ctx, &koshv1.CreateAssetRequest{Code: "k s h", Name: "bad", Peg: koshv1.Peg_PEG_SAT, MinCoverageBps: 10000})
	requireStatus(t, "CreateAsset bad code", err, codes.InvalidArgument)

	own := walletCtx(t, macs, a.ID)
	bal, err := w.GetBalance(own, &koshv1.GetBalanceRequest{AccountId: a.ID})
	if err != nil || len(bal.Balances) != 1 || bal.Balances[0].Amount != 100 {
		t.Fatalf("own balance: %v %v", bal, err)
	}
	_, err = w.GetBalance(own, &koshv1.GetBalanceRequest{AccountId: b.ID})
	requireStatus(t, "GetBalance of another account", err, codes.PermissionDenied, b.ID)
	_, err = w.Transfer(own, &koshv1.WalletServiceTransferRequest{AccountId: a.ID, ToAccountId: b.ID, Asset: "KSH",
		Amount: 101, IdempotencyKey: "t1"})
	requireStatus(t, "Transfer above the balance", err, codes.FailedPrecondition)
	_, err = w.Transfer(own, &koshv1.WalletServiceTransferRequest{AccountId: a.ID, ToAccountId: b.ID, Asset: "KSH",
		Amount: 0, IdempotencyKey: "t2"})
	requireStatus(t, "Transfer of nothing", err, codes.InvalidArgument)

	// Issuer-held accounts (the payments escrow) have no holder: the RPC
	// opens no account in their key namespace, so it cannot hand out the
	// escrow by "retrying" its key, and bakes no wallet macaroon for one.
	escrow, err := l.CreateIssuerAccount(ctx, "kosh payments escrow (redemptions in progress)", "kosh-payments-escrow")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateAccount(ctx, &koshv1.CreateAccountRequest{Label: escrow.Label, IdempotencyKey: "kosh-payments-escrow"})
	requireStatus(t, "CreateAccount under the escrow's key", err, codes.InvalidArgument, "kosh-payments-escrow", "reserved")
	_, err = s.CreateAccount(ctx, &koshv1.CreateAccountRequest{Label: "x", IdempotencyKey: "kosh-fees"})
	requireStatus(t, "CreateAccount under a reserved key", err, codes.InvalidArgument, "reserved")
	_, err = s.BakeWalletMacaroon(ctx, &koshv1.BakeWalletMacaroonRequest{AccountId: escrow.ID})
	requireStatus(t, "BakeWalletMacaroon for the escrow", err, codes.InvalidArgument, escrow.ID, "held by the issuer")
	if _, err := s.BakeWalletMacaroon(ctx, &koshv1.BakeWalletMacaroonRequest{AccountId: a.ID}); err != nil {
		t.Errorf("BakeWalletMacaroon for a holder: %v", err)
	}
}

type allowMints struct{}

func (allowMints) AllowMint(context.Context, ledger.MintCheck) error { return nil }
