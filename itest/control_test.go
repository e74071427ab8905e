package itest

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/kosh-reserve/kosh/proofs/attest"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// utxoOf finds a listed output of the snapshot by outpoint.
func utxoOf(s *koshv1.ReserveSnapshot, outpoint string) *koshv1.ReserveUtxo {
	for _, u := range s.Utxos {
		if u.Outpoint == outpoint {
			return u
		}
	}
	return nil
}

// wsh2of3 is the wsh(sortedmulti(2, a, b, c)) descriptor of three wallets'
// branch 0.
func wsh2of3(a, b, c *descWallet) string {
	return addChecksum(fmt.Sprintf("wsh(sortedmulti(2,%s/0/*,%s/0/*,%s/0/*))", a.xpub, b.xpub, c.xpub))
}

// wshAddress derives the address of a descriptor at index with koshd's own
// descriptor package (the other itests check that package against btcd).
func wshAddress(t *testing.T, h *harness.Harness, desc string, index uint32) string {
	t.Helper()
	d, err := descriptor.Parse(desc, h.Params())
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.Address(index)
	if err != nil {
		t.Fatal(err)
	}
	return a.EncodeAddress()
}

// TestProofOfControl is the scenario of the proof-of-control issue against
// real btcd, with Electrum as the signer: koshd pointed at somebody else's
// address (the miner's, holding every coinbase) counts none of it and
// refuses to mint against it, naming why; the issuer's own outputs count
// once proven with a PSBT koshd exports and Electrum signs offline; a 2-of-3
// multisig counts only with two signatures; an attestation lists the
// foreign outputs as not counted, koshverify with btcd accepts it and fails
// it once tampered to count one; a proof stops counting past the proof age
// and a stale challenge is refused; a proof made for another issuer is
// refused; a proven output that is spent stops counting at that block.
func TestProofOfControl(t *testing.T) {
	h := harness.Shared(t)
	own := newDescWallet(t, h)
	a, b, c := newDescWallet(t, h), newDescWallet(t, h), newDescWallet(t, h)
	foreign := addChecksum("addr(" + h.MinerAddress().EncodeAddress() + ")")
	multi := wsh2of3(a, b, c)

	cfg := koshConfig(t, h)
	cfg.Chain.Birthday = tipHeight(t, h) + 1
	cfg.Chain.Descriptors = []string{foreign, own.descriptor("wpkh", 0), multi}
	cfg.Chain.ProofMaxAge = 30
	cfg.Attest.Schedules = []string{"off"}
	k := startKosh(t, cfg)

	// The miner's coinbases (50 BTC a block) and the issuer's own outputs.
	ownAddr0, ownAddr1 := own.p2wpkh(0, 0), own.p2wpkh(0, 1)
	fund := h.SendToAddresses(t, map[string]int64{ownAddr0: 2_000_000, ownAddr1: 3_000_000,
		wshAddress(t, h, multi, 0): 4_000_000})
	h.Mine(t, 3)
	ownOut0 := wire.OutPoint{Hash: *fund, Index: h.OutputIndex(t, fund, ownAddr0)}.String()
	ownOut1 := wire.OutPoint{Hash: *fund, Index: h.OutputIndex(t, fund, ownAddr1)}.String()
	multiOut := wire.OutPoint{Hash: *fund, Index: h.OutputIndex(t, fund, wshAddress(t, h, multi, 0))}.String()
	snap := k.waitReserves("the foreign and own outputs watched, none counted", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		src := source(s, "chain")
		unproven, _ := class(src, "onchain_unproven")
		if src == nil || src.Counted != 0 || unproven < 50*btcutil.SatoshiPerBitcoin {
			return fmt.Errorf("chain source %v", src)
		}
		return nil
	})
	for _, u := range snap.Utxos {
		if u.Counted || u.Confirmations >= cfg.Chain.MinConf && !strings.Contains(u.Why, "no proof of control") {
			t.Errorf("output %s (%d sats): counted %v, why %q", u.Outpoint, u.Value, u.Counted, u.Why)
		}
	}

	// A mint against the foreign coins is refused, naming why.
	k.createAsset("KSH")
	acct := k.createAccount("holder")
	err := k.mint("KSH", acct, 1_000*btcutil.SatoshiPerBitcoin)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "without a proof that the issuer controls them") {
		t.Fatalf("mint against unproven reserves: %v", err)
	}

	// Electrum restored from the issuer's cold key signs the PSBT koshd
	// exports over its own outputs, offline; an Electrum wallet of another
	// key signs nothing of it.
	exp, err := k.issuer.ExportControlProof(k.ctx(), &koshv1.ExportControlProofRequest{Outpoints: []string{ownOut0, ownOut1}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(exp.Message, "kosh:") || exp.Value != 5_000_000 || len(exp.Outpoints) != 2 {
		t.Fatalf("export: %+v", exp)
	}
	stranger := newDescWallet(t, h)
	notSigned := electrumSign(t, stranger.master, exp.Psbt)
	_, err = k.issuer.ImportControlProof(k.ctx(), &koshv1.ImportControlProofRequest{Psbts: []string{notSigned}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "is not signed") {
		t.Fatalf("import of a PSBT another wallet signed: %v", err)
	}
	signed := electrumSign(t, own.master, exp.Psbt)
	imp, err := k.issuer.ImportControlProof(k.ctx(), &koshv1.ImportControlProofRequest{Psbts: []string{signed}})
	if err != nil {
		t.Fatalf("import of Electrum's proof: %v", err)
	}
	if len(imp.Outpoints) != 2 || imp.Height != exp.Height {
		t.Fatalf("import: %+v", imp)
	}

	// The 2-of-3 multisig: one cosigner's signature is refused, two count.
	mexp, err := k.issuer.ExportControlProof(k.ctx(), &koshv1.ExportControlProofRequest{Outpoints: []string{multiOut}})
	if err != nil {
		t.Fatal(err)
	}
	cosign := func(w *descWallet) string {
		p, err := proving.DecodePSBT([]byte(mexp.Psbt))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := ct.SignPSBT(p, txscript.SigHashAll, w.master); err != nil || n != 1 {
			t.Fatalf("cosigner signed %d inputs: %v", n, err)
		}
		s, _ := proving.Encode(p)
		return s
	}
	sigA, sigC := cosign(a), cosign(c)
	_, err = k.issuer.ImportControlProof(k.ctx(), &koshv1.ImportControlProofRequest{Psbts: []string{sigA}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "has 1 of the 2 signatures its 2-of-3 multisig needs") {
		t.Fatalf("import with one signature of two: %v", err)
	}
	if _, err := k.issuer.ImportControlProof(k.ctx(), &koshv1.ImportControlProofRequest{Psbts: []string{sigA, sigC}}); err != nil {
		t.Fatalf("import with two cosigners' copies: %v", err)
	}
	k.waitReserves("the proven outputs counted", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		for _, op := range []string{ownOut0, ownOut1, multiOut} {
			if u := utxoOf(s, op); u == nil || !u.Counted || u.ProofHeight != exp.Height {
				return fmt.Errorf("output %s: %v", op, u)
			}
		}
		if src := source(s, "chain"); src.Counted != 9_000_000 {
			return fmt.Errorf("chain counts %d, want 9000000", src.Counted)
		}
		return nil
	})
	if err := k.mint("KSH", acct, 9_000_000); err != nil {
		t.Fatalf("mint against proven reserves: %v", err)
	}

	// A proof made for another issuer (another koshd watching the same
	// outputs) is refused.
	cfg2 := koshConfig(t, h)
	cfg2.Chain.Birthday = cfg.Chain.Birthday
	cfg2.Chain.Descriptors = []string{own.descriptor("wpkh", 0)}
	cfg2.Attest.Schedules = []string{"off"}
	other := startKosh(t, cfg2)
	other.waitReserves("the other issuer sees the outputs", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		if utxoOf(s, ownOut0) == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	oexp, err := other.issuer.ExportControlProof(other.ctx(), &koshv1.ExportControlProofRequest{Outpoints: []string{ownOut0}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.issuer.ImportControlProof(k.ctx(), &koshv1.ImportControlProofRequest{Psbts: []string{electrumSign(t, own.master, oexp.Psbt)}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "commits to no challenge for this issuer") {
		t.Fatalf("import of another issuer's proof: %v", err)
	}

	// The attestation lists the foreign outputs, counts only the proven
	// ones, and verifies against btcd.
	att, err := k.issuer.Attest(k.ctx(), &koshv1.AttestRequest{})
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(att.Attestation.Document)
	d, err := verify.Document(doc)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != attest.Version || d.Reserves.Totals.Onchain.Eligible != 9_000_000 || len(d.Reserves.Proofs) != 2 {
		t.Fatalf("attestation: version %d, eligible %d, %d proofs", d.Version, d.Reserves.Totals.Onchain.Eligible, len(d.Reserves.Proofs))
	}
	bt := h.Btcd()
	node := []string{"--btcd", bt.RPCAddr, "--rpcuser", bt.RPCUser, "--rpcpass", bt.RPCPass, "--rpccert", bt.CertPath}
	file := writeFile(t, "attestation.json", string(doc))
	code, out := runVerify(t, append([]string{"attestation", file}, node...)...)
	if code != 0 || !strings.Contains(out, "no proof of control") || !strings.Contains(out, "proofs' challenge blocks are in your node's best chain") {
		t.Fatalf("koshverify: exit %d\n%s", code, out)
	}

	// The same attestation re-signed by the issuer to count a foreign
	// output, by naming a proof that does not spend it or by raising the
	// eligible total, fails.
	key, err := sig.LoadOrCreateKey(k.cfg.AttestKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(a *attest.Attestation)
		want string
	}{
		{"foreign output names a proof", func(a *attest.Attestation) {
			for i := range a.Reserves.Onchain {
				if a.Reserves.Onchain[i].Proof == nil {
					zero := 0
					a.Reserves.Onchain[i].Proof = &zero
					break
				}
			}
			a.Fill()
		}, "which does not spend it"},
		{"foreign output counted", func(a *attest.Attestation) {
			a.Reserves.Totals.Onchain.Eligible += 5_000_000_000
		}, "a proof of control within 30 blocks add up to"},
	} {
		forged, err := attest.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(forged)
		if err := forged.Sign(key); err != nil {
			t.Fatal(err)
		}
		b, _ := forged.Marshal()
		code, out := runVerify(t, append([]string{"attestation", writeFile(t, "forged.json", string(b))}, node...)...)
		if code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: koshverify exit %d, want 1 and %q\n%s", tc.name, code, tc.want, out)
		}
	}

	// Spending a proven output: it stops counting at the block that
	// spends it.
	spend := own.spendP2WPKH(mustOutPoint(t, ownOut1), 3_000_000, 0, 1, freshAddress(t, h, "spent reserve"))
	h.Mine(t, 1)
	k.waitReserves("the spent output gone", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		if utxoOf(s, ownOut1) != nil || source(s, "chain").Counted != 6_000_000 {
			return fmt.Errorf("output %s still listed, chain counts %d", ownOut1, source(s, "chain").Counted)
		}
		return nil
	})
	_ = spend

	// Past the proof age the outputs stop counting, saying why; a PSBT
	// exported before and signed after the age is refused.
	stale, err := k.issuer.ExportControlProof(k.ctx(), &koshv1.ExportControlProofRequest{Outpoints: []string{ownOut0}})
	if err != nil {
		t.Fatal(err)
	}
	h.Mine(t, int(cfg.Chain.ProofMaxAge)+1)
	k.waitReserves("the proofs expired", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		u := utxoOf(s, ownOut0)
		if u == nil || u.Counted || !strings.Contains(u.Why, "older than 30 blocks") {
			return fmt.Errorf("output %s: %v", ownOut0, u)
		}
		return nil
	})
	_, err = k.issuer.ImportControlProof(k.ctx(), &koshv1.ImportControlProofRequest{Psbts: []string{electrumSign(t, own.master, stale.Psbt)}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "last 30 blocks") {
		t.Fatalf("import of a proof past the age: %v", err)
	}
	// A fresh proof of everything the issuer holds brings them back.
	var miners []string
	for _, u := range k.reserves().Utxos {
		if u.OutputDescriptor == foreign {
			miners = append(miners, u.Outpoint)
		}
	}
	k.proveChainExcept(t, miners, own, a, c)
	k.waitReserves("proven again", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		if src := source(s, "chain"); src.Counted != 6_000_000 {
			return fmt.Errorf("chain counts %d, want 6000000", src.Counted)
		}
		return nil
	})
}

// TestLndProvesWallet: an lnd node proves control of its own wallet
// outputs of every address type it holds (P2WPKH, NP2WKH, P2TR) through
// walletrpc FinalizePsbt, and they count; a node without a proof macaroon
// lists them and counts none.
func TestLndProvesWallet(t *testing.T) {
	h := harness.Shared(t)
	nodes := h.NewNodes(t, "gina", "hank")
	gina, hank := nodes[0], nodes[1]
	types := []lnrpc.AddressType{lnrpc.AddressType_WITNESS_PUBKEY_HASH, lnrpc.AddressType_NESTED_PUBKEY_HASH,
		lnrpc.AddressType_TAPROOT_PUBKEY}
	amounts := map[string]int64{}
	for i, typ := range types {
		for _, n := range []*lndnode.Node{gina, hank} {
			res, err := n.LN.NewAddress(t.Context(), &lnrpc.NewAddressRequest{Type: typ})
			if err != nil {
				t.Fatalf("%s: new %s address: %v", n.Name, typ, err)
			}
			amounts[res.Address] = int64(1_000_000 * (i + 1))
		}
	}
	h.SendToAddresses(t, amounts)
	h.Mine(t, 4)
	h.WaitSynced(t, gina, hank)

	cfg := koshConfig(t, h)
	cfg.Chain.Birthday = tipHeight(t, h) - 4
	noProof := fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s", hank.Name, hank.RPCAddr, hank.TLSCertPath, hank.ReadonlyMacaroonPath)
	cfg.Lnd.Nodes = []string{lndSpec(gina), noProof}
	k := startKosh(t, cfg)
	k.waitReserves("gina's wallet proven, hank's not", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		g, hk := source(s, gina.Name), source(s, hank.Name)
		gc, _ := class(g, "wallet_confirmed")
		gu, _ := class(g, "wallet_unproven")
		hc, _ := class(hk, "wallet_confirmed")
		hu, _ := class(hk, "wallet_unproven")
		if gc != 6_000_000 || gu != 0 || hc != 0 || hu != 6_000_000 {
			return fmt.Errorf("gina confirmed %d unproven %d; hank confirmed %d unproven %d", gc, gu, hc, hu)
		}
		return nil
	})
	att, err := k.issuer.Attest(k.ctx(), &koshv1.AttestRequest{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := verify.Document([]byte(att.Attestation.Document))
	if err != nil {
		t.Fatal(err)
	}
	proven := map[string]bool{}
	for _, u := range d.Reserves.Onchain {
		if u.Proof != nil {
			proven[u.Source] = true
			script, _ := hex.DecodeString(u.Script)
			if !txscript.IsPayToWitnessPubKeyHash(script) && !txscript.IsPayToScriptHash(script) && !txscript.IsPayToTaproot(script) {
				t.Errorf("output %s has script %s", u.Outpoint, u.Script)
			}
		}
	}
	if !proven[gina.Name] || proven[hank.Name] || d.Reserves.Totals.Onchain.Eligible != 6_000_000 {
		t.Fatalf("proven by %v, eligible %d", proven, d.Reserves.Totals.Onchain.Eligible)
	}
}

func mustOutPoint(t *testing.T, s string) wire.OutPoint {
	t.Helper()
	op, err := wire.NewOutPointFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return *op
}
