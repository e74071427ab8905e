package attest_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// reprove replaces proof i of a with one over the same outputs (by label)
// made by edit: it receives the challenge and the outputs and returns the
// signed proof.
func reprove(a *attest.Attestation, i int, labels []string, edit func(ch control.Challenge, outs []*ct.Output) *control.Proof) {
	all := v2Outputs()
	var outs []*ct.Output
	for _, l := range labels {
		outs = append(outs, all[l])
	}
	pr := &a.Reserves.Proofs[i]
	cp := edit(control.Challenge{IssuerKey: a.IssuerKey, Height: pr.Block.Height, Hash: pr.Block.Hash}, outs)
	txHex, err := control.Encode(cp.Tx)
	if err != nil {
		panic(err)
	}
	pr.Tx = txHex
	pr.Prevouts = nil
	for _, po := range cp.PrevOuts {
		pr.Prevouts = append(pr.Prevouts, attest.Prevout{Value: attest.Amount(po.Value), Script: fmt.Sprintf("%x", po.Script)})
	}
}

// signedWith returns a proof over outs for ch, input k signed by sign.
func signedWith(ch control.Challenge, outs []*ct.Output, k int, sign func(tx *ct.Output) (ht txscript.SigHashType, n int)) *control.Proof {
	p, err := ct.Prove(ch, outs...)
	if err != nil {
		panic(err)
	}
	ht, n := sign(outs[k])
	if err := ct.Sign(p.Tx, k+1, outs[k], ct.Fetcher(p.Tx, outs), ht, n); err != nil {
		panic(err)
	}
	return p
}

// The version 2 fixture's proofs: one over cold 1 and cold 2 (ten blocks
// back), one over cold 3 (past the proof age), one over alice's wallet
// output (at the attested block).
var recentLabels = []string{"cold 1", "cold 2"}

// proofOf is the index of the proof the output labelled label names.
func proofOf(a *attest.Attestation, label string) int {
	return *a.Reserves.Onchain[utxoIndex(a, label)].Proof
}

// tampersV2 are the ways of cheating on control the vectors pin: each
// document must fail, with the Go verifier's sentences.
var tampersV2 = []tamper{
	{name: "v2: foreign output names a proof that does not spend it, re-signed", resign: true, edit: func(a *attest.Attestation) {
		p := proofOf(a, "cold 1")
		a.Reserves.Onchain[utxoIndex(a, "foreign")].Proof = &p
		a.Fill()
	}},
	{name: "v2: foreign output counted without a proof, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Reserves.Totals.Onchain.Eligible += a.Reserves.Onchain[utxoIndex(a, "foreign")].Value
	}},
	{name: "v2: proof signed by a key not in the script, re-signed", resign: true, edit: func(a *attest.Attestation) {
		reprove(a, proofOf(a, "cold 1"), recentLabels, func(ch control.Challenge, outs []*ct.Output) *control.Proof {
			outs[0].Keys = append(outs[0].Keys[:0:0], ct.Key("kosh attest vector: somebody else"))
			p, _ := ct.Prove(ch, outs...)
			return p
		})
	}},
	{name: "v2: proof for another issuer replayed, re-signed", resign: true, edit: func(a *attest.Attestation) {
		reprove(a, proofOf(a, "cold 1"), recentLabels, func(ch control.Challenge, outs []*ct.Output) *control.Proof {
			ch.IssuerKey = attest.IssuerKeyOf(otherKey)
			p, _ := ct.Prove(ch, outs...)
			return p
		})
	}},
	{name: "v2: proof for another block, re-signed", resign: true, edit: func(a *attest.Attestation) {
		reprove(a, proofOf(a, "cold 1"), recentLabels, func(ch control.Challenge, outs []*ct.Output) *control.Proof {
			ch.Height--
			p, _ := ct.Prove(ch, outs...)
			return p
		})
	}},
	{name: "v2: expired proof counted, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Reserves.Totals.Onchain.Eligible += a.Reserves.Onchain[utxoIndex(a, "cold 3")].Value
	}},
	{name: "v2: proof age stretched without re-signing", edit: func(a *attest.Attestation) {
		age := int64(5000)
		a.Counting.ProofMaxAge = &age
	}},
	{name: "v2: multisig with one signature of two, re-signed", resign: true, edit: func(a *attest.Attestation) {
		reprove(a, proofOf(a, "cold 1"), recentLabels, func(ch control.Challenge, outs []*ct.Output) *control.Proof {
			return signedWith(ch, outs, 1, func(*ct.Output) (txscript.SigHashType, int) { return txscript.SigHashAll, 1 })
		})
	}},
	{name: "v2: ANYONECANPAY proof, re-signed", resign: true, edit: func(a *attest.Attestation) {
		reprove(a, proofOf(a, "cold 1"), recentLabels, func(ch control.Challenge, outs []*ct.Output) *control.Proof {
			return signedWith(ch, outs, 0, func(*ct.Output) (txscript.SigHashType, int) {
				return txscript.SigHashAll | txscript.SigHashAnyOneCanPay, 0
			})
		})
	}},
	{name: "v2: listed value differs from the value the proof spends, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Reserves.Onchain[utxoIndex(a, "cold 1")].Value += 1_000_000
		a.Fill()
	}},
	{name: "v2: listed script differs from the script the proof spends, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Reserves.Onchain[utxoIndex(a, "cold 1")].Script = a.Reserves.Onchain[utxoIndex(a, "foreign")].Script
	}},
	{name: "v2: proof at the attested height under another hash, re-signed", resign: true, edit: func(a *attest.Attestation) {
		i := proofOf(a, "alice wallet")
		a.Reserves.Proofs[i].Block.Hash = strings.Repeat("ee", 32)
		reprove(a, i, []string{"alice wallet"}, func(ch control.Challenge, outs []*ct.Output) *control.Proof {
			p, _ := ct.Prove(ch, outs...)
			return p
		})
	}},
	{name: "v2: claimed channel counted as announced, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Reserves.Lightning[1].Channels[0].Evidence = attest.EvidenceAnnounced
	}},
	{name: "v2: counted channel under a minimum of 0 confirmations, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Counting.MinConfirmations = 0
		a.Fill()
	}},
	{name: "v2: short channel id that does not match the confirmations, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Reserves.Lightning[0].Channels[0].ShortChannelID = "1x2x0"
	}},
	{name: "v2: output without its script, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Reserves.Onchain[utxoIndex(a, "foreign")].Script = ""
	}},
	{name: "v2: members of version 2 in a version 1 document, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Version = 1
	}},
}

// utxoIndex finds a version 2 fixture output by label.
func utxoIndex(a *attest.Attestation, label string) int {
	op := v2Outputs()[label].OutPoint.String()
	for i, u := range a.Reserves.Onchain {
		if u.Outpoint == op {
			return i
		}
	}
	panic("no output " + label)
}

// TestVersion2Counting pins what the version 2 fixture counts: the two
// cold outputs proven ten blocks back and alice's wallet output, not the
// output whose proof is past the age nor the foreign output; announced
// channels under the Lightning rule, bob's claimed channel under the
// claimed rule (not counting).
func TestVersion2Counting(t *testing.T) {
	f := buildFixtureVersion(t, 2, 1, "")
	a := f.a
	if err := verify.Attestation(a); err != nil {
		t.Fatal(err)
	}
	outs := v2Outputs()
	want := outs["cold 1"].Value + outs["cold 2"].Value + outs["alice wallet"].Value
	if int64(a.Reserves.Totals.Onchain.Eligible) != want {
		t.Errorf("eligible on-chain %d, want %d", a.Reserves.Totals.Onchain.Eligible, want)
	}
	for label, why := range map[string]string{"foreign": "no proof of control", "cold 3": "older than 1000 blocks", "cold 1": ""} {
		u := a.Reserves.Onchain[utxoIndex(a, label)]
		if got := a.UncountedReason(&u); !strings.Contains(got, why) || (why == "") != (got == "") {
			t.Errorf("%s: reason %q, want %q", label, got, why)
		}
	}
	if c := a.Reserves.Totals.LightningClaimed; c == nil || c.Eligible != 7_832_000 || c.Counted != 0 {
		t.Errorf("claimed totals %+v, want 7832000 eligible, 0 counted", c)
	}
	if a.Reserves.Totals.Lightning.Eligible != 2_950_000 {
		t.Errorf("announced eligible %d, want alice's 2950000", a.Reserves.Totals.Lightning.Eligible)
	}
}

// TestNullPrevoutsRefused: a proof's prevouts are a list; null in its place
// does not have the attestation shape, and Parse refuses it with the
// browser's sentence.
func TestNullPrevoutsRefused(t *testing.T) {
	f := buildFixtureVersion(t, 2, 1, "")
	b, err := f.a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Parse(b); err != nil {
		t.Fatalf("the fixture does not parse: %v", err)
	}
	i := bytes.Index(b, []byte(`"prevouts":[`))
	if i < 0 {
		t.Fatal("no prevouts in the fixture")
	}
	j := i + bytes.IndexByte(b[i:], ']')
	bad := append(append(append([]byte{}, b[:i]...), `"prevouts":null`...), b[j+1:]...)
	want := `the document does not have the attestation shape ("reserves.proofs[0].prevouts" is not a list)`
	if _, err := attest.Parse(bad); !errors.Is(err, attest.ErrMalformed) || err.Error() != want {
		t.Fatalf("prevouts null: %v, want %q", err, want)
	}
}

// buildAnchoredChain is the version 2 chain in which attestations 2 and 3
// list bitcoin anchors of attestations 1 and 2.
func buildAnchoredChain(t testing.TB) []fixture {
	var fs []fixture
	prev := ""
	for n := int64(1); n <= 3; n++ {
		f := buildFixtureVersion(t, 2, n, prev)
		if n > 1 {
			f.a.Anchor = &attest.AnchorRef{Seq: n - 1, ID: prev, Txid: txid(fmt.Sprintf("anchor of %d", n-1)),
				Height: f.a.Block.Height - 3, BlockHash: txid(fmt.Sprintf("block of the anchor of %d", n-1))}
			resign(t, f.a)
		}
		fs = append(fs, f)
		prev = mustID(t, f.a)
	}
	return fs
}

// unanchored is f's attestation without its anchor, naming prev, re-signed.
func unanchored(t testing.TB, f fixture, prev string) fixture {
	a := clone(t, f.a)
	a.Anchor, a.Prev = nil, prev
	resign(t, a)
	return fixture{a: a, trees: f.trees}
}

// misanchored is f's attestation with its anchor naming another id for
// the same attestation, re-signed: only the anchor rule of verify.Chain
// fails.
func misanchored(t testing.TB, f fixture) fixture {
	a := clone(t, f.a)
	a.Anchor.ID = txid("not the id of attestation 2")
	resign(t, a)
	return fixture{a: a, trees: f.trees}
}

// rekeyed is f's attestation signed by another issuer key, naming the same
// predecessor: it verifies alone, and breaks a chain.
func rekeyed(t testing.TB, f fixture) fixture {
	a := clone(t, f.a)
	a.IssuerKey = attest.IssuerKeyOf(otherKey)
	signNodes(t, a, aliceKey, bobKey)
	if err := a.SignWithAux(otherKey, [32]byte{}); err != nil {
		t.Fatal(err)
	}
	return fixture{a: a, trees: f.trees}
}

// tampersAnchor edit anchored attestation 3 (an anchor of attestation 2).
var tampersAnchor = []tamper{
	{name: "anchor: of the attestation itself, re-signed", resign: true, edit: func(a *attest.Attestation) { a.Anchor.Seq = a.Seq }},
	{name: "anchor: of attestation 0, re-signed", resign: true, edit: func(a *attest.Attestation) { a.Anchor.Seq = 0 }},
	{name: "anchor: id in upper case, re-signed", resign: true, edit: func(a *attest.Attestation) {
		a.Anchor.ID = strings.ToUpper(a.Anchor.ID)
	}},
	{name: "anchor: txid short, re-signed", resign: true, edit: func(a *attest.Attestation) { a.Anchor.Txid = a.Anchor.Txid[:62] }},
	{name: "anchor: block height 0, re-signed", resign: true, edit: func(a *attest.Attestation) { a.Anchor.Height = 0 }},
	{name: "anchor: listed after signing", edit: func(a *attest.Attestation) { a.Anchor.Seq = 1 }},
}
