package receipts

import (
	"strings"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
)

func transferEntry() ledger.Entry {
	return ledger.Entry{Seq: 42, Kind: ledger.KindTransfer, Asset: "SAT", DebitAccountID: "alice", CreditAccountID: "bob",
		Amount: 300, DebitBalanceAfter: 700, CreditBalanceAfter: 1_300,
		CreatedAt: time.Date(2026, 12, 6, 20, 0, 0, 123_000_000, time.FixedZone("IST", 5*3600+1800))}
}

// TestAfterSkipsMissingSide: a mint has no debit account and a burn no
// credit account; asking for both sides names only the accounts there are.
func TestAfterSkipsMissingSide(t *testing.T) {
	e := ledger.Entry{Seq: 1, CreditAccountID: "bob"}
	got := After(e, e.DebitAccountID, e.CreditAccountID)
	if len(got) != 1 || got[0].Account != "bob" || got[0].Entry.Seq != 1 {
		t.Fatalf("After = %+v, want bob's receipt only", got)
	}
	if got := After(e); len(got) != 0 {
		t.Fatalf("After with no accounts = %+v", got)
	}
}

// TestCompose: each receipt carries the balance of its own side of the
// entry, the entry's asset, sequence and time (UTC), in the order asked,
// and verifies on its own from its document.
func TestCompose(t *testing.T) {
	s := testSigner(t)
	e := transferEntry()
	rs, err := s.Compose(After(e, "alice", "bob")...)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		acct string
		bal  int64
	}{{"alice", 700}, {"bob", 1_300}}
	if len(rs) != len(want) {
		t.Fatalf("%d receipts, want %d", len(rs), len(want))
	}
	for i, w := range want {
		r := rs[i]
		if r.Account != w.acct || int64(r.Balance) != w.bal || r.Asset != "SAT" || r.Seq != 42 ||
			r.Time != e.CreatedAt.UTC().Format(attest.TimeLayout) {
			t.Errorf("receipt %d = %+v, want %s's balance %d after SAT entry 42 at %s", i, r.Receipt, w.acct, w.bal,
				e.CreatedAt.UTC().Format(attest.TimeLayout))
		}
		p, err := receipt.ParseReceipt(r.Document)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(s.Key()); err != nil {
			t.Fatalf("%s: %v", r.Document, err)
		}
		if p.Account != w.acct || int64(p.Balance) != w.bal {
			t.Errorf("document %s does not say %s's balance %d", r.Document, w.acct, w.bal)
		}
	}
	if st := s.Stats(); st.Receipts != 2 || st.Signatures != 1 {
		t.Errorf("stats %+v, want 2 receipts under one signature", st)
	}
}

// TestComposeReplay: the same entry composed again (a replayed request)
// gives a receipt of the same figures, freshly signed.
func TestComposeReplay(t *testing.T) {
	s := testSigner(t)
	e := transferEntry()
	a, err := s.Compose(Of{Entry: e, Account: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	e.Replayed = true
	b, err := s.Compose(Of{Entry: e, Account: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Balance != b[0].Balance || a[0].Seq != b[0].Seq || a[0].Time != b[0].Time || a[0].Asset != b[0].Asset {
		t.Fatalf("replayed receipt %+v differs from the first %+v", b[0].Receipt, a[0].Receipt)
	}
	if a[0].Nonce == b[0].Nonce {
		t.Fatal("the replayed receipt reuses the first one's nonce")
	}
}

// TestComposeRefusesOtherAccount: a receipt for an account the entry does
// not touch would state a balance the entry does not record; nothing is
// signed.
func TestComposeRefusesOtherAccount(t *testing.T) {
	s := testSigner(t)
	_, err := s.Compose(Of{Entry: transferEntry(), Account: "bob"}, Of{Entry: transferEntry(), Account: "carol"})
	if err == nil || !strings.Contains(err.Error(), "carol") || !strings.Contains(err.Error(), "does not touch") {
		t.Fatalf("err = %v, want a refusal naming carol", err)
	}
	if st := s.Stats(); st.Receipts != 0 {
		t.Fatalf("stats %+v: something was signed", st)
	}
}

// TestComposeNothing: no items, no receipts and no signature.
func TestComposeNothing(t *testing.T) {
	s := testSigner(t)
	rs, err := s.Compose()
	if err != nil || rs != nil {
		t.Fatalf("Compose() = %v, %v", rs, err)
	}
	if st := s.Stats(); st.Signatures != 0 {
		t.Fatalf("stats %+v", st)
	}
}
