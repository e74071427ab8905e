package attestor_test

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/attestdb"
	"github.com/kosh-reserve/kosh/store/provingdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

type allowAll struct{}

func (allowAll) AllowMint(context.Context, ledger.MintCheck) error { return nil }

// fakeReserves is a fixed reserve picture.
type fakeReserves struct {
	snap   reserve.Snapshot
	chain  chain.Snapshot
	ln     []lightning.Report
	prices reserve.Prices
	proofs *proving.Book
}

func (f *fakeReserves) Snapshot() reserve.Snapshot { return f.snap }
func (f *fakeReserves) Details() (chain.Snapshot, []lightning.Report) {
	return f.chain, f.ln
}
func (f *fakeReserves) Prices() reserve.Prices { return f.prices }
func (f *fakeReserves) Proofs() *proving.Book  { return f.proofs }

// proveOutputs stores in book a proof of control at height over outs,
// signed by their keys.
func proveOutputs(t *testing.T, book *proving.Book, issuer *btcec.PrivateKey, height int64, outs ...*ct.Output) {
	t.Helper()
	ch := control.Challenge{IssuerKey: attest.IssuerKeyOf(issuer), Height: height, Hash: strings.Repeat("0e", 32)}
	p, err := ct.Prove(ch, outs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := book.Add(context.Background(), p, "test"); err != nil {
		t.Fatal(err)
	}
}

type fixedPrice map[string]reserve.Price

func (p fixedPrice) Price(c string) (reserve.Price, error) {
	if v, ok := p[c]; ok {
		return v, nil
	}
	return reserve.Price{}, errors.New("no price for " + c)
}

// keySigner signs like lnd's SignMessage with a known node key.
type keySigner struct {
	name string
	key  *btcec.PrivateKey
	fail bool
}

func (k keySigner) Name() string  { return k.name }
func (k keySigner) CanSign() bool { return true }
func (k keySigner) SignMessage(_ context.Context, msg []byte) (string, error) {
	if k.fail {
		return "", errors.New("lnd unreachable")
	}
	return sig.SignNodeMessage(k.key, msg)
}

func outpoint(t *testing.T, b byte, n uint32) wire.OutPoint {
	t.Helper()
	var h chainhash.Hash
	h[0] = b
	return wire.OutPoint{Hash: h, Index: n}
}

func pubHex(k *btcec.PrivateKey) string {
	return strings.ToLower(hexOf(k.PubKey().SerializeCompressed()))
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// TestAttestEndToEnd makes attestations from a real ledger (both stores) and
// a fixed reserve picture and checks every published figure, the hash
// chain, the static files and holders' inclusion proofs.
func TestAttestEndToEnd(t *testing.T) {
	for _, backend := range []store.Backend{store.SQLite, store.Postgres} {
		t.Run(string(backend), func(t *testing.T) { testAttestEndToEnd(t, backend) })
	}
}

func testAttestEndToEnd(t *testing.T, backend store.Backend) {
	ctx := context.Background()
	db := storetest.Open(t, backend)
	l := ledger.New(storetest.Ledger(t, db), allowAll{}, ledger.Config{})
	l.Start()
	defer l.Stop()
	if _, err := l.CreateAsset(ctx, ledger.Asset{Code: "KSH", Name: "k", Peg: ledger.PegSat, MinCoverageBps: 10000}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateAsset(ctx, ledger.Asset{Code: "INR", Name: "rupee", Peg: ledger.PegFiat, Currency: "INR", Decimals: 2, MinCoverageBps: 15000}); err != nil {
		t.Fatal(err)
	}
	a, _ := l.CreateAccount(ctx, "a", "ka")
	b, _ := l.CreateAccount(ctx, "b", "kb")
	for i, m := range []struct {
		asset, acct string
		n           int64
	}{{"KSH", a.ID, 600_000}, {"KSH", b.ID, 150_000}, {"INR", a.ID, 1_000_000}} {
		if _, err := l.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, Asset: m.asset, To: m.acct, Amount: m.n,
			IdempotencyKey: "m" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
	}

	issuer, _ := btcec.NewPrivateKey()
	alice, _ := btcec.NewPrivateKey()
	bob, _ := btcec.NewPrivateKey()
	// The cold output and alice's wallet output are proven at block 190;
	// the young output is not (it would not count anyway).
	cold := ct.NewOutput(ct.P2WPKH, "cold", 0, 500_000, 0, ct.Key("attestor test: cold"))
	cold.OutPoint = outpoint(t, 1, 0)
	aliceWallet := ct.NewOutput(ct.P2TR, "alice wallet", 0, 20_000, 0, ct.Key("attestor test: alice wallet"))
	aliceWallet.OutPoint = outpoint(t, 5, 0)
	book, err := proving.New(ctx, proving.Config{DB: provingdb.New(db), IssuerKey: attest.IssuerKeyOf(issuer), MaxAge: 100})
	if err != nil {
		t.Fatal(err)
	}
	proveOutputs(t, book, issuer, 190, cold, aliceWallet)
	res := &fakeReserves{proofs: book,
		snap: reserve.Snapshot{Sources: []reserve.SourceStatus{{Name: "chain"}, {Name: "alice"}, {Name: "bob"}}},
		chain: chain.Snapshot{Height: 200, Hash: strings.Repeat("ab", 32), MinConf: 3, UTXOs: []chain.UTXO{
			{OutPoint: outpoint(t, 1, 0), Value: 500_000, Height: 150, Descriptor: "wpkh(x)", PkScript: cold.Script},
			{OutPoint: outpoint(t, 2, 1), Value: 70_000, Height: 199, PkScript: cold.Script}, // 2 confirmations: listed, not counted
			{OutPoint: outpoint(t, 3, 0), Value: 9_999, Height: 201, PkScript: cold.Script},  // after the attested block: not listed
		}},
		ln: []lightning.Report{
			{Name: "alice", PubKey: pubHex(alice), BlockHeight: 201, BlockHash: strings.Repeat("cd", 32),
				Channels: []lightning.Channel{{ChannelPoint: outpoint(t, 4, 0).String(), Capacity: 1_000_000, Active: true,
					LocalBalance: 400_000, Reserve: 10_000, Verified: true, Counted: 390_000, FundingHeight: 100,
					ShortChannelID: "100x1x0", Announced: true}},
				Wallet: []lightning.WalletOutput{{Outpoint: outpoint(t, 5, 0).String(), Value: 20_000, FundingHeight: 190,
					PkScript: aliceWallet.Script, Class: "confirmed", Counted: true}}},
			{Name: "bob", PubKey: pubHex(bob), BlockHeight: 200, BlockHash: strings.Repeat("ab", 32),
				Channels: []lightning.Channel{{ChannelPoint: outpoint(t, 6, 0).String(), Capacity: 300_000, Active: true,
					LocalBalance: 100_000, Reserve: 3_000, Verified: true, Counted: 97_000, FundingHeight: 120,
					ShortChannelID: "120x4x1", Announced: true}}},
		},
		prices: fixedPrice{"INR": {Currency: "INR", Coefficient: big.NewInt(800_000_000), Scale: 2, Time: time.Unix(1_700_000_000, 0),
			SpreadBps: 1, Sources: []reserve.PriceSource{
				{Name: "z", Coefficient: big.NewInt(8_000_100), Scale: 0, Time: time.Unix(1_700_000_000, 0)},
				{Name: "a", Coefficient: big.NewInt(800_000_000), Scale: 2, Time: time.Unix(1_700_000_000, 0)}}}},
	}
	dir := t.TempDir()
	svc := attestor.New(attestor.Config{DB: attestdb.New(db), Ledger: l, Reserves: res, Composer: attestor.DocComposer{}, Key: issuer, Dir: dir, History: l,
		Nodes: []attestor.NodeSigner{keySigner{name: "alice", key: alice}, keySigner{name: "bob", key: bob, fail: true}}})

	p1, err := svc.Attest(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	d1, err := verify.Document([]byte(p1.Document))
	if err != nil {
		t.Fatalf("published attestation does not verify: %v", err)
	}
	// On-chain: 500,000 (150) + 70,000 (199, 2 confs) + alice's wallet
	// 20,000 (190, 11 confs); eligible at 3 confs: 520,000. Lightning:
	// alice signed (390,000); bob could not sign, so his 97,000 count 0.
	tot := d1.Reserves.Totals
	if tot.Onchain.Listed != 590_000 || tot.Onchain.Eligible != 520_000 || tot.Lightning.Counted != 390_000 || tot.Counted != 910_000 {
		t.Errorf("totals %+v, want listed 590000, eligible 520000, lightning 390000, counted 910000", tot)
	}
	// Version 3 (version 2's members, version 2 trees): both proven
	// outputs name the one proof; the young output has none; both
	// channels are announced.
	if d1.Version != 3 || len(d1.Reserves.Proofs) != 1 || *d1.Counting.ProofMaxAge != 100 {
		t.Errorf("version %d with %d proofs, proof age %v", d1.Version, len(d1.Reserves.Proofs), d1.Counting.ProofMaxAge)
	}
	for _, u := range d1.Reserves.Onchain {
		proven := u.Outpoint == outpoint(t, 1, 0).String() || u.Outpoint == outpoint(t, 5, 0).String()
		if (u.Proof != nil) != proven || u.Script == "" {
			t.Errorf("output %s: proof %v, script %q", u.Outpoint, u.Proof, u.Script)
		}
	}
	if d1.Block.Height != 200 || d1.Seq != 1 || d1.Prev != "" || d1.Counting.MinConfirmations != 3 {
		t.Errorf("block %+v seq %d prev %q minconf %d", d1.Block, d1.Seq, d1.Prev, d1.Counting.MinConfirmations)
	}
	for _, n := range d1.Reserves.Lightning {
		switch n.Name {
		case "alice":
			if n.Signature == "" || n.Channels[0].Confirmations != 101 {
				t.Errorf("alice: signature %q, confirmations %d (want signed, 101)", n.Signature, n.Channels[0].Confirmations)
			}
		case "bob":
			if n.Signature != "" || n.Channels[0].Counted != 0 {
				t.Errorf("bob: signature %q, counted %d (want unsigned, 0)", n.Signature, n.Channels[0].Counted)
			}
		}
	}
	// Liabilities: KSH 750,000 sat at 1.00; INR 10,000.00 rupees at
	// 8,000,000.00 INR/BTC = 125,000 sats, at 1.50 = 187,500 sats.
	// Counted 910,000 covers the liabilities 1.04 times (10,400 bps) but
	// falls short of the 937,500 the policies require: not backed.
	if d1.Coverage.Backing != 875_000 || d1.Coverage.Required != 937_500 || d1.Coverage.Backed || d1.Coverage.Bps.Int64() != 10_400 {
		t.Errorf("coverage %+v, want backing 875000, required 937500, 10400 bps, not backed", d1.Coverage)
	}
	if d1.Stale {
		t.Errorf("attestation is stale: %v", d1.StaleSources)
	}
	// The INR price carries its sources, sorted by name, and spread (100 of
	// 8,000,000 is 0.125 bps, rounded up to 1), and Verify recomputed both.
	for _, as := range d1.Assets {
		if as.Code == "INR" && (as.Price == nil || len(as.Price.Sources) != 2 || as.Price.Sources[0].Name != "a" || as.Price.SpreadBps != 1) {
			t.Errorf("INR price %+v", as.Price)
		}
	}

	// Inclusion bundles verify against the document, for every holder.
	for _, acct := range []string{a.ID, b.ID} {
		bu, err := svc.Bundle(ctx, "", "KSH", acct)
		if err != nil {
			t.Fatal(err)
		}
		if err := verify.Bundle(d1, bu); err != nil {
			t.Errorf("bundle of %s: %v", acct, err)
		}
	}
	if _, err := svc.Bundle(ctx, "", "INR", b.ID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("bundle of an account holding no INR: %v, want NotFound", err)
	}
	// Version 2 bundles commit to each holder's last entry.
	for _, acct := range []string{a.ID, b.ID} {
		bu, _ := svc.Bundle(ctx, "", "KSH", acct)
		last, err := l.LastEntrySeq(ctx, "KSH", acct, int64(d1.JournalCutoff))
		if err != nil || bu.Version != 2 || bu.Seq != last || last == 0 {
			t.Errorf("bundle of %s: version %d, seq %d; last entry %d (%v)", acct, bu.Version, bu.Seq, last, err)
		}
	}
	// An account absent from the INR tree gets the issuer's signed
	// statement of it, which verifies against the document; one in the
	// tree does not.
	abs, err := svc.Absence(ctx, "", "INR", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Absence(d1, abs); err != nil || abs.Account != b.ID || abs.Seq != 1 {
		t.Errorf("absence %+v: %v", abs, err)
	}
	if _, err := svc.Absence(ctx, "", "KSH", a.ID); !errors.Is(err, attestor.ErrInTree) {
		t.Errorf("absence of an account in the tree: %v", err)
	}

	// A second attestation after a transfer: names the first, marks a stale
	// source, and proofs rebuilt from the store (fresh service) verify.
	if _, err := l.Transfer(ctx, ledger.Transfer{Scope: ledger.IssuerScope, Asset: "KSH", From: a.ID, To: b.ID, Amount: 1, IdempotencyKey: "t"}); err != nil {
		t.Fatal(err)
	}
	res.snap.Sources[2].Stale = true
	p2, err := svc.Attest(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	d2, err := verify.Document([]byte(p2.Document))
	if err != nil {
		t.Fatal(err)
	}
	if d2.Prev != p1.ID || d2.Seq != 2 || !d2.Stale || len(d2.StaleSources) != 1 || d2.StaleSources[0] != "bob" || !p2.Stale {
		t.Errorf("second: prev %s seq %d stale %v %v (row %v)", d2.Prev, d2.Seq, d2.Stale, d2.StaleSources, p2.Stale)
	}
	if err := verify.Chain([]*attest.Attestation{d1, d2}, ""); err != nil {
		t.Errorf("chain: %v", err)
	}
	fresh := attestor.New(attestor.Config{DB: attestdb.New(db), Ledger: l, Reserves: res, Composer: attestor.DocComposer{}, Key: issuer})
	for _, id := range []string{p1.ID, p2.ID} {
		bu, err := fresh.Bundle(ctx, id, "KSH", b.ID)
		if err != nil {
			t.Fatal(err)
		}
		doc := d1
		if id == p2.ID {
			doc = d2
		}
		if err := verify.Bundle(doc, bu); err != nil {
			t.Errorf("rebuilt bundle for %s: %v", id, err)
		}
		other := d2
		if id == p2.ID {
			other = d1
		}
		if err := verify.Bundle(other, bu); err == nil {
			t.Errorf("a bundle for attestation %d verified against the other", bu.Balance)
		}
	}
	// Static files: each attestation and latest.json, byte for byte.
	for name, want := range map[string]string{attestor.FileName(p1): p1.Document, attestor.FileName(p2): p2.Document, "latest.json": p2.Document} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("file %s: %v (equal: %v)", name, err, string(got) == want)
		}
	}
	list, err := svc.List(ctx, 0, 10)
	if err != nil || len(list) != 2 || list[0].Seq != 2 {
		t.Errorf("list: %v %d", err, len(list))
	}

	// The price goes stale: the attestation is still published, marked
	// stale with the price named, valuing INR at the last attested price.
	res.prices = fixedPrice{}
	res.snap.Sources[2].Stale = false
	p3, err := svc.Attest(ctx, "test")
	if err != nil {
		t.Fatalf("attest with a stale price: %v", err)
	}
	d3, err := verify.Document([]byte(p3.Document))
	if err != nil {
		t.Fatal(err)
	}
	var inr *attest.Asset
	for i := range d3.Assets {
		if d3.Assets[i].Code == "INR" {
			inr = &d3.Assets[i]
		}
	}
	if !p3.Stale || !d3.Stale || len(d3.StaleSources) != 1 || d3.StaleSources[0] != "price:INR" ||
		inr == nil || inr.Price == nil || inr.Price.Coefficient.String() != "800000000" {
		t.Errorf("stale price: row stale %v, doc stale %v %v, INR %+v", p3.Stale, d3.Stale, d3.StaleSources, inr)
	}

	// Redemptions are paid at the price the newest attestation states, as
	// stored beside it; an attestation stored before prices were gets its
	// prices from its document at start (FillPrices), once.
	checkPrice := func(what string) {
		t.Helper()
		ap, err := svc.AttestedPrice(ctx, "INR")
		if err != nil || ap.Coefficient.String() != "800000000" || ap.Scale != inr.Price.Scale || ap.Seq != p3.Seq || ap.ID != p3.ID {
			t.Errorf("%s: attested INR price %+v, %v", what, ap, err)
		}
	}
	checkPrice("stored with the attestation")
	if _, err := svc.AttestedPrice(ctx, "EUR"); err == nil || !strings.Contains(err.Error(), "states no EUR price") {
		t.Errorf("attested EUR price: %v", err)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM attestation_prices WHERE attestation_seq = $1`, p3.Seq)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AttestedPrice(ctx, "INR"); err == nil {
		t.Error("an attestation without stored prices has an attested price")
	}
	for i := 0; i < 2; i++ {
		if err := svc.FillPrices(ctx); err != nil {
			t.Fatalf("fill prices (%d): %v", i+1, err)
		}
	}
	checkPrice("filled from the document")

	// With no price now and none attested before, a fiat asset with
	// liabilities cannot be attested: its coverage cannot be stated.
	db2 := storetest.Open(t, backend)
	l2 := ledger.New(storetest.Ledger(t, db2), allowAll{}, ledger.Config{})
	l2.Start()
	defer l2.Stop()
	if _, err := l2.CreateAsset(ctx, ledger.Asset{Code: "INR", Name: "rupee", Peg: ledger.PegFiat, Currency: "INR", Decimals: 2, MinCoverageBps: 15000}); err != nil {
		t.Fatal(err)
	}
	c, _ := l2.CreateAccount(ctx, "c", "kc")
	if _, err := l2.Mint(ctx, ledger.Transfer{Scope: ledger.IssuerScope, Asset: "INR", To: c.ID, Amount: 5, IdempotencyKey: "m"}); err != nil {
		t.Fatal(err)
	}
	svc2 := attestor.New(attestor.Config{DB: attestdb.New(db2), Ledger: l2, Reserves: res, Composer: attestor.DocComposer{}, Key: issuer})
	if _, err := svc2.Attest(ctx, "test"); err == nil || !strings.Contains(err.Error(), "no usable INR price") {
		t.Errorf("first attestation without a price: %v", err)
	}
}
