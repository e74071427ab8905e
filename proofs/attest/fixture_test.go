package attest_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// Test keys are SHA-256 hashes of fixed labels; never use them for anything.
func testKey(label string) *btcec.PrivateKey {
	s := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(s[:])
	return k
}

var (
	issuerKey = testKey("kosh attest vector: issuer key")
	aliceKey  = testKey("kosh attest vector: lightning node alice")
	bobKey    = testKey("kosh attest vector: lightning node bob")
	otherKey  = testKey("kosh attest vector: some other key")
)

func txid(label string) string {
	h := sha256.Sum256([]byte(label))
	return fmt.Sprintf("%x", h)
}

func pubHex(k *btcec.PrivateKey) string { return fmt.Sprintf("%x", k.PubKey().SerializeCompressed()) }

// fixtureAccounts are the liabilities of the vectors.
var fixtureAccounts = map[string][]sumtree.Account{
	"INR": {{ID: "acct-asha", Balance: 250_000_00}, {ID: "acct-ravi", Balance: 12_345_67}, {ID: "acct-meera", Balance: 1}},
	"SAT": {{ID: "acct-asha", Balance: 150_000}, {ID: "acct-bo", Balance: 2_500_000}, {ID: "acct-chen", Balance: 0},
		{ID: "acct-dana", Balance: 97_000_000}, {ID: "acct-eli", Balance: 10}},
}

// fixture is one attestation with the trees it was built from.
type fixture struct {
	a     *attest.Attestation
	trees map[string]*sumtree.Tree
	// trees2 holds the version 2 trees of a version 3 attestation.
	trees2 map[string]*sumtree.ShareTree
}

// buildFixture builds the n-th attestation (1-based) of the version 1
// vector chain, naming prev, fully filled and signed with deterministic
// randomness.
func buildFixture(t testing.TB, n int64, prev string) fixture {
	return buildFixtureVersion(t, 1, n, prev)
}

// buildFixtureVersion builds the n-th attestation of the vector chain of
// the given format version.
func buildFixtureVersion(t testing.TB, version int, n int64, prev string) fixture {
	t.Helper()
	return buildFixtureWith(t, version, n, prev, fixtureAccounts, nil)
}

// buildFixtureWith builds the n-th attestation of a vector chain with the
// given liabilities; every positive balance of an account named in issuer
// (id → name) is listed as an issuer-held account.
func buildFixtureWith(t testing.TB, version int, n int64, prev string, accounts map[string][]sumtree.Account, issuer map[string]string) fixture {
	t.Helper()
	seed := sha256.Sum256([]byte(fmt.Sprintf("kosh attest vector: seed %d", n)))
	f := fixture{trees: map[string]*sumtree.Tree{}}
	a := &attest.Attestation{
		Version: 1, Seq: n, Prev: prev, IssuerKey: attest.IssuerKeyOf(issuerKey),
		Time:          fmt.Sprintf("2026-11-23T%02d:00:00Z", n),
		Block:         attest.Block{Height: 880000 + 6*n, Hash: txid(fmt.Sprintf("block %d", n))},
		JournalCutoff: attest.Amount(1000 * n),
		Counting: attest.CountingRules{MinConfirmations: 6,
			Onchain:   attest.ClassRule{Counts: true, HaircutBps: 0},
			Lightning: attest.ClassRule{Counts: true, HaircutBps: 2500}},
		Reserves: attest.Reserves{
			Onchain: []attest.UTXO{
				{Outpoint: txid("cold 1") + ":0", Value: 60_000_000, Confirmations: 1200 + 6*n, Descriptor: "wpkh([d34db33f/84h/0h/0h]xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V/0/*)#tjp2lq9d", Source: "chain"},
				{Outpoint: txid("cold 2") + ":3", Value: 50_000_000, Confirmations: 4 + 2*n, Address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Source: "chain"},
				{Outpoint: txid("alice wallet") + ":1", Value: 1_234_567, Confirmations: 40, Source: "alice"},
			},
			Lightning: []attest.Node{
				{Name: "alice", PubKey: pubHex(aliceKey), Channels: []attest.Channel{
					{ChannelPoint: txid("chan a1") + ":0", Capacity: 5_000_000, Confirmations: 100, LocalBalance: 3_000_000, Counted: 2_950_000},
					{ChannelPoint: txid("chan a2") + ":1", Capacity: 1_000_000, Confirmations: 2, LocalBalance: 900_000, Counted: 0},
				}},
				{Name: "bob", PubKey: pubHex(bobKey), Channels: []attest.Channel{
					{ChannelPoint: txid("chan b1") + ":0", Capacity: 16_777_215, Confirmations: 500, LocalBalance: 8_000_000, Counted: 7_832_000},
				}},
			},
		},
		StaleSources: []string{},
	}
	if n == 3 {
		a.StaleSources = []string{"bob"}
	}
	if version >= 2 {
		addVersion2(t, a)
	}
	if version >= 3 {
		a.Version = 3
		f.trees2 = map[string]*sumtree.ShareTree{}
	}
	for _, code := range []string{"SAT", "INR"} {
		if version >= 3 {
			a.Assets = append(a.Assets, v3Asset(t, &f, a, code, seed, accounts[code], issuer))
			continue
		}
		tree, err := sumtree.Build(context.Background(), code, seed, accounts[code], sumtree.WithHeight(4))
		if err != nil {
			t.Fatal(err)
		}
		f.trees[code] = tree
		for _, acc := range accounts[code] {
			if name, ok := issuer[acc.ID]; ok && acc.Balance > 0 {
				ia, err := attest.NewIssuerAccount(tree, acc.ID, name)
				if err != nil {
					t.Fatal(err)
				}
				a.IssuerAccounts = append(a.IssuerAccounts, ia)
			}
		}
		r := tree.Root()
		as := fixtureAsset(a, code)
		as.Liabilities = attest.Liabilities{Root: fmt.Sprintf("%x", r.Hash), Total: attest.Amount(r.Sum), Height: r.Height, Accounts: attest.Amount(r.Count)}
		a.Assets = append(a.Assets, as)
	}
	if err := a.Fill(); err != nil {
		t.Fatal(err)
	}
	signNodes(t, a, aliceKey, bobKey)
	if err := a.SignWithAux(issuerKey, [32]byte{}); err != nil {
		t.Fatal(err)
	}
	f.a = a
	return f
}

// fixtureAsset is asset code of the vectors, without its liabilities.
func fixtureAsset(a *attest.Attestation, code string) attest.Asset {
	as := attest.Asset{Code: code, Peg: attest.PegSat, MinCoverageBps: 10000}
	if code == "INR" {
		as.Peg, as.Currency, as.Decimals, as.MinCoverageBps = attest.PegFiat, "INR", 2, 15000
		// 1 BTC = 8,123,456.78 INR
		as.Price = &attest.Price{Currency: "INR", Coefficient: attest.NewBigInt(big.NewInt(812345678)), Scale: 2, Time: a.Time}
	}
	return as
}

// v3Seq is the last journal entry of the i-th account of a vector tree of
// attestation n (cut-off 1000·n).
func v3Seq(n int64, i int) uint64 { return uint64(1000*n) - uint64(10*i) - 1 }

// v3Asset builds the version 2 tree of one asset of version 3 attestation
// a (2 shares, windows of 4 positions, height 4), lists the issuer-held
// accounts of it, and returns the asset.
func v3Asset(t testing.TB, f *fixture, a *attest.Attestation, code string, seed [32]byte, accounts []sumtree.Account, issuer map[string]string) attest.Asset {
	t.Helper()
	hs := make([]sumtree.Holding, len(accounts))
	for i, acc := range accounts {
		hs[i] = sumtree.Holding{ID: acc.ID, Balance: acc.Balance, Seq: v3Seq(a.Seq, i)}
	}
	tree, err := sumtree.Build2(context.Background(), code, seed, hs, sumtree.WithShares(2), sumtree.WithWindow(2), sumtree.WithShareHeight(4))
	if err != nil {
		t.Fatal(err)
	}
	f.trees2[code] = tree
	for _, acc := range accounts {
		if name, ok := issuer[acc.ID]; ok && acc.Balance > 0 {
			ia, err := attest.NewIssuerAccount2(tree, acc.ID, name)
			if err != nil {
				t.Fatal(err)
			}
			a.IssuerAccounts = append(a.IssuerAccounts, ia)
		}
	}
	r := tree.Root()
	as := fixtureAsset(a, code)
	w := r.Window
	as.Liabilities = attest.Liabilities{Root: fmt.Sprintf("%x", r.Hash), Total: attest.Amount(r.Sum), Height: r.Height,
		Accounts: attest.Amount(r.Count), Shares: r.Shares, Window: &w, TreeID: fmt.Sprintf("%x", r.TreeID)}
	return as
}

// signNodes sets each node's signature, keys in node order (nil: unsigned).
func signNodes(t testing.TB, a *attest.Attestation, keys ...*btcec.PrivateKey) {
	t.Helper()
	msg, err := a.NodeMessage()
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if k == nil {
			a.Reserves.Lightning[i].Signature = ""
			continue
		}
		s, err := sig.SignNodeMessage(k, msg)
		if err != nil {
			t.Fatal(err)
		}
		a.Reserves.Lightning[i].Signature = s
	}
}

// resign re-signs a after a change, node signatures included, so that only
// the changed figure is wrong.
func resign(t testing.TB, a *attest.Attestation) {
	t.Helper()
	signNodes(t, a, aliceKey, bobKey)
	if err := a.SignWithAux(issuerKey, [32]byte{}); err != nil {
		t.Fatal(err)
	}
}

// clone deep-copies an attestation through its encoding.
func clone(t testing.TB, a *attest.Attestation) *attest.Attestation {
	t.Helper()
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, err := attest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustMarshal(t testing.TB, a *attest.Attestation) []byte {
	t.Helper()
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustID(t testing.TB, a *attest.Attestation) string {
	t.Helper()
	id, err := a.ID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Version 2 reserve outputs of the vectors: every one with its script,
// each spendable by keys derived from its label.
func v2Outputs() map[string]*ct.Output {
	a, b, c := ct.Key("kosh attest vector: cosigner a"), ct.Key("kosh attest vector: cosigner b"), ct.Key("kosh attest vector: cosigner c")
	return map[string]*ct.Output{
		"cold 1":       ct.NewOutput(ct.P2WPKH, "kosh attest vector: cold 1", 0, 60_000_000, 0, ct.Key("kosh attest vector: cold 1")),
		"cold 2":       ct.NewOutput(ct.P2WSH, "kosh attest vector: cold 2", 3, 50_000_000, 2, a, b, c),
		"cold 3":       ct.NewOutput(ct.P2TR, "kosh attest vector: cold 3", 1, 25_000_000, 0, ct.Key("kosh attest vector: cold 3")),
		"alice wallet": ct.NewOutput(ct.P2TR, "kosh attest vector: alice wallet", 1, 1_234_567, 0, ct.Key("kosh attest vector: alice wallet")),
		"foreign":      ct.NewOutput(ct.P2WPKH, "kosh attest vector: foreign", 7, 900_000_000, 0, ct.Key("kosh attest vector: somebody else")),
	}
}

// v2ProofMaxAge is the proof age of the version 2 vectors.
const v2ProofMaxAge = 1000

// addVersion2 turns a version 1 fixture into version 2: outputs with
// scripts and proofs of control (cold 1 and 2 proven 10 blocks back, cold 3
// by a proof past the proof age, alice's wallet output at the attested
// block, a foreign output with none), announced and claimed channels.
func addVersion2(t testing.TB, a *attest.Attestation) {
	t.Helper()
	a.Version = 2
	age := int64(v2ProofMaxAge)
	a.Counting.ProofMaxAge = &age
	a.Counting.LightningClaimed = &attest.ClassRule{Counts: false}
	outs := v2Outputs()
	y := a.Block.Height
	prove := func(height int64, hash string, labels ...string) int {
		ch := control.Challenge{IssuerKey: a.IssuerKey, Height: height, Hash: hash}
		var os []*ct.Output
		for _, l := range labels {
			os = append(os, outs[l])
		}
		cp, err := ct.Prove(ch, os...)
		if err != nil {
			t.Fatal(err)
		}
		txHex, err := control.Encode(cp.Tx)
		if err != nil {
			t.Fatal(err)
		}
		pr := attest.Proof{Block: attest.Block{Height: height, Hash: hash}, Tx: txHex}
		for _, o := range os {
			pr.Prevouts = append(pr.Prevouts, attest.Prevout{Value: attest.Amount(o.Value), Script: fmt.Sprintf("%x", o.Script)})
		}
		a.Reserves.Proofs = append(a.Reserves.Proofs, pr)
		return len(a.Reserves.Proofs) - 1
	}
	recent := prove(y-10, txid(fmt.Sprintf("block at %d", y-10)), "cold 1", "cold 2")
	old := prove(y-age-1, txid(fmt.Sprintf("block at %d", y-age-1)), "cold 3")
	atBlock := prove(y, a.Block.Hash, "alice wallet")
	utxo := func(label, source string, confs int64, proof *int) attest.UTXO {
		o := outs[label]
		return attest.UTXO{Outpoint: o.OutPoint.String(), Value: attest.Amount(o.Value), Confirmations: confs, Source: source,
			Script: fmt.Sprintf("%x", o.Script), Proof: proof}
	}
	a.Reserves.Onchain = []attest.UTXO{
		utxo("cold 1", "chain", 1200, &recent),
		utxo("cold 2", "chain", 400, &recent),
		utxo("cold 3", "chain", 2000, &old),
		utxo("alice wallet", "alice", 40, &atBlock),
		utxo("foreign", "chain", 5000, nil),
	}
	a.Reserves.Onchain[0].Descriptor = "wpkh(02" + strings.Repeat("1", 64) + ")"
	for i := range a.Reserves.Lightning {
		for j := range a.Reserves.Lightning[i].Channels {
			c := &a.Reserves.Lightning[i].Channels[j]
			c.Evidence = attest.EvidenceAnnounced
			c.ShortChannelID = fmt.Sprintf("%dx%dx%d", y-c.Confirmations+1, 7+j, j)
		}
	}
	// bob's channel is private: a claim, which the rules do not count.
	a.Reserves.Lightning[1].Channels[0].Evidence = attest.EvidenceClaimed
}
