package attest_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// buildChainV3 is the version 3 chain of three attestations: version 2
// trees (docs/proofs.md 3.15) and the issuer-held accounts of the
// issuer-account chain, with their journal sequences and share-set proofs.
func buildChainV3(t testing.TB) []fixture {
	var fs []fixture
	prev := ""
	for n := int64(1); n <= 3; n++ {
		f := buildFixtureWith(t, 3, n, prev, issuerChainAccounts(n), issuerNames)
		fs = append(fs, f)
		prev = mustID(t, f.a)
	}
	return fs
}

// replayedTree is attestation 2 of the version 3 chain publishing
// attestation 1's trees: built with attestation 1's seed.
func replayedTree(t testing.TB, fs []fixture) fixture {
	t.Helper()
	f := buildFixtureWith(t, 3, 2, mustID(t, fs[0].a), issuerChainAccounts(1), issuerNames)
	a := f.a
	for i := range a.Assets {
		a.Assets[i].Liabilities = fs[0].a.Assets[i].Liabilities
	}
	a.IssuerAccounts = fs[0].a.IssuerAccounts
	fillOrPanic(a)
	resign(t, a)
	return f
}

// tampersV3 break version 3 attestation 1.
func tampersV3() []tamper {
	return []tamper{
		{name: "v3: three shares, re-signed", resign: true, edit: func(a *attest.Attestation) { a.Assets[0].Liabilities.Shares = 3 }},
		{name: "v3: four shares, re-signed (issuer proofs fail)", resign: true, edit: func(a *attest.Attestation) { a.Assets[1].Liabilities.Shares = 4 }},
		{name: "v3: no window, re-signed", resign: true, edit: func(a *attest.Attestation) { a.Assets[0].Liabilities.Window = nil }},
		{name: "v3: window above the height, re-signed", resign: true, edit: func(a *attest.Attestation) {
			w := 5
			a.Assets[0].Liabilities.Window = &w
		}},
		{name: "v3: tree id not hex, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.Assets[0].Liabilities.TreeID = strings.ToUpper(a.Assets[0].Liabilities.TreeID)
		}},
		{name: "v3: both assets under one tree id, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.Assets[0].Liabilities.TreeID = a.Assets[1].Liabilities.TreeID
		}},
		{name: "v3: tree id of another seed, re-signed (issuer proofs fail)", resign: true, edit: func(a *attest.Attestation) {
			id := sumtree.TreeID(sha256.Sum256([]byte("another seed")), "SAT")
			a.Assets[1].Liabilities.TreeID = fmt.Sprintf("%x", id)
		}},
		{name: "v3: more accounts than the leaves hold, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.Assets[1].Liabilities.Accounts = 9
		}},
		{name: "v3: issuer account without seq, re-signed", resign: true, edit: func(a *attest.Attestation) { a.IssuerAccounts[0].Seq = nil }},
		{name: "v3: issuer account seq after the cut-off, re-signed", resign: true, edit: func(a *attest.Attestation) {
			s := int64(a.JournalCutoff) + 1
			a.IssuerAccounts[0].Seq = &s
		}},
		{name: "v3: issuer account seq changed, re-signed", resign: true, edit: func(a *attest.Attestation) {
			s := *a.IssuerAccounts[0].Seq - 1
			a.IssuerAccounts[0].Seq = &s
		}},
		{name: "v3: issuer account with a version 1 proof, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[0].Proof = &sumtree.Proof{Siblings: make([]sumtree.Sibling, 4)}
		}},
		{name: "v3: issuer account without a share-set proof, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[0].ShareProof = nil
		}},
		{name: "v3: issuer account balance raised, re-signed", resign: true, edit: func(a *attest.Attestation) {
			a.IssuerAccounts[0].Balance++
		}},
		{name: "v3: version 2 with version 3 members, re-signed", resign: true, edit: func(a *attest.Attestation) { a.Version = 2 }},
		{name: "v3: a window too small for the shares, re-signed", resign: true, edit: func(a *attest.Attestation) {
			w := 0
			a.Assets[1].Liabilities.Window = &w
		}},
	}
}

// absenceVector is an issuer's absence statement, checked against
// chain_v3[attestation] (verify.Absence) and, with a receipt, compared
// with it (verify.AbsenceReceipt); Error and Note as in bundleVector.
type absenceVector struct {
	Name string `json:"name"`
	// Chain names the chain Attestation indexes when it is not chain_v3.
	Chain       string `json:"chain,omitempty"`
	Attestation int    `json:"attestation"`
	Statement   string `json:"statement"`
	Receipt     string `json:"receipt,omitempty"`
	Error       string `json:"error"`
	Note        string `json:"note,omitempty"`
}

// v3Vectors adds the version 3 chain, its invalid documents and chains,
// its bundles and the absence statements.
func v3Vectors(t *testing.T, v *vectorFile, files map[string][]byte, addChain func([]fixture, string, string, *[]string)) {
	fs := buildChainV3(t)
	addChain(fs, "version 3 attestation %d", "chain-v3", &v.ChainV3)
	for _, tp := range tampersV3() {
		b := tp.apply(t, fs[0].a)
		errs := errorsOf(b)
		v.Invalid = append(v.Invalid, invalidVector{Name: tp.name, Document: string(b), Errors: errs})
		files["invalid/"+strings.NewReplacer(" ", "-", ",", "", ":", "", "(", "", ")", "").Replace(tp.name)+".json"] = b
	}
	doc := func(f fixture) string { return string(mustMarshal(t, f.a)) }
	for _, c := range []chainVector{
		{Name: "version 3 chain of three", Chain: []string{doc(fs[0]), doc(fs[1]), doc(fs[2])}},
		{Name: "version 3 chain, attestation 2 replays attestation 1's trees", Chain: []string{doc(fs[0]), doc(replayedTree(t, fs))}},
	} {
		c.Errors = chainErrors(t, c.Chain, c.Anchor)
		v.ChainInvalid = append(v.ChainInvalid, c)
	}

	// Bundles of acct-dana in SAT, version 3 attestation 3 (cut-off 3000);
	// dana is the 4th SAT account, so its last entry is v3Seq(3, 3) = 2969.
	last := fs[2]
	id := mustID(t, last.a)
	bundle, err := attest.NewBundle2(id, last.trees2["SAT"], "acct-dana")
	if err != nil {
		t.Fatal(err)
	}
	files["bundle-v2.json"] = mustJSON(t, bundle)
	seq := bundle.Seq
	rc := func(bal int64, at int64, account string) []byte {
		r := &receipt.Receipt{Version: receipt.ReceiptVersionSingle, Asset: "SAT", Account: account, Balance: attest.Amount(bal), Seq: attest.Amount(at), Time: "2026-11-23T02:30:00Z"}
		if err := r.SignWithAux(issuerKey, [32]byte{}); err != nil {
			t.Fatal(err)
		}
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	relabelled := *bundle
	relabelled.Asset = "INR"
	otherSeq := *bundle
	otherSeq.Seq--
	raised := *bundle
	raised.Balance++
	late := *bundle
	late.Seq = 3001
	oldBundle, err := attest.NewBundle(id, buildChainVersion(t, 2)[2].trees["SAT"], "acct-dana", 97_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, bv := range []struct {
		name    string
		att     int
		b       *attest.Bundle
		receipt []byte
	}{
		{"v3: holder's proof", 2, bundle, nil},
		{"v3: receipt at the leaf's entry, same balance", 2, bundle, rc(97_000_000, int64(seq), "acct-dana")},
		{"v3: receipt at the leaf's entry, another balance", 2, bundle, rc(96_000_000, int64(seq), "acct-dana")},
		{"v3: receipt of a later entry before the cut-off, same balance", 2, bundle, rc(97_000_000, int64(seq)+5, "acct-dana")},
		{"v3: older receipt showing more (superseded)", 2, bundle, rc(98_000_000, int64(seq)-5, "acct-dana")},
		{"v3: receipt after the cut-off", 2, bundle, rc(98_000_000, 3001, "acct-dana")},
		{"v3: the same root read as another asset", 2, &relabelled, nil},
		{"v3: seq lowered by one", 2, &otherSeq, nil},
		{"v3: seq after the cut-off", 2, &late, nil},
		{"v3: balance raised", 2, &raised, nil},
		{"v3: proof against another attestation", 1, bundle, nil},
		{"v3: a version 1 bundle", 2, oldBundle, nil},
	} {
		bj := mustJSON(t, bv.b)
		e := bundleErr(t, fs[bv.att].a, bj, bv.receipt)
		vec := bundleVector{Name: bv.name, Attestation: bv.att, Bundle: bj, Receipt: string(bv.receipt)}
		if errors.Is(e, attest.ErrReceiptNotApplicable) {
			vec.Note = e.Error()
		} else {
			vec.Error = errString(e)
		}
		v.BundlesV3 = append(v.BundlesV3, vec)
	}

	// Absence statements: acct-nobody holds no INR in attestation 3, its
	// last INR entry being 2500.
	st := func(att int, account string, last int64, key string) []byte {
		s := &attest.Absence{Version: attest.AbsenceVersion, Attestation: mustID(t, fs[att].a), Seq: fs[att].a.Seq,
			Asset: "INR", Account: account, LastSeq: last}
		k := issuerKey
		if key == "other" {
			k = otherKey
		}
		if err := s.SignWithAux(k, [32]byte{}); err != nil {
			t.Fatal(err)
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rINR := func(bal, at int64) []byte {
		r := &receipt.Receipt{Version: receipt.ReceiptVersionSingle, Asset: "INR", Account: "acct-nobody", Balance: attest.Amount(bal), Seq: attest.Amount(at), Time: "2026-11-23T02:30:00Z"}
		if err := r.SignWithAux(issuerKey, [32]byte{}); err != nil {
			t.Fatal(err)
		}
		b, _ := r.Marshal()
		return b
	}
	good := st(2, "acct-nobody", 2500, "")
	files["absence.json"] = good
	flipped := flipHexDigit(good, lastIndex(good, `"signature":"`)+len(`"signature":"`)+9)
	// The same statement made for version 2 attestation 3, whose tree
	// does not commit to last entries.
	v2 := buildChainVersion(t, 2)
	onV2 := func() []byte {
		s := &attest.Absence{Version: attest.AbsenceVersion, Attestation: mustID(t, v2[2].a), Seq: 3, Asset: "INR", Account: "acct-nobody", LastSeq: 2500}
		if err := s.SignWithAux(issuerKey, [32]byte{}); err != nil {
			t.Fatal(err)
		}
		b, _ := s.Marshal()
		return b
	}()
	e := absenceErr(v2[2].a, onV2, nil)
	v.Absences = append(v.Absences, absenceVector{Name: "statement for a version 2 attestation", Chain: "chain_v2", Attestation: 2,
		Statement: string(onV2), Error: errString(e)})
	for _, av := range []struct {
		name    string
		att     int
		s       []byte
		receipt []byte
	}{
		{"absent, no receipt", 2, good, nil},
		{"absent, receipt at the named entry showing 0", 2, good, rINR(0, 2500)},
		{"absent, receipt at the named entry showing a balance", 2, good, rINR(500, 2500)},
		{"absent, receipt of a later entry before the cut-off", 2, good, rINR(500, 2600)},
		{"absent, older receipt (superseded)", 2, good, rINR(500, 2400)},
		{"absent, receipt after the cut-off", 2, good, rINR(500, 3100)},
		{"statement against another attestation", 1, good, nil},
		{"statement signed by another key", 2, st(2, "acct-nobody", 2500, "other"), nil},
		{"statement with a flipped signature digit", 2, flipped, nil},
		{"statement naming an entry after the cut-off", 2, st(2, "acct-nobody", 3001, ""), nil},
	} {
		e := absenceErr(fs[av.att].a, av.s, av.receipt)
		vec := absenceVector{Name: av.name, Attestation: av.att, Statement: string(av.s), Receipt: string(av.receipt)}
		if errors.Is(e, attest.ErrReceiptNotApplicable) {
			vec.Note = e.Error()
		} else {
			vec.Error = errString(e)
		}
		v.Absences = append(v.Absences, vec)
	}
}

func absenceErr(a *attest.Attestation, statement, receiptJSON []byte) error {
	s, err := attest.ParseAbsence(statement)
	if err != nil {
		return err
	}
	if err := verify.Absence(a, s); err != nil {
		return err
	}
	if receiptJSON == nil {
		return nil
	}
	r, err := receipt.ParseReceipt(receiptJSON)
	if err != nil {
		return err
	}
	return verify.AbsenceReceipt(a, s, r)
}

// TestVectorsV3Verdicts pins which version 3 vectors hold.
func TestVectorsV3Verdicts(t *testing.T) {
	v, _ := buildVectors(t)
	for _, b := range v.BundlesV3 {
		wantOK := map[string]bool{"v3: holder's proof": true, "v3: receipt at the leaf's entry, same balance": true,
			"v3: older receipt showing more (superseded)": true, "v3: receipt after the cut-off": true}[b.Name]
		wantNote := b.Name == "v3: older receipt showing more (superseded)" || b.Name == "v3: receipt after the cut-off"
		if wantOK != (b.Error == "") || wantNote != (b.Note != "") {
			t.Errorf("bundle %q: error %q, note %q", b.Name, b.Error, b.Note)
		}
	}
	for _, b := range v.Absences {
		wantOK := map[string]bool{"absent, no receipt": true, "absent, receipt at the named entry showing 0": true,
			"absent, older receipt (superseded)": true, "absent, receipt after the cut-off": true}[b.Name]
		wantNote := b.Name == "absent, older receipt (superseded)" || b.Name == "absent, receipt after the cut-off"
		if wantOK != (b.Error == "") || wantNote != (b.Note != "") {
			t.Errorf("absence %q: error %q, note %q", b.Name, b.Error, b.Note)
		}
	}
	for _, c := range v.ChainInvalid {
		if c.Name == "version 3 chain of three" && len(c.Errors) != 0 || c.Name == "version 3 chain, attestation 2 replays attestation 1's trees" && len(c.Errors) == 0 {
			t.Errorf("chain %q: %v", c.Name, c.Errors)
		}
	}
}
