package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

const usage = `koshverify checks Kosh proofs of reserves without trusting Kosh.

Usage:
  koshverify attestation FILE|URL [--chain DIR|URL-PREFIX] [--first HASH] [--issuer KEY] [anchor flags] [policy flags] [node flags]
      Checks the attestation's canonical form, issuer and Lightning node
      signatures, every reserve total against the listed outputs and
      channels, the counted totals against the counting rules, and the
      coverage arithmetic. With --chain it follows the hash chain back,
      through DIR (a directory of attestation files) or URL-PREFIX (where
      <seq as 6 digits>-<hash>.json files are served), to the attestation
      with hash --first, or to the first attestation of the issuer, and
      checks every attestation on the way. A DIR holding two different
      attestations with the same number under the issuer's key (a fork,
      or a history restarted at 1) fails, naming both.
  koshverify inclusion --attestation FILE|URL --proof FILE [--receipt FILE] [--issuer KEY] [policy flags]
      Checks a holder's inclusion bundle (asset, account, salt, balance and
      proof, as the wallet API returns it) against the attestation. With
      --receipt it compares the tree with an issuer-signed receipt taken at
      or before the attestation's journal cut-off: in a version 3
      attestation the leaf commits to the account's last journal entry, so
      a receipt of a later entry, or of that entry with another balance,
      is a conflict, and an older receipt is superseded; in older versions
      a receipt showing more than the attestation is a conflict.
  koshverify absent --attestation FILE|URL --statement FILE [--receipt FILE] [--issuer KEY] [policy flags]
      Checks the issuer's signed statement that an account is absent from
      an asset's liability tree of a version 3 attestation (what the wallet
      API returns instead of a bundle), and prints it. With --receipt it
      flags the statement as a conflict when the receipt shows an entry
      after the statement's last entry, or that entry with a balance.
  koshverify receipt FILE --issuer KEY
      Checks a balance receipt's signature under the issuer's key.

Policy flags (attestation, inclusion, absent): a document that verifies is judged
by your own standard, not the issuer's; the issuer's minimum coverage, its
"backed" and its stale sources are shown as "issuer declares: ...".
  --min-coverage R       your minimum coverage of every asset with
                         liabilities, as a ratio (default 1.00): counted
                         reserves over the worth of all liabilities
  --max-price-age D      how much older than the attestation a price and
                         each of its sources' quotes may be (default 1h);
                         a price dated after it, or not marked manual yet
                         listing no sources, always fails; a manual price
                         is printed as a WARNING
  --max-behind N         with a node: the attested block may be at most N
                         blocks behind your node's tip (default 6); 0 turns
                         this off, to check an attestation you know is old

Without node flags, a version 2 attestation's proofs of control are still
checked in full (every signature through btcd's script interpreter), and the
output says which outputs are listed but not counted, and why.

Node flags (attestation): check every listed UTXO and channel point against
your own node: that it was created in the best chain at the stated
confirmations, holds the stated value (and, version 2, script), and was
unspent at the attested block; and that each proof of control's challenge
block is in your best chain. Also that the attested block is recent
(--max-behind), and a WARNING says how much of the listed reserves has
moved since the attested block (outputs spent by your node's tip).
  --btcd HOST:PORT       btcd RPC (TLS; needs --rpccert)
  --bitcoind HOST:PORT   bitcoind RPC (plain HTTP: keep it on loopback)
  --rpcuser, --rpcpass   RPC credentials
  --rpccert FILE         btcd's rpc.cert
  --maxscan N            blocks to scan for spends of an output spent after
                         the attested block (default 2016)
  --lnd HOST:PORT        your lnd: every channel the attestation calls
                         announced must be in its graph, same channel point
                         and capacity, with the issuer's node as one end
  --lnd.tlscert FILE, --lnd.macaroon FILE   for --lnd (readonly.macaroon)

Anchor flags (attestation): with node flags, the bitcoin anchor the
attestation lists and every one before and after it are followed on your
node's chain; an anchored seq the history holds must commit to its id.
  --anchor-genesis TXID  the issuer's genesis anchor, recorded before: the
                         anchors must lead back to it (a restart fails)
  --require-anchor       fail an attestation that lists no anchor (without
                         it, a missing anchor is a WARNING)

--issuer KEY is the issuer's x-only public key (64 hex digits); when given,
documents signed by any other key fail. URLs must be https, or http to a
loopback address; documents are limited to 64 MiB.

Exit status: 0 when every check holds, 1 when a check fails, 2 on a usage
error. Each failure is printed as one sentence.
`

// Run executes koshverify with args (without the program name) and returns
// the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	r := &runner{ctx: ctx, out: stdout, errw: stderr}
	var err error
	switch args[0] {
	case "attestation":
		err = r.attestation(args[1:])
	case "inclusion":
		err = r.inclusion(args[1:])
	case "absent":
		err = r.absent(args[1:])
	case "receipt":
		err = r.receipt(args[1:])
	default:
		fmt.Fprintf(stderr, "unknown command %q; run koshverify -h\n", args[0])
		return 2
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s; run koshverify -h\n", ue.msg)
		return 2
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case err != nil:
		fmt.Fprintln(stderr, sentence(err.Error()))
		return 1
	}
	if r.failures > 0 {
		fmt.Fprintf(stdout, "FAILED: %d check(s) did not hold.\n", r.failures)
		return 1
	}
	fmt.Fprintln(stdout, "OK: every check holds.")
	return 0
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// runner carries the output and counts failures.
type runner struct {
	ctx      context.Context
	out      io.Writer
	errw     io.Writer
	failures int
}

// sentence capitalizes s and ends it with a period.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// report prints every failure in err, one sentence per line.
func (r *runner) report(err error) {
	if err == nil {
		return
	}
	var p attest.Problems
	if errors.As(err, &p) {
		for _, e := range p {
			r.fail(e.Msg)
		}
		return
	}
	r.fail(err.Error())
}

func (r *runner) fail(msg string) {
	r.failures++
	fmt.Fprintln(r.out, "FAIL: "+sentence(msg))
}

func (r *runner) okf(format string, args ...any) {
	fmt.Fprintf(r.out, "ok:   "+format+"\n", args...)
}

func (r *runner) notef(format string, args ...any) {
	fmt.Fprintf(r.out, "note: "+format+"\n", args...)
}

// parseArgs parses flags that may come before or after positional
// arguments, and returns the positionals.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// policyFlags are the holder's policy (verify.Policy) as flags.
type policyFlags struct {
	minCoverage string
	maxPriceAge time.Duration
	maxBehind   int64
}

func (p *policyFlags) register(fs *flag.FlagSet, node bool) {
	d := verify.DefaultPolicy()
	fs.StringVar(&p.minCoverage, "min-coverage", verify.FormatRatio(big.NewInt(d.MinCoverageBps)), "your minimum coverage of every asset, as a ratio")
	fs.DurationVar(&p.maxPriceAge, "max-price-age", d.MaxPriceAge, "how much older than the attestation a price may be")
	p.maxBehind = d.MaxBehind
	if node {
		fs.Int64Var(&p.maxBehind, "max-behind", d.MaxBehind, "blocks the attested block may be behind your node's tip (0: not checked)")
	}
}

// policy returns the holder's policy the flags give.
func (p *policyFlags) policy() (verify.Policy, error) {
	bps, err := verify.ParseRatio(p.minCoverage)
	if err != nil {
		return verify.Policy{}, usageError{"--min-coverage " + err.Error()}
	}
	if p.maxPriceAge < time.Second || p.maxPriceAge%time.Second != 0 {
		return verify.Policy{}, usageError{fmt.Sprintf("--max-price-age %s is not a whole number of seconds of at least 1s", p.maxPriceAge)}
	}
	if p.maxBehind < 0 {
		return verify.Policy{}, usageError{fmt.Sprintf("--max-behind %d is negative", p.maxBehind)}
	}
	return verify.Policy{MinCoverageBps: bps, MaxPriceAge: p.maxPriceAge, MaxBehind: p.maxBehind}, nil
}

type nodeFlags struct {
	btcd, bitcoind, user, pass, cert string
	maxScan                          int64
	lnd, lndCert, lndMacaroon        string
}

func (n *nodeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.btcd, "btcd", "", "btcd RPC host:port")
	fs.StringVar(&n.bitcoind, "bitcoind", "", "bitcoind RPC host:port")
	fs.StringVar(&n.user, "rpcuser", "", "RPC user")
	fs.StringVar(&n.pass, "rpcpass", "", "RPC password")
	fs.StringVar(&n.cert, "rpccert", "", "btcd rpc.cert")
	fs.Int64Var(&n.maxScan, "maxscan", 2016, "blocks to scan for later spends")
	fs.StringVar(&n.lnd, "lnd", "", "your lnd's gRPC host:port, to check announced channels in its graph")
	fs.StringVar(&n.lndCert, "lnd.tlscert", "", "your lnd's tls.cert")
	fs.StringVar(&n.lndMacaroon, "lnd.macaroon", "", "a macaroon of your lnd that may read the graph (readonly.macaroon)")
}

func (r *runner) attestation(args []string) error {
	fs := flag.NewFlagSet("attestation", flag.ContinueOnError)
	chainSrc := fs.String("chain", "", "directory or URL prefix of earlier attestations")
	first := fs.String("first", "", "hash of the attestation the chain must reach")
	issuer := fs.String("issuer", "", "expected issuer key")
	genesis := fs.String("anchor-genesis", "", "txid of the issuer's genesis anchor, recorded before: the anchors must lead back to it")
	requireAnchor := fs.Bool("require-anchor", false, "fail an attestation that lists no bitcoin anchor")
	var nf nodeFlags
	nf.register(fs)
	var pf policyFlags
	pf.register(fs, true)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"attestation takes exactly one FILE or URL"}
	}
	if nf.btcd != "" && nf.bitcoind != "" {
		return usageError{"give --btcd or --bitcoind, not both"}
	}
	pol, err := pf.policy()
	if err != nil {
		return err
	}
	b, err := load(r.ctx, pos[0])
	if err != nil {
		return err
	}
	a := r.checkDocument(b, pos[0], *issuer, pol)
	if a == nil {
		return nil
	}
	if *requireAnchor && a.Anchor == nil {
		r.fail(fmt.Sprintf("attestation %d lists no bitcoin anchor, and you require one (--require-anchor): nothing on the bitcoin chain shows that this is the issuer's one history", a.Seq))
	}
	var history []*attest.Attestation
	if *chainSrc != "" || *first != "" {
		history = r.checkChain(a, *chainSrc, *first, *issuer)
	}
	if nf.btcd != "" || nf.bitcoind != "" {
		client, err := dial(r.ctx, nf)
		if err != nil {
			return err
		}
		defer client.Close()
		r.checkOnChain(a, client, nf.maxScan)
		r.checkRecent(a, client, pol)
		r.checkAnchors(a, client, history, *genesis, nf.maxScan)
	} else if a.Version >= 2 {
		r.notef("not checked without your node (--btcd or --bitcoind): that the outputs, their scripts and values, are on the chain and unspent at the attested block, and that each proof's challenge block is in the best chain")
	}
	if a.Version >= 2 {
		if nf.lnd != "" {
			client, err := dialLnd(nf)
			if err != nil {
				return err
			}
			defer client.Close()
			r.checkAnnounced(r.ctx, a, client)
		} else if announced(a) > 0 {
			r.notef("not checked without your lnd (--lnd): that the %d announced channels are in the Lightning graph with the issuer's node as one end", announced(a))
		}
	}
	return nil
}

// checkRecent fails the attestation when its block is more than the
// policy's MaxBehind blocks behind the tip of the holder's node.
func (r *runner) checkRecent(a *attest.Attestation, c chainClient, pol verify.Policy) {
	if pol.MaxBehind == 0 {
		r.notef("not checked (--max-behind 0): how far the attested block %d is behind your node's tip", a.Block.Height)
		return
	}
	tip, err := c.BestHeight(r.ctx)
	if err != nil {
		r.fail(fmt.Sprintf("your node cannot give its block count: %v", err))
		return
	}
	if e := pol.Behind(a, tip); e != nil {
		r.fail(e.Msg)
		return
	}
	r.okf("the attested block %d is %d blocks behind your node's tip %d, at most your limit of %d", a.Block.Height, max(tip-a.Block.Height, 0), tip, pol.MaxBehind)
}

// describeControl prints what the version 2 evidence shows: outputs
// counted with a proof of control, outputs listed but not counted and why,
// and claimed channels.
func (r *runner) describeControl(a *attest.Attestation) {
	proven := 0
	for i := range a.Reserves.Onchain {
		u := &a.Reserves.Onchain[i]
		if why := a.UncountedReason(u); why != "" {
			fmt.Fprintf(r.out, "  not counted: on-chain output %s (%d sats, %s): %s\n", u.Outpoint, u.Value, u.Source, why)
			continue
		}
		proven++
	}
	fmt.Fprintf(r.out, "  proofs of control: %d proofs; %d of %d outputs counted with one (proof age %d blocks)\n",
		len(a.Reserves.Proofs), proven, len(a.Reserves.Onchain), *a.Counting.ProofMaxAge)
	for _, n := range a.Reserves.Lightning {
		for _, c := range n.Channels {
			if c.Evidence == attest.EvidenceClaimed {
				how := "not counted"
				if a.Counting.LightningClaimed.Counts && c.Counted > 0 {
					how = "counted under the issuer's claimed-channel rule"
				}
				fmt.Fprintf(r.out, "  claimed channel (no third-party evidence it is %s's): %s, %d sats local, %s\n", n.Name, c.ChannelPoint, c.LocalBalance, how)
			}
		}
	}
}

// announced counts the announced channels of a.
func announced(a *attest.Attestation) int {
	n := 0
	for _, node := range a.Reserves.Lightning {
		for _, c := range node.Channels {
			if c.Evidence == attest.EvidenceAnnounced {
				n++
			}
		}
	}
	return n
}

// checkDocument verifies one attestation, prints its figures and, when it
// verifies, judges it by the holder's policy; it returns the parsed
// document, or nil when it cannot be parsed.
func (r *runner) checkDocument(b []byte, src, issuer string, pol verify.Policy) *attest.Attestation {
	a, err := verify.Document(b)
	if a == nil {
		r.report(err)
		return nil
	}
	id, _ := a.ID()
	fmt.Fprintf(r.out, "attestation %d %s\n  issuer %s, %s, block %d %s\n", a.Seq, id, a.IssuerKey, a.Time, a.Block.Height, a.Block.Hash)
	t := a.Reserves.Totals
	fmt.Fprintf(r.out, "  on-chain: %d outputs, %d sats listed, %d sats with %d+ confirmations, %d sats counted (haircut %d bps)\n",
		len(a.Reserves.Onchain), t.Onchain.Listed, t.Onchain.Eligible, a.Counting.MinConfirmations, t.Onchain.Counted, a.Counting.Onchain.HaircutBps)
	fmt.Fprintf(r.out, "  Lightning: %d nodes; channel capacity %d sats (verifiable on-chain, an upper bound); local balances %d sats (claims signed by each node); %d sats counted (haircut %d bps)\n",
		len(a.Reserves.Lightning), t.Lightning.Capacity, t.Lightning.LocalBalance, t.Lightning.Counted, a.Counting.Lightning.HaircutBps)
	for _, as := range a.Assets {
		shares := ""
		if l := as.Liabilities; l.Shares > 0 && l.Window != nil {
			shares = fmt.Sprintf(", each balance in %d shares within windows of 2^%d positions", l.Shares, *l.Window)
		}
		fmt.Fprintf(r.out, "  liabilities %s: %s base units over %s accounts (tree height %d%s, root %s), policy %d bps\n",
			as.Code, as.Liabilities.Total, as.Liabilities.Accounts, as.Liabilities.Height, shares, as.Liabilities.Root, as.MinCoverageBps)
	}
	for _, ia := range a.IssuerAccounts {
		fmt.Fprintf(r.out, "  held by the issuer: %s, account %s: %d base units of %s\n", ia.Name, ia.Account, ia.Balance, ia.Asset)
	}
	c := a.Coverage
	fmt.Fprintf(r.out, "  coverage: %d sats counted, %d sats worth at 1.00, %s bps\n", c.CountedReserves, c.Backing, c.Bps.String())
	if a.Version >= 2 {
		r.describeControl(a)
	}
	if err != nil {
		r.report(err)
	} else if a.Version >= 2 {
		r.okf("signature, canonical form, sums, counting rules, coverage and proofs of control (every script run through btcd's interpreter) of %s", src)
	} else {
		r.okf("signature, canonical form, sums, counting rules and coverage of %s", src)
	}
	if err == nil && len(a.IssuerAccounts) > 0 {
		r.okf("each of the %d balance(s) held by the issuer itself is in its asset's liability tree with exactly that balance (docs/proofs.md 4.15)", len(a.IssuerAccounts))
	}
	if issuer != "" && a.IssuerKey != issuer {
		r.fail(fmt.Sprintf("the attestation is signed by issuer key %s, not by the expected %s", a.IssuerKey, issuer))
	}
	if err == nil {
		r.judge(a, pol)
	} else {
		r.notef("not judged by your policy: the document does not verify")
	}
	return a
}

// judge prints what the issuer declares, then the holder's policy's
// verdict: warnings, failures, or what held.
func (r *runner) judge(a *attest.Attestation, pol verify.Policy) {
	v := pol.Check(a)
	for _, d := range v.Declarations {
		fmt.Fprintf(r.out, "issuer declares: %s\n", d)
	}
	for _, w := range v.Warnings {
		fmt.Fprintf(r.out, "WARNING: %s\n", sentence(w))
	}
	for _, f := range v.Failures {
		r.fail(f.Msg)
	}
	if len(v.Failures) == 0 {
		r.okf("by your policy: %s", v.Summary)
	}
}

// checkChain walks back from a through src to first (or to the issuer's
// first attestation) and verifies every link and document. It returns the
// attestations read, oldest first (a included).
func (r *runner) checkChain(a *attest.Attestation, src, first, issuer string) []*attest.Attestation {
	list := []*attest.Attestation{a}
	var dir map[string][]byte
	if src != "" && !isURL(src) {
		var err error
		if dir, err = readDir(src); err != nil {
			r.fail(err.Error())
			return nil
		}
		r.checkForks(a, dir, src)
	}
	cur := a
	for {
		id, _ := cur.ID()
		if first != "" && id == first || cur.Prev == "" {
			break
		}
		if src == "" {
			r.fail(fmt.Sprintf("attestation %d is not the given first attestation %s and no --chain was given to follow it back", cur.Seq, first))
			return nil
		}
		var b []byte
		if dir != nil {
			b = dir[cur.Prev]
			if b == nil {
				r.fail(fmt.Sprintf("attestation %d names predecessor %s, which is not in %s", cur.Seq, cur.Prev, src))
				return nil
			}
		} else {
			u := strings.TrimSuffix(src, "/") + "/" + fmt.Sprintf("%06d-%s.json", cur.Seq-1, cur.Prev)
			var err error
			if b, err = load(r.ctx, u); err != nil {
				r.fail(err.Error())
				return nil
			}
		}
		prev, err := verify.Document(b)
		if prev == nil {
			r.fail(fmt.Sprintf("predecessor %s of attestation %d cannot be read: %v", cur.Prev, cur.Seq, err))
			return nil
		}
		if err != nil {
			for _, e := range err.(attest.Problems) {
				r.fail(fmt.Sprintf("in predecessor attestation %d: %s", prev.Seq, e.Msg))
			}
		}
		if issuer != "" && prev.IssuerKey != issuer {
			r.fail(fmt.Sprintf("predecessor attestation %d is signed by issuer key %s, not by the expected %s", prev.Seq, prev.IssuerKey, issuer))
		}
		list = append(list, prev)
		cur = prev
		if len(list) > 1_000_000 {
			r.fail("the chain is longer than a million attestations")
			return nil
		}
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	before := r.failures
	r.report(verify.Chain(list, first))
	if r.failures == before {
		to := "the issuer's first attestation"
		if first != "" {
			to = "attestation " + first
		}
		r.okf("hash chain of %d attestation(s) back to %s", len(list), to)
	}
	return list
}

// checkForks fails when dir holds two different attestations with the same
// sequence number under the issuer key of a: a forked history (two #1s, a
// restart, or two branches), whichever of them a's chain runs through.
func (r *runner) checkForks(a *attest.Attestation, dir map[string][]byte, src string) {
	bySeq := map[int64][]string{}
	for id, b := range dir {
		d, err := attest.Parse(b)
		if err != nil || d.IssuerKey != a.IssuerKey {
			continue
		}
		bySeq[d.Seq] = append(bySeq[d.Seq], id)
	}
	if id, err := a.ID(); err == nil && dir[id] == nil {
		bySeq[a.Seq] = append(bySeq[a.Seq], id)
	}
	seqs := make([]int64, 0, len(bySeq))
	for seq, ids := range bySeq {
		if len(ids) > 1 {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		ids := bySeq[seq]
		slices.Sort(ids)
		r.fail(fmt.Sprintf("%s holds %d different attestations numbered %d under issuer key %s (%s): the issuer has published a forked history",
			src, len(ids), seq, a.IssuerKey, strings.Join(ids, ", ")))
	}
}

// readDir reads every *.json file in dir that parses as an attestation,
// indexed by hash.
func readDir(dir string) (map[string][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s holds no .json files", dir)
	}
	m := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil || len(b) > maxFetch {
			continue
		}
		a, err := attest.Parse(b)
		if err != nil {
			continue
		}
		if id, err := a.ID(); err == nil {
			m[id] = b
		}
	}
	return m, nil
}

// holderArgs parses the flags of a holder's command (inclusion, absent):
// --attestation, the document flag named doc, --receipt, --issuer and the
// policy flags. It checks the attestation by the holder's policy and
// loads the document; a nil attestation means the check failed (and was
// reported).
func (r *runner) holderArgs(cmd, doc, docHelp string, args []string) (a *attest.Attestation, b []byte, receiptSrc string, err error) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	attSrc := fs.String("attestation", "", "attestation file or URL")
	docSrc := fs.String(doc, "", docHelp)
	rcpt := fs.String("receipt", "", "balance receipt file")
	issuer := fs.String("issuer", "", "expected issuer key")
	var pf policyFlags
	pf.register(fs, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, nil, "", err
	}
	if len(pos) != 0 || *attSrc == "" || *docSrc == "" {
		return nil, nil, "", usageError{fmt.Sprintf("%s needs --attestation and --%s, and no other arguments", cmd, doc)}
	}
	pol, err := pf.policy()
	if err != nil {
		return nil, nil, "", err
	}
	ab, err := load(r.ctx, *attSrc)
	if err != nil {
		return nil, nil, "", err
	}
	if a = r.checkDocument(ab, *attSrc, *issuer, pol); a == nil {
		return nil, nil, "", nil
	}
	if b, err = load(r.ctx, *docSrc); err != nil {
		return nil, nil, "", err
	}
	return a, b, *rcpt, nil
}

// compareReceipt loads the receipt at src and reports cmp's verdict on it:
// agreeing (ok's sentence), not applicable (a note) or a failure.
func (r *runner) compareReceipt(src string, cmp func(*receipt.Receipt) error, ok func(*receipt.Receipt) string) error {
	rb, err := load(r.ctx, src)
	if err != nil {
		return err
	}
	rc, err := receipt.ParseReceipt(rb)
	if err != nil {
		r.report(err)
		return nil
	}
	err = cmp(rc)
	switch {
	case err == nil:
		r.okf("%s", ok(rc))
	case errors.Is(err, attest.ErrReceiptNotApplicable):
		r.notef("%s", sentence(err.Error()))
	default:
		r.report(err)
	}
	return nil
}

func (r *runner) inclusion(args []string) error {
	a, bb, receiptSrc, err := r.holderArgs("inclusion", "proof", "inclusion bundle file or URL", args)
	if a == nil || err != nil {
		return err
	}
	bundle, err := attest.ParseBundle(bb)
	if err != nil {
		r.report(err)
		return nil
	}
	if err := verify.Bundle(a, bundle); err != nil {
		r.report(err)
		if receiptSrc != "" {
			// A receipt is compared with the balance a verified proof shows.
			r.notef("the receipt was not checked, because the inclusion proof did not verify")
		}
		return nil
	}
	r.okf("account %s holds %d in %s in attestation %d (%s)", bundle.Account, bundle.Balance, bundle.Asset, a.Seq, whereIn(a, bundle))
	if receiptSrc == "" {
		return nil
	}
	return r.compareReceipt(receiptSrc, func(rc *receipt.Receipt) error { return verify.Receipt(a, bundle, rc) }, func(rc *receipt.Receipt) string {
		if bundle.Version == 2 {
			return fmt.Sprintf("the receipt at journal sequence %d (balance %d) agrees with the attestation's leaf", rc.Seq, rc.Balance)
		}
		return fmt.Sprintf("the receipt at journal sequence %d (balance %d) does not show more than the attestation", rc.Seq, rc.Balance)
	})
}

// whereIn says where a verified bundle's leaves are.
func whereIn(a *attest.Attestation, b *attest.Bundle) string {
	if b.Version == 1 {
		return fmt.Sprintf("leaf %d of %s accounts", b.Proof.LeafIndex, accountsOf(a, b.Asset))
	}
	pos := make([]string, len(b.ShareProof.Shares))
	for i, s := range b.ShareProof.Shares {
		pos[i] = fmt.Sprint(s.Position)
	}
	return fmt.Sprintf("%d shares at positions %s among %s accounts; last entry at journal sequence %d",
		len(pos), strings.Join(pos, ", "), accountsOf(a, b.Asset), b.Seq)
}

// absent checks an issuer's absence statement (docs/proofs.md 5.1).
func (r *runner) absent(args []string) error {
	a, sb, receiptSrc, err := r.holderArgs("absent", "statement", "absence statement file or URL", args)
	if a == nil || err != nil {
		return err
	}
	st, err := attest.ParseAbsence(sb)
	if err != nil {
		r.report(err)
		return nil
	}
	if err := verify.Absence(a, st); err != nil {
		r.report(err)
		return nil
	}
	last := "it had no entry in that asset"
	if st.LastSeq > 0 {
		last = fmt.Sprintf("its last entry in that asset at or before the cut-off was journal sequence %d", st.LastSeq)
	}
	r.okf("the issuer states that account %s is absent from the %s liability tree of attestation %d (journal cut-off %d): %s",
		st.Account, st.Asset, a.Seq, a.JournalCutoff, last)
	if receiptSrc == "" {
		return nil
	}
	return r.compareReceipt(receiptSrc, func(rc *receipt.Receipt) error { return verify.AbsenceReceipt(a, st, rc) }, func(rc *receipt.Receipt) string {
		return fmt.Sprintf("the receipt at journal sequence %d (balance %d) agrees with the statement", rc.Seq, rc.Balance)
	})
}

func accountsOf(a *attest.Attestation, code string) string {
	for _, as := range a.Assets {
		if as.Code == code {
			return as.Liabilities.Accounts.String()
		}
	}
	return "?"
}

func (r *runner) receipt(args []string) error {
	fs := flag.NewFlagSet("receipt", flag.ContinueOnError)
	issuer := fs.String("issuer", "", "issuer key (64 hex)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *issuer == "" {
		return usageError{"receipt takes one FILE and --issuer KEY"}
	}
	b, err := load(r.ctx, pos[0])
	if err != nil {
		return err
	}
	rc, err := receipt.ParseReceipt(b)
	if err != nil {
		r.report(err)
		return nil
	}
	if err := rc.Verify(*issuer); err != nil {
		r.report(err)
		return nil
	}
	r.okf("receipt: account %s holds %d in %s after journal entry %d at %s, signed by %s", rc.Account, rc.Balance, rc.Asset, rc.Seq, rc.Time, rc.IssuerKey)
	return nil
}
