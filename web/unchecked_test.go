package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/chromedp/chromedp"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// labelKey is the test key of testdata/attest: SHA-256 of a fixed label.
func labelKey(label string) *btcec.PrivateKey {
	s := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(s[:])
	return k
}

// uncheckedOutpoint is the output uncheckedDocument adds.
var uncheckedOutpoint = func() string {
	h := sha256.Sum256([]byte("kosh web test: single-key wsh"))
	return wire.OutPoint{Hash: h, Index: 0}.String()
}()

// uncheckedDocument is the latest version 2 vector with one more output:
// a P2WSH whose witness script is <key> OP_CHECKSIG, proven at the attested
// block. proofs/control proves it (btcd's interpreter runs any script); the
// browser evaluates only the usual templates (docs/proofs.md 4.12) and must
// say it left this one to koshverify, not fail the document. The issuer
// and the nodes re-sign with the vectors' keys.
func uncheckedDocument(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoTestdata, "attest", "chain-v2", "000003-"+latestV2FixtureID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := attest.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	key := labelKey("kosh web test: single-key wsh key")
	ws, _ := txscript.NewScriptBuilder().AddData(key.PubKey().SerializeCompressed()).AddOp(txscript.OP_CHECKSIG).Script()
	wh := sha256.Sum256(ws)
	spk, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(wh[:]).Script()
	const value = 5_000_000
	op, err := wire.NewOutPointFromString(uncheckedOutpoint)
	if err != nil {
		t.Fatal(err)
	}
	ch := control.Challenge{IssuerKey: a.IssuerKey, Height: a.Block.Height, Hash: a.Block.Hash}
	commitment := ch.Commitment()
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&commitment, nil, nil))
	tx.AddTxIn(wire.NewTxIn(op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(value, control.UnspendableScript()))
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	fetcher.AddPrevOut(commitment, control.CommitmentPrevOut())
	fetcher.AddPrevOut(*op, wire.NewTxOut(value, spk))
	s, err := txscript.RawTxInWitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 1, value, ws, txscript.SigHashAll, key)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[1].Witness = wire.TxWitness{s, ws}
	txHex, err := control.Encode(tx)
	if err != nil {
		t.Fatal(err)
	}
	a.Reserves.Proofs = append(a.Reserves.Proofs, attest.Proof{Block: a.Block, Tx: txHex,
		Prevouts: []attest.Prevout{{Value: value, Script: hex.EncodeToString(spk)}}})
	idx := len(a.Reserves.Proofs) - 1
	a.Reserves.Onchain = append(a.Reserves.Onchain, attest.UTXO{Outpoint: uncheckedOutpoint, Value: value, Confirmations: 10,
		Source: "chain", Script: hex.EncodeToString(spk), Proof: &idx})
	if err := a.Fill(); err != nil {
		t.Fatal(err)
	}
	a.Signature = ""
	for i := range a.Reserves.Lightning {
		a.Reserves.Lightning[i].Signature = ""
	}
	msg, err := a.NodeMessage()
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range a.Reserves.Lightning {
		s, err := sig.SignNodeMessage(labelKey("kosh attest vector: lightning node "+n.Name), msg)
		if err != nil {
			t.Fatal(err)
		}
		a.Reserves.Lightning[i].Signature = s
	}
	if err := a.Sign(labelKey("kosh attest vector: issuer key")); err != nil {
		t.Fatal(err)
	}
	out, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.Document(out); err != nil {
		t.Fatalf("the Go verifier refuses the document: %v", err)
	}
	return out
}

// TestBrowserPageV2Unchecked: a valid version 2 attestation with a proof
// over a script the browser does not evaluate is green, says so, and
// names the output left to koshverify; it still counts, as Go counts it.
func TestBrowserPageV2Unchecked(t *testing.T) {
	b := newBrowser(t)
	file := filepath.Join(t.TempDir(), "000003-unchecked.json")
	if err := os.WriteFile(file, uncheckedDocument(t), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(testMux(newFixtureFrom(t, []string{file}, "")))
	defer srv.Close()
	b.do(t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
	cls, msg := b.click(t, "verify-btn", "verify-result")
	if !strings.Contains(cls, "ok") || msg != "Signature valid, sums add up, proofs of control hold (some need koshverify)." {
		t.Errorf("class %q, message %q", cls, msg)
	}
	detail := bget(t, b, chromedp.Text(chromedp.ID("verify-detail")))
	for _, want := range []string{
		"On-chain: 4 of 6 listed outputs proven and counted (1.16234567 BTC); 3 of their proofs verified in this browser.",
		uncheckedOutpoint + " (proof 2): script type not checked in the browser; run koshverify.",
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("the verdict's detail lacks %q; it is:\n%s", want, detail)
		}
	}
	b.noErrors(t)
}
