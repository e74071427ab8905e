package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// koshverify is cmd/koshverify, built once per run.
func koshverify(t testing.TB) string {
	return buildOnce(t, "koshverify", "github.com/kosh-reserve/kosh/cmd/koshverify")
}

// runVerify runs koshverify and returns its exit code and output.
func runVerify(t testing.TB, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(koshverify(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("koshverify: %v", err)
	}
	return code, out.String()
}

func writeFile(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// get fetches a koshd REST path (with a hex macaroon if not empty).
func (k *koshNode) get(path, mac string) (int, []byte) {
	k.t.Helper()
	req, _ := http.NewRequest("GET", "https://"+k.d.RESTAddr()+path, nil)
	if mac != "" {
		req.Header.Set("Grpc-Metadata-Macaroon", mac)
	}
	resp, err := k.http.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// labelled reads a labelled sample (name{labels} value) from /metrics; 0 if
// absent.
func (k *koshNode) labelled(name, labels string) float64 {
	k.t.Helper()
	_, body := k.get("/metrics", "")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+"{"+labels+"}") + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestAttestations runs the whole proof-of-reserves cycle against real btcd
// and lnd: reserves on a watched descriptor, in an lnd wallet and in a
// channel; tokens minted with signed receipts; an attestation made on
// demand that koshverify checks against btcd (every UTXO and channel point),
// a holder's inclusion proof and receipt, the hash chain, a stale
// attestation when a node goes silent, scheduled runs and runs missed while
// koshd was down.
func TestAttestations(t *testing.T) {
	h := harness.Shared(t)
	w := newDescWallet(t, h)
	nodes := h.NewNodes(t, "erin", "frank")
	erin, frank := nodes[0], nodes[1]
	h.FundNode(t, erin, 2_000_000)

	cfg := koshConfig(t, h)
	cfg.Chain.Birthday = tipHeight(t, h) + 1
	cfg.Chain.Descriptors = []string{w.descriptor("wpkh", 0)}
	// erin signs attestations; frank has only a read-only macaroon, so his
	// channel is listed with nothing counted.
	cfg.Lnd.Nodes = []string{lndSpec(erin) + ",signmacaroon=" + erin.AdminMacaroonPath, lndSpec(frank)}
	cfg.Lnd.MaxAge = 3 * time.Second
	cfg.Attest.Schedules = []string{"off"}
	cfg.Attest.Issuer = "Itest treasury"
	// An INR-pegged asset valued by two loopback price sources that agree:
	// 8,000,000.00 INR per BTC, one quoting rupees, one paise.
	for i, body := range []string{`{"data":{"price":"8000000.00"}}`, `{"inr":800000000}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		pointer, scale := "/data/price", ""
		if i == 1 {
			pointer, scale = "/inr", ",scale=2"
		}
		cfg.Oracle.Sources = append(cfg.Oracle.Sources,
			fmt.Sprintf("name=src%d,currency=INR,url=%s,pointer=%s%s", i, srv.URL, pointer, scale))
	}
	cfg.Oracle.PollInterval = time.Second
	k := startKosh(t, cfg)

	h.SendToAddress(t, w.p2wpkh(0, 0), 400_000)
	h.SendToAddress(t, w.p2wpkh(0, 1), 100_000)
	const capacity, push = 1_000_000, 200_000
	cp := h.OpenChannel(t, erin, frank, capacity, push)
	// A decoy: somebody else's output of exactly the channel's capacity,
	// which a forger could list as erin's channel point.
	decoy := h.SendOutputs(t, []*wire.TxOut{{Value: capacity, PkScript: addrScript(t, h, freshAddress(t, h, "decoy"))}})
	// Six confirmations: the channel is announced (the nodes exchange
	// announcement signatures at 6), which is what shows it is erin's.
	h.Mine(t, 6)
	h.WaitSynced(t, erin, frank)
	k.proveChain(t, w)
	point := lndnode.ChanPointString(cp)
	ec, fc := erin.Channel(t, cp), frank.Channel(t, cp)
	erinWant := ec.LocalBalance - int64(ec.LocalConstraints.ChanReserveSat)
	erinWallet := confirmedUnspent(t, erin, 3)
	k.waitReserves("chain, wallet and channel counted", syncTimeout, func(s *koshv1.ReserveSnapshot) error {
		if c := source(s, "chain"); c == nil || c.Counted != 500_000 {
			return fmt.Errorf("chain source %v, want 500000 counted", c)
		}
		if ch := channel(s, erin.Name, point); ch == nil || ch.Counted != erinWant || !ch.Announced {
			return fmt.Errorf("erin's channel %v, want announced and %d counted", ch, erinWant)
		}
		if ch := channel(s, frank.Name, point); ch == nil || !ch.Verified {
			return fmt.Errorf("frank's channel %v, want verified", ch)
		}
		return nil
	})

	k.createAsset("ATT")
	ctx := k.ctx()
	acctA, err := k.issuer.CreateAccount(ctx, &koshv1.CreateAccountRequest{Label: "a", IdempotencyKey: "acct-a"})
	if err != nil {
		t.Fatal(err)
	}
	acctB, err := k.issuer.CreateAccount(ctx, &koshv1.CreateAccountRequest{Label: "b", IdempotencyKey: "acct-b"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := acctA.Account.Id, acctB.Account.Id
	if _, err := k.issuer.CreateAsset(ctx, &koshv1.CreateAssetRequest{Code: "INR", Name: "Digital rupee", Decimals: 2,
		Peg: koshv1.Peg_PEG_FIAT, Currency: "INR"}); err != nil {
		t.Fatal(err)
	}
	// 10,000.00 rupees (1,000,000 paise) are worth 125,000 sats at the
	// oracle price; at the default 1.50 they need 187,500 sats.
	harness.WaitFor(t, func() error {
		_, err := k.issuer.Mint(ctx, &koshv1.MintRequest{Asset: "INR", AccountId: b, Amount: 1_000_000, IdempotencyKey: "mint-inr"})
		return err
	}, 30*time.Second)
	mint, err := k.issuer.Mint(ctx, &koshv1.MintRequest{Asset: "ATT", AccountId: a, Amount: 300_000, IdempotencyKey: "mint-a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mint.Receipts) != 1 || mint.Receipts[0].Balance != 300_000 || mint.Receipts[0].AccountId != a {
		t.Fatalf("mint receipts %v, want one for %s at 300000", mint.Receipts, a)
	}
	xfer, err := k.issuer.Transfer(ctx, &koshv1.TransferRequest{Asset: "ATT", FromAccountId: a, ToAccountId: b,
		Amount: 50_000, IdempotencyKey: "xfer-ab"})
	if err != nil {
		t.Fatal(err)
	}
	if len(xfer.Receipts) != 2 || xfer.Receipts[0].Balance != 250_000 || xfer.Receipts[1].Balance != 50_000 {
		t.Fatalf("transfer receipts %v, want a at 250000 and b at 50000", xfer.Receipts)
	}
	// A replay returns receipts of the same figures.
	again, err := k.issuer.Transfer(ctx, &koshv1.TransferRequest{Asset: "ATT", FromAccountId: a, ToAccountId: b,
		Amount: 50_000, IdempotencyKey: "xfer-ab"})
	if err != nil || len(again.Receipts) != 2 || again.Receipts[0].Balance != 250_000 || again.Receipts[0].Sequence != xfer.Receipts[0].Sequence {
		t.Fatalf("replayed transfer: %v; receipts %v", err, again.GetReceipts())
	}

	first, err := k.issuer.Attest(ctx, &koshv1.AttestRequest{})
	if err != nil {
		t.Fatalf("attest: %v", err)
	}
	doc := first.Attestation.Document
	d1, err := verify.Document([]byte(doc))
	if err != nil {
		t.Fatalf("attestation does not verify: %v", err)
	}
	tot := d1.Reserves.Totals
	if tot.Onchain.Counted != attest.Amount(500_000+erinWallet) {
		t.Errorf("on-chain counted %d, want %d = descriptor 500000 + erin's wallet %d", tot.Onchain.Counted, 500_000+erinWallet, erinWallet)
	}
	if tot.Lightning.Counted != attest.Amount(erinWant) {
		t.Errorf("Lightning counted %d, want erin's %d (frank did not sign)", tot.Lightning.Counted, erinWant)
	}
	// A channel between two of the issuer's nodes is listed once (an
	// outpoint may appear once in a document), under the first node
	// configured: erin. frank signs nothing and lists nothing.
	for _, n := range d1.Reserves.Lightning {
		switch n.Name {
		case erin.Name:
			if len(n.Channels) != 1 || n.Channels[0].ChannelPoint != point || n.Channels[0].Capacity != capacity ||
				n.Signature == "" || n.Channels[0].Counted != attest.Amount(erinWant) || n.Channels[0].LocalBalance != attest.Amount(ec.LocalBalance) {
				t.Errorf("erin: %+v, want signed, channel %s of %d counting %d", n, point, capacity, erinWant)
			}
		case frank.Name:
			if n.Signature != "" || len(n.Channels) != 0 || fc.LocalBalance != push {
				t.Errorf("frank: %+v (local %d), want unsigned with no channel listed", n, fc.LocalBalance)
			}
		}
	}
	if len(d1.Assets) != 2 || d1.Assets[0].Code != "ATT" || d1.Assets[0].Liabilities.Total != 300_000 || d1.Assets[0].Liabilities.Accounts != 2 ||
		!d1.Coverage.Backed || d1.Stale {
		t.Fatalf("assets %+v coverage %+v stale %v", d1.Assets, d1.Coverage, d1.Stale)
	}
	// The INR asset carries the signed price; the coverage figures follow
	// from it exactly: backing 300,000 + 125,000 sats; required 300,000 +
	// 187,500.
	inr := d1.Assets[1]
	if inr.Code != "INR" || inr.Peg != attest.PegFiat || inr.Price == nil || inr.Price.Manual ||
		inr.Price.Coefficient.String() != "800000000" || inr.Price.Scale != 2 || inr.MinCoverageBps != 15_000 ||
		len(inr.Price.Sources) != 2 || inr.Price.Sources[0].Name != "src0" || inr.Price.SpreadBps != 0 ||
		inr.Liabilities.Total != 1_000_000 {
		t.Errorf("INR asset %+v price %+v", inr, inr.Price)
	}
	if d1.Coverage.Backing != 425_000 || d1.Coverage.Required != 487_500 {
		t.Errorf("coverage %+v, want backing 425000 and required 487500", d1.Coverage)
	}
	t.Logf("attestation 1: counted %d (on-chain %d, Lightning %d), liabilities 300000 ATT + 10,000.00 INR, coverage %s bps",
		tot.Counted, tot.Onchain.Counted, tot.Lightning.Counted, d1.Coverage.Bps.String())

	// koshverify checks it, and every UTXO and channel point, against btcd.
	bt := h.Btcd()
	docFile := writeFile(t, "att.json", doc)
	node := []string{"--btcd", bt.RPCAddr, "--rpcuser", bt.RPCUser, "--rpcpass", bt.RPCPass, "--rpccert", bt.CertPath}
	// frank's lnd stands for the verifier's own: erin's channel must be in
	// its graph with erin as one end.
	lnd := []string{"--lnd", frank.RPCAddr, "--lnd.tlscert", frank.TLSCertPath, "--lnd.macaroon", frank.ReadonlyMacaroonPath}
	if code, out := runVerify(t, append(append([]string{"attestation", docFile, "--issuer", d1.IssuerKey}, node...), lnd...)...); code != 0 ||
		!strings.Contains(out, "1 announced channels are in your lnd's graph") {
		t.Fatalf("koshverify attestation: exit %d:\n%s", code, out)
	}
	// The issuer forges the channel: erin's channel point replaced by the
	// decoy (same value, its own confirmations and short channel id),
	// re-signed by erin's lnd and by the issuer. Every figure and signature
	// holds and the decoy is unspent on-chain; only the verifier's own
	// graph shows that it is nobody's channel.
	forged := forgeChannelPoint(t, h, k, erin, doc, point, decoy)
	if code, out := runVerify(t, append(append([]string{"attestation", forged}, node...), lnd...)...); code != 1 ||
		!strings.Contains(out, "is not in your lnd's graph") {
		t.Errorf("koshverify --lnd on a channel point that is another output of the same value: exit %d, want 1:\n%s", code, out)
	}
	tampered := strings.Replace(doc, `"value":"400000"`, `"value":"400001"`, 1)
	if tampered == doc {
		t.Fatal("no output of 400000 sats in the document to tamper with")
	}
	if code, out := runVerify(t, "attestation", writeFile(t, "bad.json", tampered)); code != 1 {
		t.Errorf("koshverify on a tampered attestation: exit %d, want 1:\n%s", code, out)
	}

	// The holder fetches the inclusion proof over REST with the wallet
	// macaroon and checks it, with the receipt, using koshverify.
	code, bundle := k.get("/v1/wallet/accounts/"+a+"/proof?asset=ATT", acctA.WalletMacaroon)
	if code != http.StatusOK {
		t.Fatalf("GET proof: %d %s", code, bundle)
	}
	var pr struct{ Bundle string }
	if err := json.Unmarshal(bundle, &pr); err != nil || pr.Bundle == "" {
		t.Fatalf("proof response %s: %v", bundle, err)
	}
	receipt := writeFile(t, "receipt.json", xfer.Receipts[0].Document)
	if code, out := runVerify(t, "inclusion", "--attestation", docFile, "--proof", writeFile(t, "bundle.json", pr.Bundle),
		"--receipt", receipt, "--issuer", d1.IssuerKey); code != 0 {
		t.Fatalf("koshverify inclusion: exit %d:\n%s", code, out)
	}
	if code, out := runVerify(t, "receipt", receipt, "--issuer", d1.IssuerKey); code != 0 {
		t.Fatalf("koshverify receipt: exit %d:\n%s", code, out)
	}
	// The holder's history carries a receipt for every entry touching the
	// account, the latest matching the one the transfer returned.
	code, hist := k.get("/v1/wallet/accounts/"+a+"/history?asset=ATT", acctA.WalletMacaroon)
	var hr struct {
		Entries  []json.RawMessage
		Receipts []struct{ Balance, Sequence, Document string }
	}
	if err := json.Unmarshal(hist, &hr); err != nil || code != http.StatusOK || len(hr.Entries) != 2 || len(hr.Receipts) != 2 ||
		hr.Receipts[1].Balance != "250000" || hr.Receipts[1].Sequence != strconv.FormatInt(xfer.Receipts[0].Sequence, 10) {
		t.Errorf("history: %d %v %s", code, err, hist)
	} else if code, out := runVerify(t, "receipt", writeFile(t, "hist-receipt.json", hr.Receipts[1].Document), "--issuer", d1.IssuerKey); code != 0 {
		t.Errorf("koshverify receipt from the history: exit %d:\n%s", code, out)
	}
	if code, body := k.get("/v1/wallet/accounts/"+b+"/proof?asset=ATT", acctA.WalletMacaroon); code != http.StatusForbidden {
		t.Errorf("a's macaroon fetching b's proof: %d %s, want 403", code, body)
	}
	// An account holding no ATT at the cut-off gets, instead of a bundle,
	// the issuer's signed statement that it is absent (version 3), which
	// koshverify checks against the attestation.
	acctC, err := k.issuer.CreateAccount(ctx, &koshv1.CreateAccountRequest{Label: "c", IdempotencyKey: "acct-c"})
	if err != nil {
		t.Fatal(err)
	}
	code, body := k.get("/v1/wallet/accounts/"+acctC.Account.Id+"/proof?asset=ATT&attestation_id="+first.Attestation.Id, acctC.WalletMacaroon)
	var ar struct{ Bundle, Absence string }
	if err := json.Unmarshal(body, &ar); err != nil || code != http.StatusOK || ar.Bundle != "" || ar.Absence == "" {
		t.Fatalf("proof of an account holding no ATT: %d %s (%v), want an absence statement", code, body, err)
	}
	if code, out := runVerify(t, "absent", "--attestation", docFile, "--statement", writeFile(t, "absence.json", ar.Absence),
		"--issuer", d1.IssuerKey); code != 0 || !strings.Contains(out, "is absent from the ATT liability tree of attestation 1") {
		t.Fatalf("koshverify absent: exit %d:\n%s", code, out)
	}

	// Public reads: REST, the static file name, the page.
	code, body = k.get("/v1/public/attestations/latest", "")
	if code != http.StatusOK || !strings.Contains(string(body), first.Attestation.Id) {
		t.Errorf("GET latest: %d %s", code, body)
	}
	code, body = k.get("/attestations/"+fmt.Sprintf("%06d-%s.json", 1, first.Attestation.Id), "")
	if code != http.StatusOK || string(body) != doc {
		t.Errorf("GET static attestation: %d, byte-equal %v", code, string(body) == doc)
	}
	code, body = k.get("/", "")
	if code != http.StatusOK || !containsAll(string(body), "Itest treasury", first.Attestation.Id[:16]) {
		t.Errorf("GET /: %d, missing issuer or attestation id: %.300s", code, body)
	}

	// frank goes silent: the next attestation is published anyway, marked
	// stale and naming him, and names the first as its predecessor.
	frank.Stop(t)
	k.waitReserves("frank stale", 30*time.Second, func(s *koshv1.ReserveSnapshot) error {
		if src := source(s, frank.Name); src == nil || !src.Stale {
			return fmt.Errorf("frank %v, want stale", src)
		}
		return nil
	})
	second, err := k.issuer.Attest(ctx, &koshv1.AttestRequest{})
	if err != nil {
		t.Fatalf("attest with frank stale: %v", err)
	}
	d2, err := verify.Document([]byte(second.Attestation.Document))
	if err != nil {
		t.Fatal(err)
	}
	if !d2.Stale || !second.Attestation.Stale || len(d2.StaleSources) != 1 || d2.StaleSources[0] != frank.Name || d2.Prev != first.Attestation.Id {
		t.Errorf("second attestation: stale %v %v sources %v prev %s", d2.Stale, second.Attestation.Stale, d2.StaleSources, d2.Prev)
	}
	if code, out := runVerify(t, "attestation", filepath.Join(k.cfg.AttestDir(), "latest.json"), "--chain", k.cfg.AttestDir(),
		"--first", first.Attestation.Id); code != 0 {
		t.Fatalf("koshverify --chain: exit %d:\n%s", code, out)
	}
	if k.labelled("kosh_attestations_published_total", `trigger="rpc"`) != 2 || k.metric("kosh_attestation_last_stale") != 1 {
		t.Errorf("metrics: published{rpc} %v, last_stale %v", k.labelled("kosh_attestations_published_total", `trigger="rpc"`),
			k.metric("kosh_attestation_last_stale"))
	}

	// A schedule every second: koshd down for a while counts the runs it
	// missed, then publishes on schedule, each naming the one before.
	k.stop()
	time.Sleep(3 * time.Second)
	cfg.Attest.Schedules = []string{"@every 1s"}
	k = startKosh(t, cfg)
	if n := k.labelled("kosh_attestations_missed_total", `schedule="@every 1s"`); n < 2 {
		t.Errorf("missed runs while down: %v, want at least 2", n)
	}
	harness.WaitFor(t, func() error {
		if n := k.labelled("kosh_attestations_published_total", `trigger="schedule"`); n < 2 {
			return fmt.Errorf("%v scheduled attestations so far", n)
		}
		return nil
	}, 30*time.Second)
	// On demand while the schedule runs: made, or refused as busy.
	if _, err := k.issuer.Attest(k.ctx(), &koshv1.AttestRequest{}); err != nil && status.Code(err) != codes.Aborted {
		t.Fatalf("attest during a schedule: %v", err)
	}
	if code, out := runVerify(t, "attestation", filepath.Join(k.cfg.AttestDir(), "latest.json"), "--chain", k.cfg.AttestDir()); code != 0 {
		t.Fatalf("koshverify --chain over scheduled attestations: exit %d:\n%s", code, out)
	}
}

// forgeChannelPoint rewrites the attestation doc as an issuer forging a
// channel would: the node's channel at point becomes the decoy's output of
// the same value, with the decoy's confirmations and short channel id;
// the node signs the new document through its lnd and the issuer re-signs
// it. It returns the file written.
func forgeChannelPoint(t *testing.T, h *harness.Harness, k *koshNode, n *lndnode.Node, doc, point string, decoy *wire.MsgTx) string {
	t.Helper()
	a, err := attest.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	txid := decoy.TxHash()
	raw, err := h.Client().GetRawTransactionVerbose(&txid)
	if err != nil || raw.BlockHash == "" {
		t.Fatalf("the decoy %s is not in a block: %v", txid, err)
	}
	bh, err := chainhash.NewHashFromStr(raw.BlockHash)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := h.Client().GetBlockVerbose(bh)
	if err != nil {
		t.Fatal(err)
	}
	index := slices.Index(blk.Tx, txid.String())
	if index < 0 {
		t.Fatalf("the decoy is not in block %s", bh)
	}
	changed := false
	for i := range a.Reserves.Lightning {
		node := &a.Reserves.Lightning[i]
		if node.PubKey != n.PubKey {
			continue
		}
		for j := range node.Channels {
			c := &node.Channels[j]
			if c.ChannelPoint != point {
				continue
			}
			vout := slices.IndexFunc(decoy.TxOut, func(o *wire.TxOut) bool { return o.Value == int64(c.Capacity) })
			if vout < 0 {
				t.Fatalf("the decoy has no output of %d sats", c.Capacity)
			}
			c.ChannelPoint = fmt.Sprintf("%s:%d", txid, vout)
			c.ShortChannelID = fmt.Sprintf("%dx%dx%d", blk.Height, index, vout)
			c.Confirmations = a.Block.Height - blk.Height + 1
			changed = true
		}
	}
	if !changed {
		t.Fatalf("node %s has no channel %s in the attestation", n.Name, point)
	}
	if err := a.Fill(); err != nil {
		t.Fatal(err)
	}
	for i := range a.Reserves.Lightning {
		a.Reserves.Lightning[i].Signature = ""
	}
	msg, err := a.NodeMessage()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range a.Reserves.Lightning {
		if a.Reserves.Lightning[i].PubKey == n.PubKey {
			res, err := n.LN.SignMessage(ctx, &lnrpc.SignMessageRequest{Msg: msg})
			if err != nil {
				t.Fatal(err)
			}
			a.Reserves.Lightning[i].Signature = res.Signature
		}
	}
	key, err := sig.LoadOrCreateKey(k.cfg.AttestKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	a.Signature = ""
	if err := a.Sign(key); err != nil {
		t.Fatal(err)
	}
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.Document(b); err != nil {
		t.Fatalf("the forged attestation does not verify offline, so it tests nothing: %v", err)
	}
	return writeFile(t, "forged-channel.json", string(b))
}

// addrScript is the output script of an address on the harness's network.
func addrScript(t testing.TB, h *harness.Harness, addr string) []byte {
	t.Helper()
	a, err := btcutil.DecodeAddress(addr, h.Params())
	if err != nil {
		t.Fatal(err)
	}
	pk, err := txscript.PayToAddrScript(a)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}
