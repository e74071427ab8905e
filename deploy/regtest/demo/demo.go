package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/childproc"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/demoinfo"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/priceserver"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/standalone"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/kosh-reserve/kosh/reserve"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The demo's amounts, in satoshis.
const (
	descAmount0   = 50_000_000 // to the descriptor's address 0
	descAmount1   = 25_000_000 // to the descriptor's address 1
	aliceFunding  = 10_000_000 // alice's lnd on-chain wallet
	chanCapacity  = 1_000_000  // channel alice -> bob
	chanPush      = 100_000    // pushed to bob
	minConf       = 6
	transferUnits = 1_000_000

	// The sat-pegged community token: mintPercent of the counted reserves.
	assetName   = "Kosh community token"
	mintPercent = 40

	// The INR-pegged prototype (paise, decimals 2, policy minimum 1.50 by
	// default): worth inrPercent of the counted reserves at the oracle's
	// price. KSH needs 0.40 and INR 0.15 x 1.50 = 0.225 of the reserves,
	// so both mints pass the coverage gate, and the coverage (reserves over
	// what all liabilities are worth, 1 / 0.55 = 1.81) stays above 1.50.
	inrName     = "Digital rupee (prototype)"
	inrDecimals = 2
	inrPercent  = 15

	attestIssuer = "Kosh regtest demo"
)

// holders are the demo's accounts and their share (percent) of each mint.
var holders = []struct {
	label         string
	share, inrPct int64
}{
	{"alice-holder", 50, 50},
	{"bob-holder", 30, 20},
	{"carol-holder", 20, 30},
}

type demo struct {
	opt options
	log *slog.Logger
	t0  time.Time
	t   *standalone.TB

	h          *harness.Harness
	alice, bob *lndnode.Node
	koshd      *childproc.Child
	prices     *priceserver.Server
	started    []childproc.Proc // children recorded in the pids file

	koshDir           string
	rpcAddr, restAddr string
	info              demoinfo.Info
	birthday          int64
}

// run starts everything, in order. Harness failures panic (tb.Fatal) and
// are recovered by start.
func (d *demo) run(ctx context.Context) error {
	o := d.opt
	d.info.SupervisorPID = os.Getpid()
	d.info.StartedAt = d.t0.UTC()

	// 1. btcd on regtest, with the harness's mining wallet.
	d.stepf("starting btcd on regtest and mining 500 blocks (segwit active)")
	h, err := harness.Start(ctx, harness.Config{
		BinDir: o.bin,
		Dir:    filepath.Join(o.run, "nodes"),
		Logger: d.log,
	})
	if err != nil {
		return fmt.Errorf("start btcd: %w", err)
	}
	d.h = h
	d.pids()
	b := h.Btcd()
	d.info.Btcd = demoinfo.Btcd{RPCAddr: b.RPCAddr, RPCUser: b.RPCUser, RPCPass: b.RPCPass, CertPath: b.CertPath, Dir: b.Dir}
	d.stepf("btcd up, rpc %s", b.RPCAddr)

	// 2. Two lnd nodes.
	d.stepf("starting lnd nodes alice and bob")
	nodes := h.NewNodes(d.t, "alice", "bob")
	d.alice, d.bob = nodes[0], nodes[1]
	d.pids()
	d.info.Lnd = map[string]demoinfo.Lnd{}
	for _, n := range nodes {
		d.info.Lnd[n.Name] = demoinfo.Lnd{
			RPCAddr: n.RPCAddr, RESTAddr: n.RESTAddr, TLSCert: n.TLSCertPath,
			AdminMacaroon: n.AdminMacaroonPath, ReadonlyMacaroon: n.ReadonlyMacaroonPath,
			PubKey: n.PubKey, Dir: n.Dir,
		}
	}
	d.stepf("lnd alice rpc %s, bob rpc %s", d.alice.RPCAddr, d.bob.RPCAddr)

	// 3. The watched descriptor wallet: a fresh HD seed, funded at its
	// addresses 0 and 1.
	height, err := h.Client().GetBlockCount()
	if err != nil {
		return fmt.Errorf("btcd getblockcount: %w", err)
	}
	d.birthday = height
	w, err := newWallet(h.Params())
	if err != nil {
		return err
	}
	for i, sats := range []int64{descAmount0, descAmount1} {
		addr, err := w.address(uint32(i))
		if err != nil {
			return err
		}
		txid := h.SendToAddress(d.t, addr, sats)
		w.Funded = append(w.Funded, demoinfo.FundedAddr{Index: uint32(i), Address: addr, Sats: sats, Txid: txid.String()})
	}
	wfile := filepath.Join(o.run, demoinfo.WalletFile)
	if err := w.save(wfile); err != nil {
		return err
	}
	d.info.Wallet = w.walletInfo(wfile)
	d.stepf("sent %s and %s BTC to %s", btc(descAmount0), btc(descAmount1), w.Descriptor)

	// 4. Fund alice and open a channel alice -> bob. FundNode and
	// OpenChannel each mine a block; the 6 blocks after them give every
	// reserve output at least minconf (6) confirmations.
	d.stepf("funding alice's lnd wallet with %s BTC", btc(aliceFunding))
	h.FundNode(d.t, d.alice, aliceFunding)
	d.stepf("opening channel alice -> bob (capacity %d sat, push %d sat)", chanCapacity, chanPush)
	cp := h.OpenChannel(d.t, d.alice, d.bob, chanCapacity, chanPush)
	h.Mine(d.t, minConf)
	h.WaitSynced(d.t, d.alice, d.bob)
	d.stepf("channel %s active; mined %d blocks", lndnode.ChanPointString(cp), minConf)

	// 5. The INR price sources, on loopback, served by the supervisor.
	if d.prices, err = priceserver.Start(); err != nil {
		return err
	}
	d.info.Oracle = demoinfo.Oracle{Currency: priceserver.Currency, Sources: map[string]string{}}
	for _, s := range priceserver.Sources {
		d.info.Oracle.Sources[s.Name] = d.prices.URL(s)
	}
	d.stepf("price server for %s on http://%s (%d sources)", priceserver.Currency, d.prices.Addr, len(priceserver.Sources))

	// 6. koshd, the built binary, as a child process.
	if err := d.startKoshd(ctx, w.Descriptor); err != nil {
		return err
	}
	d.pids()

	// 7. Prove control of the cold wallet's outputs, the two-step flow an
	// operator runs with a hardware wallet; then wait for the reserves and
	// the price, and exercise the CLI.
	if err := d.prove(ctx, w); err != nil {
		return err
	}
	snap, err := d.waitReserves(ctx)
	if err != nil {
		return err
	}
	d.info.Counted = snap.Counted
	price, err := d.waitPrice(ctx)
	if err != nil {
		return err
	}
	if err := d.issue(ctx, snap.Counted); err != nil {
		return err
	}
	if err := d.issueINR(ctx, snap.Counted, price); err != nil {
		return err
	}
	if err := d.attest(ctx); err != nil {
		return err
	}
	if err := d.anchor(ctx); err != nil {
		return err
	}
	if err := d.checkPublic(ctx); err != nil {
		return err
	}

	d.info.StartSeconds = time.Since(d.t0).Seconds()
	d.pids()
	return d.writeInfo(snap)
}

// startKoshd starts .build/bin/koshd on SQLite in <run>/kosh and waits until
// koshcli can talk to it.
func (d *demo) startKoshd(ctx context.Context, desc string) error {
	o := d.opt
	d.koshDir = filepath.Join(o.run, "kosh")
	var err error
	if d.rpcAddr, err = childproc.PickAddr(o.rpcPort); err != nil {
		return err
	}
	if d.restAddr, err = childproc.PickAddr(o.restPort, d.rpcAddr); err != nil {
		return err
	}
	b := d.h.Btcd()
	args := []string{
		"--datadir", d.koshDir,
		"--network", "regtest",
		"--rpclisten", d.rpcAddr,
		"--restlisten", d.restAddr,
		"--chain.backend", "btcd",
		"--chain.rpchost", b.RPCAddr,
		"--chain.rpcuser", b.RPCUser,
		"--chain.rpcpass", b.RPCPass,
		"--chain.rpccert", b.CertPath,
		"--chain.descriptor", desc,
		"--chain.birthday", strconv.FormatInt(d.birthday, 10),
		"--chain.minconf", strconv.Itoa(minConf),
	}
	// Both nodes sign attestations and prove control of their wallet
	// outputs (lnd's admin macaroon has message:write and walletrpc's
	// FinalizePsbt), so their channels and wallets are counted in them.
	for _, n := range []*lndnode.Node{d.alice, d.bob} {
		args = append(args, "--lnd.node", fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s,signmacaroon=%s,proofmacaroon=%s",
			n.Name, n.RPCAddr, n.TLSCertPath, n.ReadonlyMacaroonPath, n.AdminMacaroonPath, n.AdminMacaroonPath))
	}

	// Attestations: hourly and every minute, files in <run>/attestations.
	d.info.Attest.Schedules = []string{"@hourly", "@every 1m"}
	d.info.Attest.Dir = filepath.Join(o.run, "attestations")
	for _, s := range d.info.Attest.Schedules {
		args = append(args, "--attest.schedule="+s)
	}
	args = append(args, "--attest.dir="+d.info.Attest.Dir, "--attest.issuer="+attestIssuer)

	// Anchors: alice's wallet pays them; the demo anchors its first
	// attestation at once (then daily), so the page and koshverify show
	// an anchored history.
	args = append(args, "--anchor.lnd", fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s",
		d.alice.Name, d.alice.RPCAddr, d.alice.TLSCertPath, d.alice.AdminMacaroonPath), "--anchor.poll=1s")

	// The INR price oracle: the supervisor's loopback sources.
	args = append(args, d.prices.OracleArgs()...)

	args = append(args, o.extraKoshdArgs...)

	d.stepf("starting koshd (rpc %s, rest %s)", d.rpcAddr, d.restAddr)
	d.koshd = &childproc.Child{
		Name:    "koshd",
		Bin:     filepath.Join(o.bin, "koshd"),
		Args:    args,
		LogPath: filepath.Join(o.run, "koshd.log"),
	}
	if err := d.koshd.Start(); err != nil {
		return err
	}
	d.info.Koshd = demoinfo.Koshd{
		PID: d.koshd.PID(), RPCAddr: d.rpcAddr, RESTAddr: d.restAddr,
		PageURL: "https://" + d.restAddr + "/",
		DataDir: d.koshDir, TLSCert: filepath.Join(d.koshDir, "tls.cert"),
		Log: d.koshd.LogPath, Args: args,
		KoshcliCmd: filepath.Join(o.run, "koshcli"),
	}
	// The wrapper is written now so that it works while we wait, too.
	if err := d.writeWrappers(); err != nil {
		return err
	}

	deadline := time.Now().Add(o.koshdStartupTimeout)
	var lastErr error
	for {
		var resp koshv1.GetReservesResponse
		if lastErr = d.cli(ctx, &resp, "getreserves"); lastErr == nil {
			break
		}
		select {
		case <-d.koshd.Done():
			return fmt.Errorf("koshd exited during start-up (%v); %s:\n%s", d.koshd.Err(), d.koshd.LogPath, childproc.Tail(d.koshd.LogPath, 3000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("koshd not answering koshcli after %s: %v; %s:\n%s", o.koshdStartupTimeout, lastErr,
				d.koshd.LogPath, childproc.Tail(d.koshd.LogPath, 3000))
		}
	}
	d.stepf("koshd up (pid %d)", d.koshd.PID())
	return nil
}

// prove runs the proof-of-control flow with koshcli: exportproof writes
// the BIP-127 PSBT over the watched outputs, the demo wallet signs it from
// the PSBT's own fields as any PSBT signer would (a hardware wallet,
// Electrum), offline, and importproof gives it back. The files stay in
// <run>/proof.
func (d *demo) prove(ctx context.Context, w *wallet) error {
	var exp koshv1.ExportControlProofResponse
	deadline := time.Now().Add(d.opt.reserveWaitTimeout)
	for {
		err := d.cli(ctx, &exp, "exportproof", "--all", "true")
		if err == nil && len(exp.Outpoints) == len(w.Funded) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("koshcli exportproof: %v (%d outputs)", err, len(exp.Outpoints))
		}
		time.Sleep(500 * time.Millisecond)
	}
	d.stepf("koshcli exportproof --all: a PSBT over %d outputs (%d sat) committing to %q", len(exp.Outpoints), exp.Value, exp.Message)
	dir := filepath.Join(d.opt.run, "proof")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "unsigned.psbt"), []byte(exp.Psbt+"\n"), 0o600); err != nil {
		return err
	}
	signed, err := w.signPSBT(exp.Psbt)
	if err != nil {
		return err
	}
	signedFile := filepath.Join(dir, "signed.psbt")
	if err := os.WriteFile(signedFile, []byte(signed+"\n"), 0o600); err != nil {
		return err
	}
	d.stepf("signed it offline with the cold wallet's key (%s)", signedFile)
	var imp koshv1.ImportControlProofResponse
	if err := d.cli(ctx, &imp, "importproof", "--psbts", "@"+signedFile); err != nil {
		return err
	}
	d.stepf("koshcli importproof: %d outputs proven at block %d", len(imp.Outpoints), imp.Height)
	return nil
}

// waitReserves polls koshcli getreserves until the snapshot is usable and
// shows the descriptor's funds and both lnd nodes with verified channels.
func (d *demo) waitReserves(ctx context.Context) (*koshv1.ReserveSnapshot, error) {
	d.stepf("waiting for koshd's reserve snapshot: on-chain %d sat at %d confirmations, lnd alice and bob", descAmount0+descAmount1, minConf)
	deadline := time.Now().Add(d.opt.reserveWaitTimeout)
	var lastErr error
	for {
		var resp koshv1.GetReservesResponse
		lastErr = d.cli(ctx, &resp, "getreserves")
		if lastErr == nil {
			lastErr = reservesReady(resp.Snapshot)
			if lastErr == nil {
				d.stepf("reserves usable: %d sat counted", resp.Snapshot.Counted)
				return resp.Snapshot, nil
			}
		}
		select {
		case <-d.koshd.Done():
			return nil, fmt.Errorf("koshd exited (%v); %s:\n%s", d.koshd.Err(), d.koshd.LogPath, childproc.Tail(d.koshd.LogPath, 3000))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("reserves not as expected after %s: %v", d.opt.reserveWaitTimeout, lastErr)
		}
	}
}

func reservesReady(s *koshv1.ReserveSnapshot) error {
	if s == nil {
		return errors.New("no snapshot yet")
	}
	chain := source(s, reserve.ChainSourceName)
	if chain == nil {
		return errors.New("no chain source in the snapshot")
	}
	if want := int64(descAmount0 + descAmount1); chain.Counted != want {
		return fmt.Errorf("chain source counts %d sat at height %d, want %d", chain.Counted, chain.Height, want)
	}
	for _, name := range []string{"alice", "bob"} {
		src := source(s, name)
		if src == nil {
			return fmt.Errorf("no lnd source %s yet", name)
		}
		if src.Stale || src.LastSeen == nil {
			return fmt.Errorf("lnd source %s not heard from yet (stale=%v, last error %q)", name, src.Stale, src.LastError)
		}
		seen := false
		for _, c := range s.Channels {
			if c.Node != name {
				continue
			}
			seen = true
			if !c.Verified {
				return fmt.Errorf("channel %s of %s not verified yet: %s", c.ChannelPoint, name, c.Why)
			}
			if !c.Announced {
				return fmt.Errorf("channel %s of %s not announced yet", c.ChannelPoint, name)
			}
		}
		if !seen {
			return fmt.Errorf("no channel of %s in the snapshot yet", name)
		}
	}
	if !s.Usable {
		return fmt.Errorf("snapshot not usable: %s", s.Problem)
	}
	return nil
}

func source(s *koshv1.ReserveSnapshot, name string) *koshv1.ReserveSource {
	for _, src := range s.Sources {
		if src.Name == name {
			return src
		}
	}
	return nil
}

// issue creates the token and the holders, mints mintPercent of the counted
// reserves across them and makes one transfer, all with koshcli.
func (d *demo) issue(ctx context.Context, counted int64) error {
	d.stepf("koshcli createasset --code %s --name %q --peg sat", demoinfo.AssetCode, assetName)
	var asset koshv1.CreateAssetResponse
	if err := d.cli(ctx, &asset, "createasset", "--code", demoinfo.AssetCode, "--name", assetName, "--peg", "sat"); err != nil {
		return err
	}
	d.info.Asset = demoinfo.AssetCode

	total := counted * mintPercent / 100
	for _, hd := range holders {
		var acc koshv1.CreateAccountResponse
		if err := d.cli(ctx, &acc, "createaccount", "--label", hd.label); err != nil {
			return err
		}
		macFile := filepath.Join(d.opt.run, hd.label+".macaroon.hex")
		if err := os.WriteFile(macFile, []byte(acc.WalletMacaroon+"\n"), 0o600); err != nil {
			return err
		}
		d.info.Accounts = append(d.info.Accounts, demoinfo.Account{Label: hd.label, ID: acc.Account.GetId(), WalletMacaroonFile: macFile})
	}
	d.stepf("created accounts %s", d.accountLabels())

	minted := int64(0)
	for i, hd := range holders {
		amount := total * hd.share / 100
		minted += amount
		var m koshv1.MintResponse
		if err := d.cli(ctx, &m, "mint", "--asset", demoinfo.AssetCode, "--account_id", d.info.Accounts[i].ID,
			"--amount", strconv.FormatInt(amount, 10), "--memo", "demo mint"); err != nil {
			return err
		}
	}
	d.stepf("minted %d %s to %s (%d%% of %d sat counted)", minted, demoinfo.AssetCode, d.accountLabels(), mintPercent, counted)

	from, to := d.info.Accounts[0], d.info.Accounts[2]
	var tr koshv1.TransferResponse
	if err := d.cli(ctx, &tr, "transfer", "--asset", demoinfo.AssetCode, "--from_account_id", from.ID,
		"--to_account_id", to.ID, "--amount", strconv.Itoa(transferUnits), "--memo", "demo transfer"); err != nil {
		return err
	}
	d.stepf("transferred %d %s %s -> %s", transferUnits, demoinfo.AssetCode, from.Label, to.Label)

	for i := range d.info.Accounts {
		var ga koshv1.GetAccountResponse
		if err := d.cli(ctx, &ga, "getaccount", "--account_id", d.info.Accounts[i].ID); err != nil {
			return err
		}
		for _, bal := range ga.Account.GetBalances() {
			if bal.Asset == demoinfo.AssetCode {
				d.info.Accounts[i].Balance = bal.Amount
			}
		}
	}
	var sup koshv1.GetSupplyResponse
	if err := d.cli(ctx, &sup, "getsupply", "--asset", demoinfo.AssetCode); err != nil {
		return err
	}
	if !sup.Consistent {
		return fmt.Errorf("getsupply reports an inconsistent ledger: %v", &sup)
	}
	d.info.Supply = sup.Supply
	return nil
}

// waitPrice polls koshcli getprices until the oracle has a live (not
// manual, not stale) INR price, and returns it in rupees per BTC.
func (d *demo) waitPrice(ctx context.Context) (*big.Rat, error) {
	d.stepf("waiting for the oracle's %s price (%d loopback sources, 2 must agree)", priceserver.Currency, len(priceserver.Sources))
	deadline := time.Now().Add(90 * time.Second)
	var lastErr error
	for {
		var resp koshv1.GetPricesResponse
		lastErr = d.cli(ctx, &resp, "getprices")
		if lastErr == nil {
			lastErr = fmt.Errorf("no %s price listed", priceserver.Currency)
			for _, q := range resp.Prices {
				if q.Currency != priceserver.Currency {
					continue
				}
				switch {
				case q.Stale:
					lastErr = fmt.Errorf("%s price stale: %s", priceserver.Currency, q.Problem)
				case q.Manual:
					lastErr = fmt.Errorf("%s price is manual, want the oracle's", priceserver.Currency)
				default:
					r, ok := new(big.Rat).SetString(q.Price)
					if !ok || r.Sign() <= 0 {
						lastErr = fmt.Errorf("%s price %q is not a positive decimal", priceserver.Currency, q.Price)
						break
					}
					d.info.Oracle.Price = q.Price
					d.stepf("oracle price: 1 BTC = %s %s (live, from %d sources)", q.Price, priceserver.Currency, len(q.Sources))
					return r, nil
				}
			}
		}
		select {
		case <-d.koshd.Done():
			return nil, fmt.Errorf("koshd exited (%v); %s:\n%s", d.koshd.Err(), d.koshd.LogPath, childproc.Tail(d.koshd.LogPath, 3000))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no live %s price after 90s: %v", priceserver.Currency, lastErr)
		}
	}
}

// issueINR creates the INR-pegged prototype and mints inrPercent of the
// counted reserves' worth at price (rupees per BTC), in whole rupees,
// across the holders.
func (d *demo) issueINR(ctx context.Context, counted int64, price *big.Rat) error {
	d.stepf("koshcli createasset --code %s --name %q --peg fiat --currency %s --decimals %d", demoinfo.INRCode, inrName, priceserver.Currency, inrDecimals)
	var asset koshv1.CreateAssetResponse
	if err := d.cli(ctx, &asset, "createasset", "--code", demoinfo.INRCode, "--name", inrName, "--peg", "fiat",
		"--currency", priceserver.Currency, "--decimals", strconv.Itoa(inrDecimals)); err != nil {
		return err
	}
	d.info.INR = demoinfo.INR{Asset: demoinfo.INRCode, Decimals: inrDecimals, MinCoverageBps: asset.Asset.GetMinCoverageBps()}

	// paise = sats x inrPercent/100 / 1e8 BTC/sat x price x 100 paise/rupee,
	// rounded down to whole rupees.
	worth := new(big.Rat).Mul(big.NewRat(counted*inrPercent, 100*100_000_000), price)
	rupees := new(big.Int).Quo(worth.Num(), worth.Denom())
	if !rupees.IsInt64() || rupees.Sign() <= 0 {
		return fmt.Errorf("INR to mint out of range: %s rupees", rupees)
	}
	total := rupees.Int64() * 100
	minted := int64(0)
	for i, hd := range holders {
		amount := total * hd.inrPct / 100 / 100 * 100
		if amount == 0 {
			continue
		}
		minted += amount
		var m koshv1.MintResponse
		if err := d.cli(ctx, &m, "mint", "--asset", demoinfo.INRCode, "--account_id", d.info.Accounts[i].ID,
			"--amount", strconv.FormatInt(amount, 10), "--memo", "demo mint"); err != nil {
			return err
		}
	}
	d.stepf("minted %s %s (%d paise) to %s: %d%% of the reserves' worth at 1 BTC = %s %s, policy minimum coverage %s",
		demoinfo.INRCode, formatUnits(minted, inrDecimals), minted, d.accountLabels(), inrPercent, price.FloatString(2), priceserver.Currency,
		formatUnits(d.info.INR.MinCoverageBps, 4))
	for i := range d.info.Accounts {
		var ga koshv1.GetAccountResponse
		if err := d.cli(ctx, &ga, "getaccount", "--account_id", d.info.Accounts[i].ID); err != nil {
			return err
		}
		for _, bal := range ga.Account.GetBalances() {
			if bal.Asset == demoinfo.INRCode {
				d.info.Accounts[i].INRBalance = bal.Amount
			}
		}
	}
	var sup koshv1.GetSupplyResponse
	if err := d.cli(ctx, &sup, "getsupply", "--asset", demoinfo.INRCode); err != nil {
		return err
	}
	if !sup.Consistent {
		return fmt.Errorf("getsupply reports an inconsistent ledger for %s: %v", demoinfo.INRCode, &sup)
	}
	d.info.INR.Supply = sup.Supply
	return nil
}

// formatUnits shows v base units with decimals places: 12345, 2 -> 123.45.
func formatUnits(v int64, decimals int) string {
	s := strconv.FormatInt(v, 10)
	if decimals <= 0 {
		return s
	}
	for len(s) <= decimals {
		s = "0" + s
	}
	return s[:len(s)-decimals] + "." + s[len(s)-decimals:]
}

// attest publishes the first attestation with koshcli attest and checks
// that the file reached the attestation directory.
func (d *demo) attest(ctx context.Context) error {
	d.stepf("koshcli attest: publishing the first attestation")
	var resp koshv1.AttestResponse
	var err error
	// A scheduled run (every minute) may be in progress: Attest is then
	// refused as Aborted; try again shortly.
	for range 10 {
		if err = d.cli(ctx, &resp, "attest"); err == nil || !strings.Contains(err.Error(), "Aborted") {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		return fmt.Errorf("first attestation: %w", err)
	}
	a := resp.Attestation
	var doc struct {
		IssuerKey string `json:"issuer_key"`
		Coverage  struct {
			Bps    json.Number `json:"bps"`
			Backed bool        `json:"backed"`
		} `json:"coverage"`
	}
	if err := json.Unmarshal([]byte(a.GetDocument()), &doc); err != nil {
		return fmt.Errorf("first attestation: decode document: %w", err)
	}
	bps, _ := doc.Coverage.Bps.Int64()
	ai := &d.info.Attest
	ai.Seq, ai.ID, ai.Height, ai.IssuerKey, ai.CoverageBps = a.GetSequence(), a.GetId(), a.GetHeight(), doc.IssuerKey, bps
	ai.File = filepath.Join(ai.Dir, fmt.Sprintf("%06d-%s.json", a.GetSequence(), a.GetId()))
	if _, err := os.Stat(ai.File); err != nil {
		// The file name is koshd's; fall back to whatever holds the id.
		if m, _ := filepath.Glob(filepath.Join(ai.Dir, "*"+a.GetId()+"*.json")); len(m) > 0 {
			ai.File = m[0]
		} else {
			return fmt.Errorf("first attestation #%d %s is not in %s: %v", a.GetSequence(), a.GetId(), ai.Dir, err)
		}
	}
	d.info.Attestation = fmt.Sprintf("#%d %s at height %d, coverage %s", a.GetSequence(), a.GetId(), a.GetHeight(), formatUnits(bps, 4))
	if a.GetStale() {
		d.info.Attestation += " (stale)"
	}
	if !doc.Coverage.Backed {
		d.info.Attestation += " (NOT backed)"
	}
	d.stepf("published attestation %s", d.info.Attestation)
	return nil
}

// publicClient is an HTTPS client pinned to koshd's certificate.
func (d *demo) publicClient() (*http.Client, error) {
	pem, err := os.ReadFile(d.info.Koshd.TLSCert)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// getPublic GETs a public REST path and decodes its JSON into out.
func (d *demo) getPublic(ctx context.Context, c *http.Client, path string, out proto.Message) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+d.restAddr+path, nil)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(body, out)
}

// checkPublic fetches the public reserves over REST, as a newcomer's curl
// would, pinned to koshd's certificate.
func (d *demo) checkPublic(ctx context.Context) error {
	c, err := d.publicClient()
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	for _, path := range []string{"/v1/public/reserves", "/openapi.json", "/v1/public/attestations/latest", "/"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+d.restAddr+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
		}
	}
	d.stepf("public REST and page answer: /v1/public/reserves, /openapi.json, /v1/public/attestations/latest, /")
	return nil
}

// anchor anchors the first attestation in bitcoin with koshcli anchor,
// mines the block that confirms it, waits for koshd to see it confirmed
// and publishes a second attestation, which lists it.
func (d *demo) anchor(ctx context.Context) error {
	d.stepf("koshcli anchor: committing attestation #%d to the bitcoin chain", d.info.Attest.Seq)
	var resp koshv1.AnchorResponse
	if err := d.cli(ctx, &resp, "anchor"); err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	a := resp.GetAnchor()
	d.h.Mine(d.t, 1)
	c, err := d.publicClient()
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var list koshv1.ListAnchorsResponse
		if err := d.getPublic(ctx, c, "/v1/public/anchors", &list); err == nil && len(list.Anchors) > 0 &&
			list.Anchors[0].Txid == a.GetTxid() && list.Anchors[0].State == "confirmed" {
			a = list.Anchors[0]
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("anchor %s not confirmed after a block and 60 s", a.GetTxid())
		}
		time.Sleep(500 * time.Millisecond)
	}
	d.info.Attest.AnchorGenesis = a.GetTxid()
	d.stepf("anchor %s confirmed in block %d (%d vbytes, %d sats fee)", a.GetTxid(), a.GetHeight(), a.GetVbytes(), a.GetFeeSats())
	var second koshv1.AttestResponse
	for range 10 {
		if err = d.cli(ctx, &second, "attest"); err == nil || !strings.Contains(err.Error(), "Aborted") {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		return fmt.Errorf("attestation after the anchor: %w", err)
	}
	d.stepf("published attestation #%d, which lists the anchor", second.GetAttestation().GetSequence())
	return nil
}

// cli runs the built koshcli against the demo's koshd and decodes its JSON
// output into out (if not nil).
func (d *demo) cli(ctx context.Context, out proto.Message, args ...string) error {
	full := append([]string{"--datadir", d.koshDir, "--rpcserver", d.rpcAddr}, args...)
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(d.opt.bin, "koshcli"), full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("koshcli %s: %s", args[0], strings.TrimPrefix(msg, "koshcli: "))
	}
	if args[0] != "getreserves" {
		d.log.Info("koshcli", "args", strings.Join(args, " "))
	}
	if out == nil {
		return nil
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("koshcli %s: decode output: %w", args[0], err)
	}
	return nil
}

func (d *demo) accountLabels() string {
	var ls []string
	for _, a := range d.info.Accounts {
		ls = append(ls, a.Label)
	}
	return strings.Join(ls, ", ")
}

// shutdown stops koshd, then (through the harness) lnd and btcd. Logs and
// directories stay in the run directory.
func (d *demo) shutdown() {
	if d.koshd != nil {
		d.log.Info("stopping koshd", "pid", d.koshd.PID())
		if err := d.koshd.Stop(20 * time.Second); err != nil {
			d.log.Error("stop koshd", "err", err)
		}
	}
	if d.prices != nil {
		d.prices.Close()
	}
	d.t.RunCleanups()
	if d.h != nil {
		d.log.Info("stopping lnd and btcd")
		if err := d.h.Close(); err != nil {
			d.log.Error("close harness", "err", err)
		}
	}
}

// stepf records a progress line (demo.sh prints them while it waits).
func (d *demo) stepf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.log.Info("step: " + msg)
	line := fmt.Sprintf("[%5.1fs] %s\n", time.Since(d.t0).Seconds(), msg)
	f, err := os.OpenFile(filepath.Join(d.opt.run, demoinfo.ProgressFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}

// pids rewrites the pids file, logging a failure.
func (d *demo) pids() {
	if err := d.writePids(); err != nil {
		d.log.Error("write pids", "err", err)
	}
}

// writePids writes "<pid> <comm>" for the supervisor and every child it has
// started so far (btcd, lnd, koshd) to the pids file, atomically. A child
// once recorded stays listed after it exited: demo.sh checks each pid's
// comm before it signals it.
func (d *demo) writePids() error {
	for _, c := range childproc.Children(os.Getpid()) {
		if !slices.Contains(d.started, c) {
			d.started = append(d.started, c)
		}
	}
	var b strings.Builder
	b.WriteString("# pid comm — written by the kosh-demo supervisor (first line) for demo.sh stop\n")
	fmt.Fprintf(&b, "%d %s\n", os.Getpid(), supervisorComm)
	for _, c := range d.started {
		fmt.Fprintf(&b, "%d %s\n", c.PID, c.Comm)
	}
	tmp := filepath.Join(d.opt.run, demoinfo.PidsFile+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(d.opt.run, demoinfo.PidsFile))
}

// btc formats satoshis as BTC.
func btc(sats int64) string {
	s := strconv.FormatFloat(float64(sats)/1e8, 'f', 8, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
