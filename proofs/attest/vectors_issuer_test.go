package attest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// issuerNames are the issuer-held accounts of the issuer-account chain:
// the payments escrow and a fee account (docs/proofs.md 4.15).
var issuerNames = map[string]string{
	"acct-escrow": "kosh payments escrow (redemptions in progress)",
	"acct-fees":   "fees",
}

// issuerChainAccounts are the liabilities of attestation n of the
// issuer-account chain: the vectors' holders, and the issuer's own
// accounts. 1: a SAT and an INR redemption in flight and fees; 2: more in
// flight in SAT, none in INR; 3: the escrow empty (not listed), fees only.
func issuerChainAccounts(n int64) map[string][]sumtree.Account {
	held := map[int64]map[string][]sumtree.Account{
		1: {"SAT": {{ID: "acct-escrow", Balance: 4_007}, {ID: "acct-fees", Balance: 1_500}}, "INR": {{ID: "acct-escrow", Balance: 250_00}}},
		2: {"SAT": {{ID: "acct-escrow", Balance: 9_000}, {ID: "acct-fees", Balance: 3_000}}},
		3: {"SAT": {{ID: "acct-fees", Balance: 4_500}}},
	}[n]
	out := map[string][]sumtree.Account{}
	for code, accts := range fixtureAccounts {
		out[code] = append(slices.Clone(accts), held[code]...)
	}
	return out
}

// buildIssuerChain is the version 2 chain of three attestations that list
// issuer-held accounts.
func buildIssuerChain(t testing.TB) []fixture {
	var fs []fixture
	prev := ""
	for n := int64(1); n <= 3; n++ {
		f := buildFixtureWith(t, 2, n, prev, issuerChainAccounts(n), issuerNames)
		fs = append(fs, f)
		prev = mustID(t, f.a)
	}
	return fs
}

// issuerIndex finds the issuer account entry of account in asset.
func issuerIndex(a *attest.Attestation, asset, account string) int {
	for i, ia := range a.IssuerAccounts {
		if ia.Asset == asset && ia.Account == account {
			return i
		}
	}
	panic("no issuer account " + account + " in " + asset)
}

// toVersion1 strips a version 2 document of every version 2 member but
// its issuer accounts and refills it.
func toVersion1(a *attest.Attestation) {
	a.Version = 1
	a.Counting.ProofMaxAge, a.Counting.LightningClaimed = nil, nil
	a.Reserves.Proofs, a.Reserves.Totals.LightningClaimed = nil, nil
	for i := range a.Reserves.Onchain {
		a.Reserves.Onchain[i].Script, a.Reserves.Onchain[i].Proof = "", nil
	}
	for i := range a.Reserves.Lightning {
		for j := range a.Reserves.Lightning[i].Channels {
			c := &a.Reserves.Lightning[i].Channels[j]
			c.ShortChannelID, c.Evidence = "", ""
		}
	}
	fillOrPanic(a)
}

// tampersIssuer are the ways of misstating issuer-held accounts, applied
// to attestation 1 of the issuer-account chain fs (which lists the INR
// escrow, the SAT escrow and the SAT fees, in that order); every one
// verified on the code before issuer accounts existed only by refusing the
// unknown member.
func tampersIssuer(fs []fixture) []tamper {
	second := fs[1].a
	return []tamper{
		{name: "issuer: balance raised, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "SAT", "acct-escrow")].Balance++
		}},
		{name: "issuer: balance lowered to another holder's, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "SAT", "acct-escrow")].Balance = 10
		}},
		{name: "issuer: an account not in the tree, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "SAT", "acct-fees")].Account = "acct-fees-2"
		}},
		{name: "issuer: listed under another asset, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "SAT", "acct-fees")].Asset = "INR"
			fillOrPanic(a)
		}},
		{name: "issuer: the entry of the next attestation, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "SAT", "acct-escrow")] = second.IssuerAccounts[issuerIndex(second, "SAT", "acct-escrow")]
		}},
		{name: "issuer: listed twice, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts = append(a.IssuerAccounts, a.IssuerAccounts[len(a.IssuerAccounts)-1])
		}},
		{name: "issuer: out of order, re-signed", resign: true, edit: func(a *attest.Attestation) {
			l := a.IssuerAccounts
			l[1], l[2] = l[2], l[1]
		}},
		{name: "issuer: an asset the attestation does not list, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "INR", "acct-escrow")].Asset = "USD"
			fillOrPanic(a)
		}},
		{name: "issuer: balance 0, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "SAT", "acct-fees")].Balance = 0
		}},
		{name: "issuer: no name, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[issuerIndex(a, "SAT", "acct-fees")].Name = ""
		}},
		{name: "issuer: escrow left out after signing", edit: func(a *attest.Attestation) {
			i := issuerIndex(a, "SAT", "acct-escrow")
			a.IssuerAccounts = slices.Delete(a.IssuerAccounts, i, i+1)
		}},
		{name: "issuer: issuer accounts on a version 1 document, re-signed", resign: true, edit: toVersion1},
	}
}

// TestIssuerAccountsVerify: the documents of the issuer-account chain
// verify, list exactly the issuer's positive balances in order, and each
// listed balance is the one the tree counts; every tampered document fails
// with the sentence of the rule it breaks, and only with sentences of
// issuer accounts (or of the signature, for the one edited after signing,
// or of the version, for the version 1 one).
func TestIssuerAccountsVerify(t *testing.T) {
	fs := buildIssuerChain(t)
	wantListed := [][]string{
		{"INR acct-escrow 25000", "SAT acct-escrow 4007", "SAT acct-fees 1500"},
		{"SAT acct-escrow 9000", "SAT acct-fees 3000"},
		{"SAT acct-fees 4500"},
	}
	for i, f := range fs {
		if errs := errorsOf(mustMarshal(t, f.a)); len(errs) != 0 {
			t.Fatalf("issuer-account attestation %d: %v", i+1, errs)
		}
		var got []string
		for _, ia := range f.a.IssuerAccounts {
			got = append(got, ia.Asset+" "+ia.Account+" "+ia.Balance.String())
			if bal, ok := f.trees[ia.Asset].Balance(ia.Account); !ok || bal != uint64(ia.Balance) || ia.Name != issuerNames[ia.Account] {
				t.Errorf("attestation %d lists %s %s with %d named %q; the tree holds %d (%v)", i+1, ia.Asset, ia.Account, ia.Balance, ia.Name, bal, ok)
			}
		}
		if !slices.Equal(got, wantListed[i]) {
			t.Errorf("attestation %d lists %v, want %v", i+1, got, wantListed[i])
		}
	}
	if errs := chainErrors(t, []string{string(mustMarshal(t, fs[0].a)), string(mustMarshal(t, fs[1].a)), string(mustMarshal(t, fs[2].a))}, ""); len(errs) != 0 {
		t.Fatalf("the issuer-account chain: %v", errs)
	}

	want := map[string]string{
		"issuer: balance raised, re-signed":                          "issuer account acct-escrow with balance 4008 is not in the SAT liability tree of this attestation: root hash does not match the attested root",
		"issuer: balance lowered to another holder's, re-signed":     "issuer account acct-escrow with balance 10 is not in the SAT liability tree of this attestation: root hash does not match the attested root",
		"issuer: an account not in the tree, re-signed":              "issuer account acct-fees-2 with balance 1500 is not in the SAT liability tree of this attestation: root hash does not match the attested root",
		"issuer: listed under another asset, re-signed":              "issuer account acct-fees with balance 1500 is not in the INR liability tree of this attestation",
		"issuer: the entry of the next attestation, re-signed":       "issuer account acct-escrow with balance 9000 is not in the SAT liability tree of this attestation",
		"issuer: listed twice, re-signed":                            "issuer account acct-fees in SAT is out of order or repeated (issuer accounts must be sorted by asset, then account)",
		"issuer: out of order, re-signed":                            "issuer account acct-escrow in SAT is out of order or repeated (issuer accounts must be sorted by asset, then account)",
		"issuer: an asset the attestation does not list, re-signed":  `issuer account acct-escrow names asset "USD", which the attestation does not list`,
		"issuer: balance 0, re-signed":                               "issuer account acct-fees in SAT has a balance of 0; only positive balances are listed",
		"issuer: no name, re-signed":                                 "issuer account acct-fees in SAT has no name",
		"issuer: escrow left out after signing":                      "the issuer signature does not verify under issuer key",
		"issuer: issuer accounts on a version 1 document, re-signed": "the attestation is version 1 but has members of version 2",
	}
	for _, tp := range tampersIssuer(fs) {
		errs := errorsOf(tp.apply(t, fs[0].a))
		w, ok := want[tp.name]
		if !ok {
			t.Errorf("%s: no expected sentence", tp.name)
			continue
		}
		found := false
		for _, e := range errs {
			found = found || strings.HasPrefix(e, w)
			if !strings.HasPrefix(e, "issuer account ") && !strings.HasPrefix(e, "the signature of Lightning node") && !strings.HasPrefix(e, w) {
				t.Errorf("%s: unrelated failure %q", tp.name, e)
			}
		}
		if !found {
			t.Errorf("%s: %q, want %q", tp.name, errs, w)
		}
	}
}

// TestIssuerAccountProofNil: a document built in Go (not parsed) that lists
// an issuer account without a proof is refused, not a crash.
func TestIssuerAccountProofNil(t *testing.T) {
	a := clone(t, buildIssuerChain(t)[0].a)
	a.IssuerAccounts[0].Proof = nil
	resign(t, a)
	err := verify.Attestation(a)
	if err == nil || !strings.Contains(err.Error(), "issuer account acct-escrow in INR has no inclusion proof") {
		t.Fatalf("verify: %v", err)
	}
}
