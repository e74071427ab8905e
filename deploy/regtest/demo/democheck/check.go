package democheck

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/demoinfo"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/kosh-reserve/kosh/web/headless"
)

// Run is `kosh-demo check` (make demo-check): against the running demo it
//
//  1. loads the page in headless Chromium (koshd's self-signed certificate is
//     ignored for this loopback URL only), asserts that it shows the KSH and
//     INR assets and an overall "backed" status, presses "Verify in this
//     browser" and asserts the result turns green, with no console error,
//     exception or failed load;
//  2. downloads the attestation the page links to (pinned to koshd's
//     tls.cert) and runs koshverify on it with --btcd against the demo's
//     btcd, --chain over the attestation directory and --issuer;
//
// and exits 1 unless both hold.
func Run(args []string) int {
	fs := flag.NewFlagSet("kosh-demo check", flag.ExitOnError)
	run := fs.String("run", "deploy/regtest/run", "the demo's run directory")
	bin := fs.String("bin", ".build/bin", "directory holding koshverify")
	chromium := fs.String("chromium", envOr("KOSH_CHROMIUM", "/usr/bin/chromium"), "Chromium binary (web/install-chromium.sh installs it)")
	fs.Parse(args)

	var info demoinfo.Info
	b, err := os.ReadFile(filepath.Join(*run, demoinfo.JSONFile))
	if err == nil {
		err = json.Unmarshal(b, &info)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "check: cannot read the running demo's %s (is it running? make demo): %v\n", demoinfo.JSONFile, err)
		return 1
	}
	pageURL := info.Koshd.PageURL
	fmt.Printf("check: page %s\n", pageURL)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	failed := false

	// 1. The page in headless Chromium.
	res, err := checkBrowser(ctx, *chromium, pageURL)
	if err != nil {
		fmt.Printf("check: FAIL browser: %v\n", err)
		failed = true
	} else {
		fmt.Printf("check: browser: status %q (%s), assets %s, verify result %q: %s\n",
			res.StatusWord, res.StatusClass, strings.Join(res.Assets, ", "), res.VerifyClass, res.VerifyText)
		for _, p := range res.problems() {
			fmt.Printf("check: FAIL browser: %s\n", p)
			failed = true
		}
		if !failed {
			fmt.Println("check: ok   the page shows KSH and INR, backed, and the in-browser verification is green with no console errors")
		}
	}

	// 2. koshverify on the attestation the page links to (or, if the
	// browser part failed before reading it, the latest one).
	attURL := ""
	if res != nil {
		attURL = res.AttURL
	}
	if err := checkKoshverify(ctx, &info, *run, *bin, attURL); err != nil {
		fmt.Printf("check: FAIL koshverify: %v\n", err)
		failed = true
	}

	if failed {
		fmt.Println("check: FAILED")
		return 1
	}
	fmt.Println("check: PASS")
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// browserResult is what the page showed.
type browserResult struct {
	StatusClass, StatusWord string
	Assets                  []string
	AttURL, AttID           string
	VerifyClass, VerifyText string
	Errors                  []string
}

func (r *browserResult) problems() []string {
	var p []string
	if !strings.Contains(r.StatusClass, "st-backed") {
		p = append(p, fmt.Sprintf("overall status is %q (class %q), want backed", r.StatusWord, r.StatusClass))
	}
	for _, want := range []string{demoinfo.AssetCode, demoinfo.INRCode} {
		found := false
		for _, a := range r.Assets {
			found = found || strings.HasPrefix(a, want+" ")
		}
		if !found {
			p = append(p, fmt.Sprintf("the page shows no asset %s", want))
		}
	}
	for _, a := range r.Assets {
		if !strings.HasSuffix(a, " st-backed") {
			p = append(p, fmt.Sprintf("asset %s is not backed", a))
		}
	}
	if !strings.Contains(" "+r.VerifyClass+" ", " ok ") || !strings.HasPrefix(r.VerifyText, "Signature valid") {
		p = append(p, fmt.Sprintf("in-browser verification is not green: class %q, text %q", r.VerifyClass, r.VerifyText))
	}
	for _, e := range r.Errors {
		p = append(p, "browser error: "+e)
	}
	return p
}

// checkBrowser drives headless Chromium as web/browser_test.go does.
func checkBrowser(ctx context.Context, path, pageURL string) (*browserResult, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("chromium not found at %s (run web/install-chromium.sh or set KOSH_CHROMIUM): %w", path, err)
	}
	if u, err := url.Parse(pageURL); err != nil || !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("page URL %q is not on loopback; refusing to ignore its certificate", pageURL)
	}
	profile, err := os.MkdirTemp("", "kosh-demo-check-chromium-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	tctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelT()
	// koshd's tls.cert is self-signed; the URL was checked to be loopback.
	b, err := headless.Start(tctx, headless.Config{Path: path, ProfileDir: profile, Width: 1280, Height: 900, IgnoreCertErrors: true})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	bctx := b.Ctx
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL), chromedp.WaitEnabled(chromedp.ID("verify-btn"))); err != nil {
		return nil, fmt.Errorf("load %s and wait for the verify button: %w", pageURL, err)
	}
	type pageState struct {
		StatusClass string   `json:"statusClass"`
		StatusWord  string   `json:"statusWord"`
		Assets      []string `json:"assets"`
		AttURL      string   `json:"attURL"`
		AttID       string   `json:"attID"`
	}
	st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](`(() => {
		const latest = document.getElementById("latest");
		return {
			statusClass: document.getElementById("status").className,
			statusWord: document.getElementById("status-word").textContent.trim(),
			assets: Array.from(document.querySelectorAll("article.asset")).map(a =>
				a.id.replace(/^asset-/, "") + " " + Array.from(a.classList).filter(c => c.startsWith("st-")).join(" ")),
			attURL: latest ? new URL(latest.dataset.url, location.href).href : "",
			attID: latest ? latest.dataset.id : "",
		};
	})()`))
	if err != nil {
		return nil, fmt.Errorf("read the page: %w", err)
	}
	res := &browserResult{StatusClass: st.StatusClass, StatusWord: st.StatusWord, Assets: st.Assets, AttURL: st.AttURL, AttID: st.AttID}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("verify-btn")), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`(() => { const c = document.getElementById("verify-result").className; return c.includes(" ok") || c.includes(" bad"); })()`,
			chromedp.WithPollingTimeout(60*time.Second))(ctx, tg)
		return err
	})); err != nil {
		return res, fmt.Errorf("press verify and wait for its result: %w", err)
	}
	cls, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("verify-result"), "class"))
	if err != nil {
		return res, err
	}
	text, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("verify-result")))
	if err != nil {
		return res, err
	}
	res.VerifyClass, res.VerifyText = cls.Value, strings.TrimSpace(text)
	res.Errors = append(res.Errors, b.Errors()...)
	return res, nil
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// checkKoshverify downloads attURL (the page's link to the latest
// attestation; empty: the latest from the public REST API) pinned to koshd's
// certificate, and runs koshverify attestation on it.
func checkKoshverify(ctx context.Context, info *demoinfo.Info, run, bin, attURL string) error {
	pem, err := os.ReadFile(info.Koshd.TLSCert)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("no certificate in %s", info.Koshd.TLSCert)
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer c.CloseIdleConnections()
	get := func(u string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s: %.200s", u, resp.Status, body)
		}
		return body, err
	}
	if attURL == "" {
		b, err := get("https://" + info.Koshd.RESTAddr + "/v1/public/attestations/latest")
		if err != nil {
			return err
		}
		var latest struct {
			Attestation struct {
				ID string `json:"id"`
			} `json:"attestation"`
		}
		if err := json.Unmarshal(b, &latest); err != nil || latest.Attestation.ID == "" {
			return fmt.Errorf("latest attestation: cannot read its id (%v): %.200s", err, b)
		}
		attURL = "https://" + info.Koshd.RESTAddr + "/attestations/" + latest.Attestation.ID + ".json"
	}
	doc, err := get(attURL)
	if err != nil {
		return err
	}
	dir := filepath.Join(run, "check")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	file := filepath.Join(dir, "latest.json")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		return err
	}
	bt := info.Btcd
	args := []string{"attestation", file,
		"--chain", info.Attest.Dir, "--issuer", info.Attest.IssuerKey,
		"--btcd", bt.RPCAddr, "--rpcuser", bt.RPCUser, "--rpcpass", bt.RPCPass, "--rpccert", bt.CertPath}
	if g := info.Attest.AnchorGenesis; g != "" {
		args = append(args, "--anchor-genesis", g)
	}
	if bob, ok := info.Lnd["bob"]; ok {
		// bob's lnd stands for the verifier's own.
		args = append(args, "--lnd", bob.RPCAddr, "--lnd.tlscert", bob.TLSCert, "--lnd.macaroon", bob.ReadonlyMacaroon)
	}
	fmt.Printf("check: koshverify on %s (saved as %s)\n", attURL, file)
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "koshverify"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		fmt.Println("  " + l)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return fmt.Errorf("koshverify exited %d", ee.ExitCode())
	case err != nil:
		return err
	case !strings.Contains(out.String(), "OK: every check holds."):
		return errors.New("koshverify did not say OK")
	case info.Attest.AnchorGenesis != "" && !strings.Contains(out.String(), "anchored in bitcoin:"):
		return errors.New("koshverify did not follow the bitcoin anchors")
	}
	fmt.Println("check: ok   koshverify: every check holds (signature, sums, coverage, proofs of control, hash chain, issuer key, every UTXO and channel against btcd, the bitcoin anchors back to the genesis, announced channels against lnd bob)")
	return checkEveryOutputProven(doc)
}

// checkEveryOutputProven fails unless the attestation is version 2 and every
// output old enough to count has a good proof of control, and every
// channel is announced: the demo proves all it holds.
func checkEveryOutputProven(doc []byte) error {
	a, err := verify.Document(doc)
	if err != nil {
		return err
	}
	if a.Version < 2 {
		return fmt.Errorf("the attestation is version %d; proofs of control need version 2", a.Version)
	}
	for i := range a.Reserves.Onchain {
		u := &a.Reserves.Onchain[i]
		if why := a.UncountedReason(u); why != "" && u.Confirmations >= a.Counting.MinConfirmations {
			return fmt.Errorf("output %s (%s) does not count: %s", u.Outpoint, u.Source, why)
		}
	}
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			if c.Evidence != attest.EvidenceAnnounced {
				return fmt.Errorf("channel %s of %s is only claimed", c.ChannelPoint, n.Name)
			}
		}
	}
	fmt.Printf("check: ok   every one of the %d outputs is proven by one of %d proofs of control, every channel announced\n",
		len(a.Reserves.Onchain), len(a.Reserves.Proofs))
	return nil
}
