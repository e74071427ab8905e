package attest_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// fourSources gives the INR price of a four oracle quotes, 8,100,000.00,
// 8,123,456.78, 8,150,000.00 and 8,200,000.000 INR per BTC: an even count,
// whose lower median (index (4 − 1) / 2 = 1) is the fixture's price
// 8,123,456.78. The spread is their largest deviation from it, rounded up:
// ceil(76,543.22 × 10000 / 8,123,456.78) = 95 basis points.
func fourSources(a *attest.Attestation) *attest.Price {
	pr := assetOf(a, "INR").Price
	coef := func(c int64) attest.BigInt { return attest.NewBigInt(big.NewInt(c)) }
	pr.Sources = []attest.PriceSource{
		{Name: "exchange-a", Coefficient: coef(810000000), Scale: 2, Time: a.Time},
		{Name: "exchange-b", Coefficient: coef(812345678), Scale: 2, Time: a.Time},
		{Name: "exchange-c", Coefficient: coef(815000000), Scale: 2, Time: a.Time},
		{Name: "exchange-d", Coefficient: coef(8200000000), Scale: 3, Time: a.Time},
	}
	pr.SpreadBps = 95
	return pr
}

// assetOf returns a's asset with the code.
func assetOf(a *attest.Attestation, code string) *attest.Asset {
	for i := range a.Assets {
		if a.Assets[i].Code == code {
			return &a.Assets[i]
		}
	}
	panic("no asset " + code)
}

// fillOrPanic recomputes the derived figures of an edit that must leave
// them computable.
func fillOrPanic(a *attest.Attestation) {
	if err := a.Fill(); err != nil {
		panic(err)
	}
}

// tampersPrice break the price and asset rules of docs/proofs.md 4.2
// (asset, price) on version 1 attestation 1, each re-signed so that only
// the named rule fails.
var tampersPrice = []tamper{
	{name: "price: the upper median of four sources, re-signed", resign: true, edit: func(a *attest.Attestation) {
		pr := fourSources(a)
		pr.Coefficient = attest.NewBigInt(big.NewInt(815000000))
		pr.SpreadBps = 62 // ceil(50,000 × 10000 / 8,150,000): right for this price, so only the median fails
		fillOrPanic(a)
	}},
	{name: "price: spread understated, re-signed", resign: true, edit: func(a *attest.Attestation) {
		fourSources(a).SpreadBps = 94
	}},
	{name: "price: sources but no spread, re-signed", resign: true, edit: func(a *attest.Attestation) {
		fourSources(a).SpreadBps = 0
	}},
	{name: "price: spread without sources, re-signed", resign: true, edit: func(a *attest.Attestation) {
		assetOf(a, "INR").Price.SpreadBps = 95
	}},
	{name: "price: manual price lists sources, re-signed", resign: true, edit: func(a *attest.Attestation) {
		fourSources(a).Manual = true
	}},
	{name: "price: sources out of order, re-signed", resign: true, edit: func(a *attest.Attestation) {
		s := fourSources(a).Sources
		s[0].Name, s[1].Name = s[1].Name, s[0].Name
	}},
	{name: "price: a source time of February 30, re-signed", resign: true, edit: func(a *attest.Attestation) {
		fourSources(a).Sources[2].Time = "2026-02-30T01:00:00Z"
	}},
	{name: "price: time of February 30, re-signed", resign: true, edit: func(a *attest.Attestation) {
		assetOf(a, "INR").Price.Time = "2026-02-30T01:00:00Z"
	}},
	{name: "price: scale 19, re-signed", resign: true, edit: func(a *attest.Attestation) {
		pr := assetOf(a, "INR").Price
		pr.Coefficient, pr.Scale = attest.NewBigInt(new(big.Int).Mul(big.NewInt(812345678), big.NewInt(1e17))), 19
	}},
	{name: "price: coefficient 0, re-signed", resign: true, edit: func(a *attest.Attestation) {
		assetOf(a, "INR").Price.Coefficient = attest.NewBigInt(big.NewInt(0))
	}},
	{name: "price: in another currency than the asset's, re-signed", resign: true, edit: func(a *attest.Attestation) {
		assetOf(a, "INR").Price.Currency = "USD"
	}},
	{name: "asset: fiat asset with liabilities and no price, re-signed", resign: true, edit: func(a *attest.Attestation) {
		assetOf(a, "INR").Price = nil
	}},
	{name: "asset: fiat asset without a currency, re-signed", resign: true, edit: func(a *attest.Attestation) {
		as := assetOf(a, "INR")
		as.Currency, as.Price.Currency = "", ""
	}},
	{name: "asset: currency in lower case, re-signed", resign: true, edit: func(a *attest.Attestation) {
		as := assetOf(a, "INR")
		as.Currency, as.Price.Currency = "inr", "inr"
	}},
	{name: "asset: currency with a Cyrillic capital, re-signed", resign: true, edit: func(a *attest.Attestation) {
		as := assetOf(a, "INR")
		as.Currency, as.Price.Currency = "\u0406NR", "\u0406NR"
	}},
	{name: "asset: sat asset names a currency, re-signed", resign: true, edit: func(a *attest.Attestation) {
		assetOf(a, "SAT").Currency = "XBT"
	}},
	{name: "asset: 19 decimals, re-signed", resign: true, edit: func(a *attest.Attestation) {
		assetOf(a, "SAT").Decimals = 19
	}},
	{name: "coverage: 112 digits, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Coverage.Bps = attest.NewCoverageBps(new(big.Int).Exp(big.NewInt(10), big.NewInt(111), nil))
	}},
	{name: "attestation time of February 30, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Time = "2026-02-30T01:00:00Z"
	}},
}

// variant is a valid document made from version 1 attestation 1 by edit,
// with every figure recomputed and every signature made again.
type variant struct {
	name string
	edit func(t testing.TB, f fixture)
	// nodes signs the nodes again with these keys (nil: unsigned); empty
	// means alice and bob.
	unsignedBob bool
}

// variants are valid documents the chain does not show: the price rules
// that hold, and what the counting rules allow.
var variants = []variant{
	{name: "variant: price from four oracle sources, the lower median", edit: func(t testing.TB, f fixture) { fourSources(f.a) }},
	{name: "variant: manual price", edit: func(t testing.TB, f fixture) { assetOf(f.a, "INR").Price.Manual = true }},
	{name: "variant: fiat asset without a price and without liabilities", edit: func(t testing.TB, f fixture) {
		seed := sha256.Sum256([]byte("kosh attest vector: seed of the USD variant"))
		tree, err := sumtree.Build(context.Background(), "USD", seed, nil, sumtree.WithHeight(4))
		if err != nil {
			t.Fatal(err)
		}
		r := tree.Root()
		f.a.Assets = append(f.a.Assets, attest.Asset{Code: "USD", Decimals: 2, Peg: attest.PegFiat, Currency: "USD", MinCoverageBps: 15000,
			Liabilities: attest.Liabilities{Root: fmt.Sprintf("%x", r.Hash), Total: 0, Height: r.Height, Accounts: 0}})
		f.a.StaleSources = append(f.a.StaleSources, "price:USD") // as koshd marks an asset with no usable price (4.5)
	}},
	{name: "variant: node without a signature, counting nothing", unsignedBob: true, edit: func(t testing.TB, f fixture) {
		f.a.Reserves.Lightning[1].Channels[0].Counted = 0
	}},
	{name: "variant: minimum of 0 confirmations, a channel of 0 confirmations, no channel counting", edit: func(t testing.TB, f fixture) {
		f.a.Counting.MinConfirmations = 0
		for i := range f.a.Reserves.Lightning {
			for j := range f.a.Reserves.Lightning[i].Channels {
				f.a.Reserves.Lightning[i].Channels[j].Counted = 0
			}
		}
		f.a.Reserves.Lightning[0].Channels[1].Confirmations = 0
	}},
	{name: "variant: two nodes of one name, an output whose source names no node", edit: func(t testing.TB, f fixture) {
		f.a.Reserves.Lightning[1].Name = f.a.Reserves.Lightning[0].Name
		f.a.Reserves.Onchain[2].Source = "carol"
	}},
	{name: "variant: a sat asset with 8 decimals", edit: func(t testing.TB, f fixture) { assetOf(f.a, "SAT").Decimals = 8 }},
	{name: "variant: a coverage of 101 digits (one base unit of 18 decimals at a price of 78 digits)", edit: func(t testing.TB, f fixture) {
		f.a.Assets = []attest.Asset{tinyAsset(t)}
	}},
}

// tinyAsset is the only asset of the variant with the largest coverage the
// vectors show: one base unit of an asset of 18 decimals, priced at a
// coefficient of 78 nines with scale 0, worth 10^8 / (10^18 × (10^78 − 1))
// sats, so that the counted reserves cover it C × 10^14 × (10^78 − 1)
// times in basis points (101 digits for the fixture's C; at most 111 for
// any document, docs/proofs.md §1).
func tinyAsset(t testing.TB) attest.Asset {
	seed := sha256.Sum256([]byte("kosh attest vector: seed of the ZWL variant"))
	tree, err := sumtree.Build(context.Background(), "ZWL", seed, []sumtree.Account{{ID: "acct-asha", Balance: 1}}, sumtree.WithHeight(4))
	if err != nil {
		t.Fatal(err)
	}
	r := tree.Root()
	nines, _ := new(big.Int).SetString(strings.Repeat("9", 78), 10)
	return attest.Asset{Code: "ZWL", Decimals: 18, Peg: attest.PegFiat, Currency: "ZWL", MinCoverageBps: 10000,
		Price:       &attest.Price{Currency: "ZWL", Coefficient: attest.NewBigInt(nines), Scale: 0, Time: "2026-11-23T01:00:00Z", Manual: true},
		Liabilities: attest.Liabilities{Root: fmt.Sprintf("%x", r.Hash), Total: attest.Amount(r.Sum), Height: r.Height, Accounts: attest.Amount(r.Count)}}
}

// make returns the variant's signed document.
func (v variant) make(t testing.TB, base fixture) *attest.Attestation {
	t.Helper()
	f := fixture{a: clone(t, base.a), trees: base.trees}
	v.edit(t, f)
	if err := f.a.Fill(); err != nil {
		t.Fatalf("%s: %v", v.name, err)
	}
	if v.unsignedBob {
		signNodes(t, f.a, aliceKey, nil)
	} else {
		signNodes(t, f.a, aliceKey, bobKey)
	}
	if err := f.a.SignWithAux(issuerKey, [32]byte{}); err != nil {
		t.Fatal(err)
	}
	return f.a
}
