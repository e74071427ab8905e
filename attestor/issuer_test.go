package attestor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/attestdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestIssuerAccountsListed: an account the issuer holds itself (an escrow
// like the payments service's) is listed in the attestation with each of
// its positive balances, its name and an inclusion proof that
// verify.Document checks against the asset's liabilities; a holder is not
// listed, nor an issuer account without a balance, nor an asset in which
// the escrow holds nothing; with no issuer balance the member is left out.
func TestIssuerAccountsListed(t *testing.T) {
	for _, backend := range []store.Backend{store.SQLite, store.Postgres} {
		t.Run(string(backend), func(t *testing.T) { testIssuerAccountsListed(t, backend) })
	}
}

func testIssuerAccountsListed(t *testing.T, backend store.Backend) {
	ctx := context.Background()
	db := storetest.Open(t, backend)
	l := ledger.New(storetest.Ledger(t, db), allowAll{}, ledger.Config{})
	l.Start()
	defer l.Stop()
	for _, code := range []string{"KSH", "SAT"} {
		if _, err := l.CreateAsset(ctx, ledger.Asset{Code: code, Name: code, Peg: ledger.PegSat, MinCoverageBps: 10000}); err != nil {
			t.Fatal(err)
		}
	}
	holder, err := l.CreateAccount(ctx, "holder", "kh")
	if err != nil {
		t.Fatal(err)
	}
	escrow, err := l.CreateIssuerAccount(ctx, "redemptions in progress", "kosh-test-escrow")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateIssuerAccount(ctx, "fees", "kosh-test-fees"); err != nil {
		t.Fatal(err)
	}
	move := func(kind, asset, from, to string, n int64, key string) {
		t.Helper()
		r := ledger.Transfer{Scope: ledger.IssuerScope, Asset: asset, From: from, To: to, Amount: n, IdempotencyKey: key}
		var err error
		if kind == "mint" {
			_, err = l.Mint(ctx, r)
		} else {
			_, err = l.Transfer(ctx, r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	move("mint", "KSH", "", holder.ID, 100_000, "m1")
	move("mint", "SAT", "", holder.ID, 5_000, "m2")

	issuer, _ := btcec.NewPrivateKey()
	res := &fakeReserves{snap: reserve.Snapshot{Sources: []reserve.SourceStatus{{Name: "chain"}}},
		chain: chain.Snapshot{Height: 200, Hash: strings.Repeat("ab", 32), MinConf: 1}}
	svc := attestor.New(attestor.Config{DB: attestdb.New(db), Ledger: l, Reserves: res, Composer: attestor.DocComposer{}, Key: issuer})
	attestDoc := func() *attest.Attestation {
		t.Helper()
		p, err := svc.Attest(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		d, err := verify.Document([]byte(p.Document))
		if err != nil {
			t.Fatalf("the attestation does not verify: %v", err)
		}
		return d
	}

	// Nothing held by the issuer: the member is left out.
	if d := attestDoc(); d.IssuerAccounts != nil {
		t.Fatalf("issuer accounts without any issuer balance: %+v", d.IssuerAccounts)
	}

	// A redemption takes 4,007 KSH into escrow, as payments does.
	move("transfer", "KSH", holder.ID, escrow.ID, 4_007, "redeem:1")
	d := attestDoc()
	if len(d.IssuerAccounts) != 1 {
		t.Fatalf("issuer accounts %+v, want the escrow's KSH alone", d.IssuerAccounts)
	}
	ia := d.IssuerAccounts[0]
	if ia.Asset != "KSH" || ia.Account != escrow.ID || ia.Name != "redemptions in progress" || ia.Balance != 4_007 || ia.ShareProof == nil || ia.Seq == nil {
		t.Fatalf("issuer account %+v, want the escrow's 4007 KSH", ia)
	}
	// The listed balance is exactly the one the KSH tree counts: with
	// another balance the proof fails.
	bundle := &attest.Bundle{Version: 2, Attestation: mustDocID(t, d), Asset: ia.Asset, Account: ia.Account, Salt: ia.Salt, Balance: ia.Balance,
		Seq: *ia.Seq, ShareProof: ia.ShareProof}
	if err := verify.Bundle(d, bundle); err != nil {
		t.Errorf("the escrow's entry as a bundle: %v", err)
	}
	bundle.Balance--
	if err := verify.Bundle(d, bundle); err == nil {
		t.Error("the escrow's proof verifies with another balance")
	}
	var ksh attest.Asset
	for _, as := range d.Assets {
		if as.Code == "KSH" {
			ksh = as
		}
	}
	if ksh.Liabilities.Total != 100_000 || ksh.Liabilities.Accounts != 2 {
		t.Errorf("KSH liabilities %+v, want 100000 over the holder and the escrow", ksh.Liabilities)
	}

	// The escrow and the fee account in both assets: sorted by asset, then
	// account.
	move("transfer", "SAT", holder.ID, escrow.ID, 7, "redeem:2")
	feesID := ""
	f, err := l.Freeze(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range f.IssuerAccounts {
		if acc.Label == "fees" {
			feesID = acc.ID
		}
	}
	move("transfer", "SAT", holder.ID, feesID, 3, "fee:1")
	d = attestDoc()
	var got []string
	for _, ia := range d.IssuerAccounts {
		got = append(got, ia.Asset+" "+ia.Name+" "+ia.Balance.String())
	}
	feesFirst := feesID < escrow.ID
	want := []string{"KSH redemptions in progress 4007", "SAT redemptions in progress 7", "SAT fees 3"}
	if feesFirst {
		want[1], want[2] = want[2], want[1]
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("issuer accounts %q, want %q", got, want)
	}
}

func mustDocID(t *testing.T, a *attest.Attestation) string {
	t.Helper()
	id, err := a.ID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
