package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/demoinfo"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/priceserver"
	"github.com/kosh-reserve/kosh/reserve"
)

// rel shows path relative to the repository root (demo.sh runs there).
func (d *demo) rel(path string) string {
	r, err := filepath.Rel(d.opt.repo, path)
	if err != nil || strings.HasPrefix(r, "..") {
		return path
	}
	return r
}

// writeWrappers writes <run>/koshcli and <run>/lncli-<node>: the built CLIs
// with the demo's flags (absolute paths, so they work from any directory).
func (d *demo) writeWrappers() error {
	o := d.opt
	scripts := map[string]string{
		"koshcli": fmt.Sprintf("exec %q --datadir %q --rpcserver %q \"$@\"\n",
			filepath.Join(o.bin, "koshcli"), d.koshDir, d.rpcAddr),
	}
	for _, n := range []struct {
		name string
		inf  demoinfo.Lnd
	}{{"alice", d.info.Lnd["alice"]}, {"bob", d.info.Lnd["bob"]}} {
		scripts["lncli-"+n.name] = fmt.Sprintf("exec %q --network regtest --rpcserver %q --tlscertpath %q --macaroonpath %q \"$@\"\n",
			filepath.Join(o.bin, "lncli"), n.inf.RPCAddr, n.inf.TLSCert, n.inf.AdminMacaroon)
		inf := n.inf
		inf.Lncli = filepath.Join(o.run, "lncli-"+n.name)
		d.info.Lnd[n.name] = inf
	}
	for name, body := range scripts {
		text := "#!/usr/bin/env bash\n# Written by the regtest demo (deploy/regtest); valid while it runs.\n" + body
		if err := os.WriteFile(filepath.Join(o.run, name), []byte(text), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// writeInfo writes <run>/demo.json and <run>/info.txt, which demo.sh prints.
func (d *demo) writeInfo(snap *koshv1.ReserveSnapshot) error {
	o := d.opt
	k := &d.info.Koshd
	macs, _ := filepath.Glob(filepath.Join(d.koshDir, "regtest", "*.macaroon"))
	k.Macaroons = macs
	if err := writeJSON(filepath.Join(o.run, demoinfo.JSONFile), d.info); err != nil {
		return err
	}

	rest := "https://" + d.restAddr
	cert := d.rel(k.TLSCert)
	kc := d.rel(k.KoshcliCmd)
	acct := func(label string) demoinfo.Account {
		for _, a := range d.info.Accounts {
			if a.Label == label {
				return a
			}
		}
		return demoinfo.Account{}
	}
	alice, bob, carol := acct("alice-holder"), acct("bob-holder"), acct("carol-holder")

	var b strings.Builder
	tw := func(f func(w *tabwriter.Writer)) {
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		f(w)
		w.Flush()
	}
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	p("Kosh regtest demo is running: btcd + lnd alice, bob + koshd on 127.0.0.1")
	p("(supervisor pid %d, started %s, up in %s; paths relative to the repository root)",
		d.info.SupervisorPID, d.info.StartedAt.Format(time.RFC3339), (time.Duration(d.info.StartSeconds * float64(time.Second))).Round(time.Second))
	p("")
	p("Open")
	tw(func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "  page\t%s/\t(the public proof-of-reserves page; press \"Verify in this browser\")\n", rest)
		fmt.Fprintf(w, "  latest attestation\t%s/v1/public/attestations/latest\n", rest)
		fmt.Fprintf(w, "  public reserves\t%s/v1/public/reserves\n", rest)
		fmt.Fprintf(w, "  OpenAPI spec\t%s/openapi.json\n", rest)
		fmt.Fprintf(w, "  koshd gRPC\t%s\n", d.rpcAddr)
	})
	p("  koshd's TLS certificate is self-signed: %s", cert)
	p("  curl --cacert %s %s/v1/public/reserves", cert, rest)
	p("")

	p("Reserves (on-chain counted at %d+ confirmations; lnd: settled local balance and wallet)", minConf)
	tw(func(w *tabwriter.Writer) {
		srcs := slices.Clone(snap.Sources)
		chainFirst := func(s *koshv1.ReserveSource) int {
			if s.Name == reserve.ChainSourceName {
				return 0
			}
			return 1
		}
		slices.SortStableFunc(srcs, func(a, b *koshv1.ReserveSource) int { return cmp.Compare(chainFirst(a), chainFirst(b)) })
		for _, src := range srcs {
			what := "lnd " + src.Name
			if src.Name == reserve.ChainSourceName {
				what = "on-chain"
			}
			fmt.Fprintf(w, "  %s\t%d sat\t%s: %s\n", src.Name, src.Counted, what, classes(src))
		}
		fmt.Fprintf(w, "  total\t%d sat\tcounted at height %d, snapshot usable\n", snap.Counted, d.chainHeight(snap))
	})
	p("  descriptor %s", d.info.Wallet.Descriptor)
	for _, f := range d.info.Wallet.Funded {
		p("  %s BTC to descriptor address %d %s (tx %s)", btc(f.Sats), f.Index, f.Address, f.Txid)
	}
	p("  channel alice -> bob: %d sat capacity, %d pushed to bob; wallet seed and keys: %s", chanCapacity, chanPush, d.rel(d.info.Wallet.File))
	p("")

	p("Token %s %q, pegged to sat: supply %d (%d%% of counted reserves)", demoinfo.AssetCode, assetName, d.info.Supply, mintPercent)
	p("Token %s %q, pegged to %s (paise, %d decimals): supply %s %s (%d%% of the reserves' worth), policy minimum coverage %s",
		demoinfo.INRCode, inrName, priceserver.Currency, inrDecimals, priceserver.Currency, formatUnits(d.info.INR.Supply, inrDecimals), inrPercent,
		formatUnits(d.info.INR.MinCoverageBps, 4))
	tw(func(w *tabwriter.Writer) {
		for _, a := range d.info.Accounts {
			fmt.Fprintf(w, "  %s\t%s\t%d %s\t%s %s\n", a.Label, a.ID, a.Balance, demoinfo.AssetCode, formatUnits(a.INRBalance, inrDecimals), demoinfo.INRCode)
		}
	})
	p("  (after minting and one transfer of %d %s %s -> %s)", transferUnits, demoinfo.AssetCode, alice.Label, carol.Label)
	p("")

	p("Price oracle: 1 BTC = %s %s, live from the supervisor's loopback sources (2 of %d must agree, polled every 15s):", d.info.Oracle.Price, priceserver.Currency, len(priceserver.Sources))
	for _, s := range priceserver.Sources {
		p("  %s  %s  (pointer %s%s)", s.Name, d.info.Oracle.Sources[s.Name], s.Pointer, map[bool]string{true: ", scale " + s.Scale}[s.Scale != ""])
	}
	p("")

	at := d.info.Attest
	p("Attestations: schedules %s, files in %s", strings.Join(at.Schedules, " and "), d.rel(at.Dir))
	p("  first: %s", d.info.Attestation)
	p("  issuer key %s", at.IssuerKey)
	p("  verify the latest one (signature, sums, coverage of KSH and INR from the signed price, every UTXO and channel against btcd):")
	p("    %s", d.verifyCommand(d.rel(filepath.Join(at.Dir, "latest.json"))))
	p("  or the URL the page links to (koshverify trusts koshd's self-signed certificate through SSL_CERT_FILE):")
	p("    SSL_CERT_FILE=%s %s", cert, strings.Replace(d.verifyCommand(rest+"/attestations/"+at.ID+".json"),
		"--chain "+d.rel(at.Dir), "--chain "+rest+"/attestations", 1))
	p("  or download it first: curl -s --cacert %s -o latest.json %s/attestations/%s.json", cert, rest, at.ID)
	p("  check the running demo (koshverify + the page green in headless Chromium): make demo-check")
	p("")

	p("koshcli: %s is %s --datadir %s --rpcserver %s", kc, d.rel(filepath.Join(o.bin, "koshcli")), d.rel(d.koshDir), d.rpcAddr)
	for _, c := range []string{
		"getreserves",
		"listassets",
		"getsupply --asset " + demoinfo.AssetCode,
		"getsupply --asset " + demoinfo.INRCode,
		"getprices",
		"getasset --code " + demoinfo.INRCode,
		"listaccounts",
		"getaccount --account_id " + carol.ID,
		"mint --asset " + demoinfo.AssetCode + " --account_id " + carol.ID + " --amount 1000",
		"transfer --asset " + demoinfo.AssetCode + " --from_account_id " + bob.ID + " --to_account_id " + carol.ID + " --amount 500",
		"burn --asset " + demoinfo.AssetCode + " --account_id " + carol.ID + " --amount 100",
		"mint --asset " + demoinfo.INRCode + " --account_id " + bob.ID + " --amount 10000   (100.00 INR, in paise)",
		"setmanualprice --currency " + priceserver.Currency + " --price 6543210.12 --valid_for_seconds 600 --reason demo   (overrides the oracle)",
		"listjournal --asset " + demoinfo.AssetCode,
		"attest",
		"-h",
	} {
		p("  %s %s", kc, c)
	}
	p("")

	p("Macaroons (koshd; admin is the koshcli default, pricer may only set prices)")
	for _, m := range macs {
		p("  %s", d.rel(m))
	}
	if mac, err := os.ReadFile(alice.WalletMacaroonFile); err == nil {
		p("  wallet macaroon of %s (hex, also in %s):", alice.Label, d.rel(alice.WalletMacaroonFile))
		p("    %s", strings.TrimSpace(string(mac)))
	}
	p("")
	p("Wallet REST: %s's balance", alice.Label)
	p("  curl --cacert %s \\", cert)
	p("    -H \"Grpc-Metadata-macaroon: $(cat %s)\" \\", d.rel(alice.WalletMacaroonFile))
	p("    %s/v1/wallet/accounts/%s/balance", rest, alice.ID)
	p("")

	bt := d.info.Btcd
	p("Nodes")
	p("  btcd   rpc %s, user %s, pass %s, cert %s", bt.RPCAddr, bt.RPCUser, bt.RPCPass, d.rel(bt.CertPath))
	for _, n := range []string{"alice", "bob"} {
		l := d.info.Lnd[n]
		p("  lnd %-5s rpc %s: %s getinfo  (koshd reads with %s, signs attestations with %s)", n, l.RPCAddr, d.rel(l.Lncli),
			d.rel(l.ReadonlyMacaroon), d.rel(l.AdminMacaroon))
	}
	p("")
	p("Logs: %s (supervisor), %s, lnd and btcd under %s", d.rel(filepath.Join(o.run, "demo.log")), d.rel(k.Log), d.rel(filepath.Join(o.run, "nodes")))
	p("Everything the demo started: %s. Stop it with: make demo-stop", d.rel(filepath.Join(o.run, demoinfo.PidsFile)))
	return os.WriteFile(filepath.Join(o.run, demoinfo.InfoFile), []byte(b.String()), 0o600)
}

// classes describes a source's non-zero classes: "a 1 + b 2 (not counted: c 3)".
func classes(src *koshv1.ReserveSource) string {
	var in, out []string
	for _, c := range src.Classes {
		if c.Amount == 0 {
			continue
		}
		s := fmt.Sprintf("%s %d", c.Name, c.Amount)
		if c.Counted {
			in = append(in, s)
		} else {
			out = append(out, s)
		}
	}
	r := strings.Join(in, " + ")
	if len(out) > 0 {
		r += " (not counted: " + strings.Join(out, ", ") + ")"
	}
	return r
}

func (d *demo) chainHeight(s *koshv1.ReserveSnapshot) int64 {
	if src := source(s, reserve.ChainSourceName); src != nil {
		return src.Height
	}
	return 0
}

// verifyCommand is the koshverify command line that checks the attestation
// file (a path or URL) against the demo's btcd, its chain of predecessors in
// the attestation directory and the issuer key.
func (d *demo) verifyCommand(file string) string {
	bt := d.info.Btcd
	return fmt.Sprintf("%s attestation %s --chain %s --issuer %s --btcd %s --rpcuser %s --rpcpass %s --rpccert %s",
		d.rel(filepath.Join(d.opt.bin, "koshverify")), file, d.rel(d.info.Attest.Dir), d.info.Attest.IssuerKey,
		bt.RPCAddr, bt.RPCUser, bt.RPCPass, d.rel(bt.CertPath))
}
