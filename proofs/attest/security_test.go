package attest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// TestEveryByteMatters flips every byte of a valid attestation (to each of
// a few other values) and requires that parsing or verification fails.
func TestEveryByteMatters(t *testing.T) {
	f := buildFixture(t, 2, mustID(t, buildFixture(t, 1, "").a))
	b := mustMarshal(t, f.a)
	if _, err := verify.Document(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		for _, x := range []byte{0x01, 0x02, 0x20} {
			c := append([]byte(nil), b...)
			c[i] ^= x
			if _, err := verify.Document(c); err == nil {
				t.Fatalf("changing byte %d (%q) by xor %#x still verifies", i, b[i], x)
			}
		}
	}
}

// TestEveryFieldMatters changes each figure of a valid attestation and
// re-signs it, so that the signature holds and only the arithmetic can catch
// the change.
func TestEveryFieldMatters(t *testing.T) {
	base := buildFixture(t, 1, "").a
	edits := map[string]func(a *attest.Attestation){
		"utxo value":          func(a *attest.Attestation) { a.Reserves.Onchain[2].Value-- },
		"utxo confirmations":  func(a *attest.Attestation) { a.Reserves.Onchain[2].Confirmations = 1 },
		"channel capacity":    func(a *attest.Attestation) { a.Reserves.Lightning[0].Channels[0].Capacity++ },
		"channel local":       func(a *attest.Attestation) { a.Reserves.Lightning[0].Channels[0].LocalBalance++ },
		"channel counted":     func(a *attest.Attestation) { a.Reserves.Lightning[1].Channels[0].Counted-- },
		"listed":              func(a *attest.Attestation) { a.Reserves.Totals.Onchain.Listed-- },
		"eligible":            func(a *attest.Attestation) { a.Reserves.Totals.Onchain.Eligible-- },
		"onchain counted":     func(a *attest.Attestation) { a.Reserves.Totals.Onchain.Counted-- },
		"capacity":            func(a *attest.Attestation) { a.Reserves.Totals.Lightning.Capacity-- },
		"local":               func(a *attest.Attestation) { a.Reserves.Totals.Lightning.LocalBalance-- },
		"ln eligible":         func(a *attest.Attestation) { a.Reserves.Totals.Lightning.Eligible-- },
		"ln counted":          func(a *attest.Attestation) { a.Reserves.Totals.Lightning.Counted-- },
		"counted":             func(a *attest.Attestation) { a.Reserves.Totals.Counted-- },
		"haircut":             func(a *attest.Attestation) { a.Counting.Lightning.HaircutBps = 2400 },
		"class off":           func(a *attest.Attestation) { a.Counting.Lightning.Counts = false },
		"min conf":            func(a *attest.Attestation) { a.Counting.MinConfirmations = 7 },
		"liability total":     func(a *attest.Attestation) { a.Assets[1].Liabilities.Total++ },
		"min coverage":        func(a *attest.Attestation) { a.Assets[1].MinCoverageBps = 9000 },
		"price":               func(a *attest.Attestation) { a.Assets[0].Price.Coefficient.SetInt64(700000000) },
		"price scale":         func(a *attest.Attestation) { a.Assets[0].Price.Scale = 3 },
		"decimals":            func(a *attest.Attestation) { a.Assets[0].Decimals = 3 },
		"coverage reserves":   func(a *attest.Attestation) { a.Coverage.CountedReserves++ },
		"coverage required":   func(a *attest.Attestation) { a.Coverage.Required++ },
		"coverage backing":    func(a *attest.Attestation) { a.Coverage.Backing-- },
		"coverage bps":        func(a *attest.Attestation) { a.Coverage.Bps.SetInt64(11597) },
		"backed":              func(a *attest.Attestation) { a.Coverage.Backed = false },
		"stale":               func(a *attest.Attestation) { a.Stale = true },
		"accounts over tree":  func(a *attest.Attestation) { a.Assets[1].Liabilities.Accounts = 17 },
		"total without accts": func(a *attest.Attestation) { a.Assets[1].Liabilities.Accounts = 0 },
		"assets out of order": func(a *attest.Attestation) { a.Assets[0], a.Assets[1] = a.Assets[1], a.Assets[0] },
		"nodes out of order": func(a *attest.Attestation) {
			a.Reserves.Lightning[0], a.Reserves.Lightning[1] = a.Reserves.Lightning[1], a.Reserves.Lightning[0]
		},
		"channels out of order": func(a *attest.Attestation) {
			c := a.Reserves.Lightning[0].Channels
			c[0], c[1] = c[1], c[0]
		},
		"duplicate utxo": func(a *attest.Attestation) {
			a.Reserves.Onchain = append(a.Reserves.Onchain, a.Reserves.Onchain[2])
			a.Fill()
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			a := clone(t, base)
			edit(a)
			resign(t, a)
			if _, err := verify.Document(mustMarshal(t, a)); err == nil {
				t.Fatal("still verifies")
			}
		})
	}
}

// TestOverflowIsRejected lists outputs that add up past 2^63-1: Fill
// refuses to build it and Verify refuses a hand-made one.
func TestOverflowIsRejected(t *testing.T) {
	a := clone(t, buildFixture(t, 1, "").a)
	a.Reserves.Onchain[0].Value = math.MaxInt64
	if err := a.Fill(); !errors.Is(err, attest.ErrOverflow) {
		t.Fatalf("Fill: %v", err)
	}
	a.Reserves.Totals.Onchain.Listed = a.Reserves.Onchain[1].Value + a.Reserves.Onchain[2].Value - 1 // wrapped
	resign(t, a)
	if err := verify.Attestation(a); !errors.Is(err, attest.ErrOverflow) {
		t.Fatalf("Verify: %v", err)
	}
	var amt attest.Amount
	if err := amt.UnmarshalJSON([]byte(`"9223372036854775808"`)); err == nil {
		t.Fatal("2^63 decoded as an amount")
	}
	if err := amt.UnmarshalJSON([]byte(`"-1"`)); err == nil {
		t.Fatal("a negative amount decoded")
	}
}

// TestProofDoesNotCrossAttestations: a holder's proof from one attestation
// does not verify against another, even with the same accounts and
// balances, and even relabelled.
func TestProofDoesNotCrossAttestations(t *testing.T) {
	fs := buildChain(t)
	for i := range fs {
		for _, acct := range fixtureAccounts["SAT"] {
			b, err := attest.NewBundle(mustID(t, fs[i].a), fs[i].trees["SAT"], acct.ID, int64(acct.Balance))
			if err != nil {
				t.Fatal(err)
			}
			for j := range fs {
				err := verify.Bundle(fs[j].a, b)
				if (i == j) != (err == nil) {
					t.Fatalf("proof of %s from attestation %d against %d: %v", acct.ID, i+1, j+1, err)
				}
				if i != j {
					c := *b
					c.Attestation = mustID(t, fs[j].a)
					if err := verify.Bundle(fs[j].a, &c); !errors.Is(err, attest.ErrInclusion) || !errors.Is(err, sumtree.ErrMismatch) {
						t.Fatalf("relabelled proof of %s from %d against %d: %v", acct.ID, i+1, j+1, err)
					}
				}
			}
		}
	}
}

// TestAccountCountBinds: an issuer that hides a sixth SAT account at a
// "padding" position (the published root and total are those of the six
// accounts, the published count says five) gets a document that verifies,
// but not bundles for every holder: the hidden account's leaf index is not
// below the count, and the holder next to it, at position 4, has a sibling
// past the count whose sum is not 0.
func TestAccountCountBinds(t *testing.T) {
	f := buildFixture(t, 1, "")
	accts := append(append([]sumtree.Account(nil), fixtureAccounts["SAT"]...), sumtree.Account{ID: "acct-hidden", Balance: 5_000_000})
	// A seed that shuffles the hidden account to position 5.
	var tree *sumtree.Tree
	for seed := byte(0); tree == nil; seed++ {
		tr, err := sumtree.Build(context.Background(), "SAT", [32]byte{seed}, accts, sumtree.WithHeight(4))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, i, _ := tr.NewProofWriter().ProofAtPosition(5); i == len(accts)-1 {
			tree = tr
		}
	}
	r := tree.Root()
	as := &f.a.Assets[1]
	if as.Code != "SAT" {
		t.Fatalf("asset 1 is %s", as.Code)
	}
	as.Liabilities = attest.Liabilities{Root: fmt.Sprintf("%x", r.Hash), Total: attest.Amount(r.Sum), Height: r.Height, Accounts: attest.Amount(len(accts) - 1)}
	if err := f.a.Fill(); err != nil {
		t.Fatal(err)
	}
	resign(t, f.a)
	if err := verify.Attestation(f.a); err != nil {
		t.Fatalf("the document itself should verify: %v", err)
	}
	id := mustID(t, f.a)
	w := tree.NewProofWriter()
	for p := range accts {
		proof, salt, i, err := w.ProofAtPosition(p)
		if err != nil {
			t.Fatal(err)
		}
		b := &attest.Bundle{Version: 1, Attestation: id, Asset: "SAT", Account: accts[i].ID, Salt: salt, Balance: attest.Amount(accts[i].Balance), Proof: proof}
		err = verify.Bundle(f.a, b)
		switch p {
		case 4:
			if !errors.Is(err, attest.ErrInclusion) || !errors.Is(err, sumtree.ErrMismatch) || !strings.Contains(err.Error(), "sibling at level 0 lies past the attested account count 5, so it must be padding with sum 0") {
				t.Errorf("holder at position 4 (%s): %v", accts[i].ID, err)
			}
		case 5:
			if !errors.Is(err, attest.ErrInclusion) || !errors.Is(err, sumtree.ErrMalformedProof) {
				t.Errorf("account at position 5 (%s): %v", accts[i].ID, err)
			}
		default:
			if err != nil {
				t.Errorf("holder at position %d (%s): %v", p, accts[i].ID, err)
			}
		}
	}
}

// TestBundleEveryByte flips each sibling hash bit, sum and the salt of an
// inclusion bundle; each must fail.
func TestBundleTampering(t *testing.T) {
	f := buildFixture(t, 1, "")
	id := mustID(t, f.a)
	b, err := attest.NewBundle(id, f.trees["SAT"], "acct-bo", 2_500_000)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Bundle(f.a, b); err != nil {
		t.Fatal(err)
	}
	for l := range b.Proof.Siblings {
		for _, mut := range []func(p *sumtree.Proof){
			func(p *sumtree.Proof) { p.Siblings[l].Hash[l] ^= 1 },
			func(p *sumtree.Proof) { p.Siblings[l].Sum++ },
			func(p *sumtree.Proof) {
				if p.Siblings[l].Sum > 0 {
					p.Siblings[l].Sum--
				} else {
					p.Siblings[l].Sum = sumtree.MaxSum
				}
			},
			func(p *sumtree.Proof) { p.LeafIndex ^= 1 << l },
		} {
			c := *b
			p := *b.Proof
			p.Siblings = append([]sumtree.Sibling(nil), b.Proof.Siblings...)
			mut(&p)
			c.Proof = &p
			if err := verify.Bundle(f.a, &c); err == nil {
				t.Fatalf("level %d: tampered proof verifies", l)
			}
		}
	}
	c := *b
	c.Salt[0] ^= 1
	if verify.Bundle(f.a, &c) == nil {
		t.Fatal("other salt verifies")
	}
	c = *b
	c.Account = "acct-asha"
	if verify.Bundle(f.a, &c) == nil {
		t.Fatal("other account verifies")
	}
}

// TestReceiptCannotPassAsAttestation: the two digests are domain-separated.
func TestReceiptTagSeparation(t *testing.T) {
	r := &receipt.Receipt{Version: 1, Asset: "SAT", Account: "a", Balance: 1, Seq: 1, Time: "2026-11-23T00:00:00Z"}
	if err := r.SignWithAux(issuerKey, [32]byte{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(attest.IssuerKeyOf(issuerKey)); err != nil {
		t.Fatal(err)
	}
	r.Balance = 2
	if err := r.Verify(""); !errors.Is(err, attest.ErrSignature) {
		t.Fatalf("changed balance: %v", err)
	}
}

// TestSignRefusesAnotherKey: Sign must not silently replace the issuer key
// the nodes already signed over.
func TestSignRefusesAnotherKey(t *testing.T) {
	a := clone(t, buildFixture(t, 1, "").a)
	if err := a.Sign(otherKey); err == nil {
		t.Fatal("signed with a key other than the one named")
	}
	if err := a.Sign(issuerKey); err != nil {
		t.Fatal(err)
	}
	if err := verify.Attestation(a); err != nil {
		t.Fatal(err)
	}
}
