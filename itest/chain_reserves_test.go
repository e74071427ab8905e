package itest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// syncTimeout bounds how long koshd may take to show a block; the target
// is well under a second, this only keeps a broken run from hanging.
const syncTimeout = 15 * time.Second

// TestChainReserves drives koshd's chain watcher against real btcd: exact
// amounts at the right confirmation counts for wpkh, tr, wsh(sortedmulti)
// and addr descriptors, addresses past the first gap window, a spend, a
// reorg that drops a counted funding transaction, minting against what is
// counted, and a restart that resumes from the saved height.
func TestChainReserves(t *testing.T) {
	h := harness.Shared(t)
	w := newDescWallet(t, h)
	cosigner := newDescWallet(t, h)
	plain := freshAddress(t, h, "plain")

	const gap = 20
	cfg := koshConfig(t, h)
	birthday := tipHeight(t, h) + 1
	cfg.Chain.Birthday = birthday
	cfg.Chain.GapLimit = gap
	wshDesc := fmt.Sprintf("wsh(sortedmulti(2,%s/0/*,%s/0/*))", w.xpub, cosigner.xpub)
	cfg.Chain.Descriptors = []string{
		w.descriptor("wpkh", 0),
		w.descriptor("tr", 1),
		addChecksum(wshDesc),
		addChecksum("addr(" + plain + ")"),
	}
	k := startKosh(t, cfg)
	k.waitReserves("empty reserves at the tip", syncTimeout, chainWatchedAt(tipHeight(t, h), 0, 0))

	// Pay index 2 of wpkh, index 0 of tr, index 0 of the multisig and the
	// plain address, in one transaction.
	wshAddr := multisigAddr(t, h, w, cosigner, 0)
	first := map[string]int64{
		w.p2wpkh(0, 2): 100_000,
		w.p2tr(1, 0):   210_000,
		wshAddr:        333_000,
		plain:          40_000,
	}
	var firstTotal int64
	for _, v := range first {
		firstTotal += v
	}
	fundTx := h.SendToAddresses(t, first)
	h.Mine(t, 1)
	k.waitReserves("1 confirmation: reported, not counted", syncTimeout, chainWatchedAt(tipHeight(t, h), 0, firstTotal))
	h.Mine(t, 1)
	k.waitReserves("2 confirmations: still not counted", syncTimeout, chainWatchedAt(tipHeight(t, h), 0, firstTotal))
	h.Mine(t, 1)
	snap := k.waitReserves("3 confirmations: counted", syncTimeout, chainWatchedAt(tipHeight(t, h), firstTotal, 0))
	if len(snap.Utxos) != 4 {
		t.Fatalf("%d UTXOs listed, want 4: %s", len(snap.Utxos), dumpJSON(snap.Utxos))
	}
	for _, u := range snap.Utxos {
		if u.Confirmations != 3 {
			t.Errorf("UTXO %s has %d confirmations, want 3", u.Outpoint, u.Confirmations)
		}
	}

	// Past the first gap window (indexes 0..19): index 21 is found because
	// index 2 was used (window now 0..21), and index 40 once 21 is used.
	h.SendToAddress(t, w.p2wpkh(0, 21), 21_000)
	h.Mine(t, 1)
	h.SendToAddress(t, w.p2wpkh(0, 40), 40_000)
	h.Mine(t, 3)
	counted := firstTotal + 21_000 + 40_000
	k.waitReserves("outputs past the first gap window", syncTimeout, chainWatchedAt(tipHeight(t, h), counted, 0))

	// Spend index 2: gone from the reserves as soon as the spend is mined.
	op := wire.OutPoint{Hash: *fundTx, Index: h.OutputIndex(t, fundTx, w.p2wpkh(0, 2))}
	w.spendP2WPKH(op, 100_000, 0, 2, freshAddress(t, h, "away"))
	h.Mine(t, 1)
	counted -= 100_000
	k.waitReserves("spent output removed", syncTimeout, chainWatchedAt(tipHeight(t, h), counted, 0))

	// A funding transaction, counted at 3 confirmations, then dropped by a
	// reorg of depth 3: the reserves roll back exactly.
	dropped := h.SendToAddress(t, w.p2wpkh(0, 3), 77_000)
	h.Mine(t, 3)
	k.waitReserves("funding to be dropped counted", syncTimeout, chainWatchedAt(tipHeight(t, h), counted+77_000, 0))
	reorgsBefore := k.metric("kosh_chain_reorgs_total")
	h.ReorgDroppingTx(t, dropped, 3)
	k.waitReserves("reorg rolled the funding back", syncTimeout, chainWatchedAt(tipHeight(t, h), counted, 0))
	// btcd may be seen mid-reorganisation (it disconnects, then connects
	// block by block), so one reorg can be rolled back in more than one step.
	if got := k.metric("kosh_chain_reorgs_total"); got < reorgsBefore+1 {
		t.Fatalf("kosh_chain_reorgs_total %v, want at least %v", got, reorgsBefore+1)
	}
	// The spend rolled back by a reorg is re-mined; the spent output stays
	// spent (the spend went back to the mempool and is mined again).
	h.Mine(t, 1)
	k.waitReserves("after the reorg settles", syncTimeout, chainWatchedAt(tipHeight(t, h), counted, 0))

	// Nothing counts without a proof of control; once the issuer proves
	// what it can sign for (not the plain address, whose key nobody holds),
	// minting is bounded by exactly what is counted.
	k.createAsset("KSH")
	alice := k.createAccount("alice")
	if err := k.mint("KSH", alice, 1); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("mint before any proof of control: %v", err)
	}
	plainOut := wire.OutPoint{Hash: *fundTx, Index: h.OutputIndex(t, fundTx, plain)}.String()
	k.proveChainExcept(t, []string{plainOut}, w, cosigner)
	counted -= 40_000
	k.waitReserves("proven outputs counted", syncTimeout, chainAt(tipHeight(t, h), counted, 0))
	if err := k.mint("KSH", alice, counted); err != nil {
		t.Fatalf("mint %d against %d counted: %v", counted, counted, err)
	}
	err := k.mint("KSH", alice, 1)
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition ||
		!containsAll(st.Message(), fmt.Sprintf("needs %d sats", counted+1), fmt.Sprintf("%d are counted", counted)) {
		t.Fatalf("mint 1 past the reserves: %v", err)
	}
	pub := k.publicReserves()
	if got := fmt.Sprint(pub["snapshot"].(map[string]any)["counted"]); got != fmt.Sprint(counted) {
		t.Fatalf("public REST counted %s, want %d", got, counted)
	}

	// Restart mid-chain: koshd resumes from its saved tip, scanning only the
	// blocks mined while it was down, and finds the output paid meanwhile.
	savedHeight := tipHeight(t, h)
	k.stop()
	h.SendToAddress(t, w.p2wpkh(0, 4), 5_000)
	h.Mine(t, 4)
	k = startKosh(t, cfg)
	k.waitReserves("resumed after restart", syncTimeout, chainWatchedAt(savedHeight+4, counted+40_000+5_000, 0))
	// The proofs survive the restart; the new output needs its own.
	k.waitReserves("proofs kept across the restart", syncTimeout, chainAt(savedHeight+4, counted, 0))
	counted += 5_000
	if got := k.metric("kosh_chain_blocks_scanned_total"); got != 4 {
		t.Fatalf("koshd scanned %v blocks after the restart, want 4 (it must resume from height %d, not the birthday %d)",
			got, savedHeight, birthday)
	}
	supply, err := k.issuer.GetSupply(k.ctx(), &koshv1.GetSupplyRequest{Asset: "KSH"})
	if err != nil || supply.Supply != counted-5_000 {
		t.Fatalf("supply after restart: %v %v, want %d", supply, err, counted-5_000)
	}
}

// TestMalformedDescriptor: koshd refuses to start on a descriptor with a
// bad checksum, naming the descriptor and the problem.
func TestMalformedDescriptor(t *testing.T) {
	h := harness.Shared(t)
	w := newDescWallet(t, h)
	good := w.descriptor("wpkh", 0)
	bad := good[:len(good)-1] + flip(good[len(good)-1])

	cfg := koshConfig(t, h)
	cfg.Chain.Descriptors = []string{bad}
	_, err := startKoshErr(cfg)
	if err == nil || !containsAll(err.Error(), bad, "checksum") {
		t.Fatalf("start with a bad checksum: %v", err)
	}
	cfg.Chain.Descriptors = []string{"wpkh(" + w.xpub + "/0/*)"}
	_, err = startKoshErr(cfg)
	if err == nil || !containsAll(err.Error(), "no checksum", addChecksum("wpkh("+w.xpub+"/0/*)")) {
		t.Fatalf("start without a checksum: %v", err)
	}
}

func flip(c byte) string {
	if c == 'q' {
		return "p"
	}
	return "q"
}

// multisigAddr derives the 2-of-2 sortedmulti P2WSH address at index with
// btcd's own script code, independently of koshd's descriptor package.
func multisigAddr(t *testing.T, h *harness.Harness, a, b *descWallet, index uint32) string {
	t.Helper()
	var keys [][]byte
	for _, w := range []*descWallet{a, b} {
		pub, err := w.key(0, index).ECPubKey()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, pub.SerializeCompressed())
	}
	if string(keys[0]) > string(keys[1]) {
		keys[0], keys[1] = keys[1], keys[0]
	}
	var addrs []*btcutil.AddressPubKey
	for _, k := range keys {
		ak, err := btcutil.NewAddressPubKey(k, h.Params())
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ak)
	}
	script, err := txscript.MultiSigScript(addrs, 2)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256Sum(script)
	addr, err := btcutil.NewAddressWitnessScriptHash(sum[:], h.Params())
	if err != nil {
		t.Fatal(err)
	}
	return addr.EncodeAddress()
}

// TestNoSecondAttestationOfMovedReserves: against real btcd, after an
// attestation of block B, a transaction in btcd's mempool spending a
// watched output stops a second attestation of B (FailedPrecondition,
// naming the outputs and sats); once the spend is mined the next block is
// attested without the output.
func TestNoSecondAttestationOfMovedReserves(t *testing.T) {
	h := harness.Shared(t)
	w := newDescWallet(t, h)
	cfg := koshConfig(t, h)
	cfg.Chain.Birthday = tipHeight(t, h) + 1
	cfg.Chain.MinConf = 1
	cfg.Chain.Descriptors = []string{w.descriptor("wpkh", 0)}
	k := startKosh(t, cfg)
	const value = 250_000
	addr := w.p2wpkh(0, 0)
	txid := h.SendToAddress(t, addr, value)
	h.Mine(t, 1)
	k.waitReserves("the output counted", syncTimeout, chainWatchedAt(tipHeight(t, h), value, 0))
	op := wire.OutPoint{Hash: *txid, Index: h.OutputIndex(t, txid, addr)}
	if _, err := k.issuer.Attest(k.ctx(), &koshv1.AttestRequest{}); err != nil {
		t.Fatal(err)
	}
	// Nothing moved: the same block may be attested again.
	if _, err := k.issuer.Attest(k.ctx(), &koshv1.AttestRequest{}); err != nil {
		t.Fatalf("second attestation of an unchanged block: %v", err)
	}
	w.spendP2WPKH(op, value, 0, 0, freshAddress(t, h, "moved"))
	_, err := k.issuer.Attest(k.ctx(), &koshv1.AttestRequest{})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "1 of its outputs (250000 sats) are spent by transactions waiting in the mempool") {
		t.Fatalf("attestation of a block whose reserves are being spent: %v", err)
	}
	h.Mine(t, 1)
	k.waitReserves("the output spent", syncTimeout, chainWatchedAt(tipHeight(t, h), 0, 0))
	res, err := k.issuer.Attest(k.ctx(), &koshv1.AttestRequest{})
	if err != nil {
		t.Fatalf("attestation of the next block: %v", err)
	}
	if res.Attestation.Height != tipHeight(t, h) || res.Attestation.Sequence != 3 {
		t.Fatalf("attestation %d at block %d, want 3 at %d", res.Attestation.Sequence, res.Attestation.Height, tipHeight(t, h))
	}
}
