package itest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// TestVerifyFreshness checks koshverify's freshness rules against real
// btcd (docs/proofs.md 4.5, 7): an attestation of the tip verifies; one
// whose reserves were spent after its block, 7 blocks ago, fails as not
// recent (saying how far behind) and warns of the sats moved since; with
// --max-behind 0 (checking history) or a limit above 7 it holds, the
// warning still printed. The attestation is composed here, by an issuer
// key of the test's own, over two outputs the test wallet holds.
func TestVerifyFreshness(t *testing.T) {
	h := harness.Shared(t)
	w := newDescWallet(t, h)
	addrA, addrB := w.p2wpkh(0, 0), w.p2wpkh(0, 1)
	txid := h.SendToAddresses(t, map[string]int64{addrA: 300_000, addrB: 200_000})
	h.Mine(t, 1)
	opA := wire.OutPoint{Hash: *txid, Index: h.OutputIndex(t, txid, addrA)}
	opB := wire.OutPoint{Hash: *txid, Index: h.OutputIndex(t, txid, addrB)}
	tip, err := h.Client().GetBlockCount()
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Client().GetBlockHash(tip)
	if err != nil {
		t.Fatal(err)
	}
	conf := h.Confirmations(t, txid)

	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		t.Fatal(err)
	}
	key, _ := btcec.PrivKeyFromBytes(seed[:])
	a := &attest.Attestation{Version: 1, Seq: 1, Time: time.Now().UTC().Format(attest.TimeLayout),
		Block:         attest.Block{Height: tip, Hash: hash.String()},
		JournalCutoff: 1,
		Counting: attest.CountingRules{MinConfirmations: 1, Onchain: attest.ClassRule{Counts: true},
			Lightning: attest.ClassRule{Counts: true}},
		Reserves: attest.Reserves{Onchain: []attest.UTXO{
			{Outpoint: opA.String(), Value: 300_000, Confirmations: conf, Source: "chain"},
			{Outpoint: opB.String(), Value: 200_000, Confirmations: conf, Source: "chain"},
		}},
		Assets: []attest.Asset{{Code: "SAT", Peg: attest.PegSat, MinCoverageBps: 10000,
			Liabilities: attest.Liabilities{Root: strings.Repeat("ab", 32), Total: 450_000, Height: 1, Accounts: 2}}},
	}
	if err := a.Fill(); err != nil {
		t.Fatal(err)
	}
	if err := a.Sign(key); err != nil {
		t.Fatal(err)
	}
	doc, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.Document(doc); err != nil {
		t.Fatalf("the test attestation does not verify: %v", err)
	}
	file := writeFile(t, "fresh.json", string(doc))
	bt := h.Btcd()
	node := []string{"--btcd", bt.RPCAddr, "--rpcuser", bt.RPCUser, "--rpcpass", bt.RPCPass, "--rpccert", bt.CertPath}
	verifyWith := func(extra ...string) (int, string) {
		return runVerify(t, append(append([]string{"attestation", file}, node...), extra...)...)
	}

	code, out := verifyWith()
	if code != 0 || !strings.Contains(out, fmt.Sprintf("ok:   the attested block %d is 0 blocks behind your node's tip %d, at most your limit of 6", tip, tip)) ||
		strings.Contains(out, "WARNING: Moved") || !strings.Contains(out, "WARNING: attestation 1 lists no bitcoin anchor") {
		t.Fatalf("an attestation of the tip: exit %d\n%s", code, out)
	}

	// The issuer spends output A right after the attested block; 7 blocks
	// later the attestation is still the latest it shows.
	w.spendP2WPKH(opA, 300_000, 0, 0, w.p2wpkh(1, 0))
	h.Mine(t, 7)
	moved := fmt.Sprintf("WARNING: Moved since the attested block %d: 300000 sats in 1 output, spent by your node's tip %d; the attestation still counts them as reserves.", tip, tip+7)
	code, out = verifyWith()
	if code != 1 || !strings.Contains(out, fmt.Sprintf("FAIL: The attested block %d is 7 blocks behind your node's tip %d, more than your limit of 6: the attestation is not recent.", tip, tip+7)) ||
		!strings.Contains(out, moved) || !strings.Contains(out, "FAILED: 1 check(s) did not hold.") {
		t.Errorf("7 blocks later, one output spent: exit %d, want 1, not recent, moved since:\n%s", code, out)
	}
	code, out = verifyWith("--max-behind", "0")
	if code != 0 || !strings.Contains(out, "note: not checked (--max-behind 0)") || !strings.Contains(out, moved) {
		t.Errorf("--max-behind 0: exit %d, want 0 with the warning:\n%s", code, out)
	}
	code, out = verifyWith("--max-behind", "8")
	if code != 0 || !strings.Contains(out, "7 blocks behind your node's tip") || !strings.Contains(out, moved) {
		t.Errorf("--max-behind 8: exit %d, want 0 with the warning:\n%s", code, out)
	}
}
