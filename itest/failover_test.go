package itest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The lease timings of the failover test: short, so that the test is
// quick; the bound a follower takes over within is ttl + renew, or
// 2·ttl + renew if the leader paused inside a fenced transaction (see
// package leader).
const (
	foTTL   = 2 * time.Second
	foRenew = 600 * time.Millisecond
	// foSlack covers the test's own polling of the status (every 100 ms)
	// and the scheduling of three koshd, two lnd and btcd on two cores.
	foSlack = 2 * time.Second
)

// copyDataDir copies the first koshd's data directory (TLS pair, macaroon
// root key and macaroons, attestation key, ledger.id) into another's, as
// an operator deploying several koshd does: they must share the issuer's
// key, the macaroon root key and the TLS certificate (docs/deployment.md).
func copyDataDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			if d.Name() == "attestations" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		if strings.HasSuffix(d.Name(), ".log") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := os.OpenFile(filepath.Join(to, rel), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	})
	if err != nil {
		t.Fatalf("copy the data directory: %v", err)
	}
}

// status reads GET /v1/public/status.
func (p *koshProc) status() (*koshv1.GetStatusResponse, error) {
	var resp koshv1.GetStatusResponse
	if err := p.rest("GET", "/v1/public/status", "", nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// metricSum adds up every sample of a metric, whatever its labels.
func (p *koshProc) metricSum(name string) (float64, error) {
	res, err := p.http.Get("https://" + p.restAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var sum float64
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, err
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("metric %s not on /metrics", name)
	}
	return sum, nil
}

// transferLoad moves one unit back and forth between two accounts through
// every koshd at once (one client each) and records every transfer koshd
// acknowledged.
type transferLoad struct {
	mu    sync.Mutex
	acked []string
	fails map[int]int
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startLoad(prefix string, procs []*koshProc, a, b string) *transferLoad {
	l := &transferLoad{stop: make(chan struct{}), fails: map[int]int{}}
	for i, p := range procs {
		// Each client keeps its own connection: the test swaps nothing
		// under it (koshProc.conn is not touched after the start).
		issuer, admin := p.issuer, p.admin
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				from, to := a, b
				if n%2 == 1 {
					from, to = b, a
				}
				key := fmt.Sprintf("%s-%d-%d", prefix, i, n)
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				_, err := issuer.Transfer(metadata.AppendToOutgoingContext(ctx, "macaroon", admin), &koshv1.TransferRequest{
					Asset: payAsset, FromAccountId: from, ToAccountId: to, Amount: 1, IdempotencyKey: key})
				cancel()
				l.mu.Lock()
				if err == nil {
					l.acked = append(l.acked, key)
				} else {
					l.fails[i]++
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	return l
}

func (l *transferLoad) finish() ([]string, map[int]int) {
	close(l.stop)
	l.wg.Wait()
	return l.acked, l.fails
}

// idOf is a koshd's leader id, from its status.
func idOf(t *testing.T, p *koshProc) string {
	t.Helper()
	s, err := p.status()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return s.Leader.Id
}

// waitLeader waits until one of procs reports that it leads, and returns
// it and how long that took.
func waitLeader(t *testing.T, procs []*koshProc, within time.Duration) (*koshProc, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		for _, p := range procs {
			if s, err := p.status(); err == nil && s.Leader.Leading {
				return p, time.Since(start)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no koshd leads after %s", within)
	return nil, 0
}

// TestFailover runs three koshd on one PostgreSQL schema against real btcd
// and lnd, transfers through all three, and makes the leader fail twice
// under that load: killed (SIGKILL, by the payments crash hook, between
// the burn of a redemption and its payout) and stopped (SIGSTOP, then
// SIGCONT after its lease expired). Each time a follower takes over within
// the lease's bound; then: the redemption in flight is paid exactly once,
// every acknowledged transfer is in the journal, the journal's hash chain
// verifies (an attestation freezes it), attestation seqs run 1..n with no
// gap or repeat and each names the one before, the attestation runs missed
// in the gap are counted, a follower refuses Attest naming the leader, and
// the resumed old leader has stopped leading and its late writes were
// refused.
func TestFailover(t *testing.T) {
	h := harness.Shared(t)
	nodes := h.NewNodes(t, "foalice", "fobob")
	alice, bob := nodes[0], nodes[1]
	h.FundNode(t, alice, 2_000_000)
	h.OpenChannel(t, alice, bob, 1_000_000, 300_000)
	h.Mine(t, 3)
	h.WaitSynced(t, alice, bob)

	// The test's own PostgreSQL cluster: the last phase restarts it.
	pg := newPGCluster(t)
	dsn := pg.DSN()
	raw, err := sql.Open("pgx/v5", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })

	b := h.Btcd()
	paymentsLnd := fmt.Sprintf("name=%s,host=%s,tlscert=%s,macaroon=%s", alice.Name, alice.RPCAddr,
		alice.TLSCertPath, alice.AdminMacaroonPath)
	common := []string{
		"--db.backend=postgres", "--db.postgres.dsn=" + dsn,
		"--leader.ttl=" + foTTL.String(), "--leader.renew=" + foRenew.String(),
		"--chain.backend=btcd", "--chain.rpchost=" + b.RPCAddr, "--chain.rpcuser=" + b.RPCUser,
		"--chain.rpcpass=" + b.RPCPass, "--chain.rpccert=" + b.CertPath, "--chain.pollinterval=200ms", "--chain.minconf=1",
		"--chain.birthday=" + strconv.FormatInt(tipHeight(t, h)+1, 10),
		"--lnd.node=" + lndSpec(alice), "--lnd.pollinterval=300ms", "--lnd.countclaimed",
		"--payments.lnd=" + paymentsLnd, "--payments.poll=200ms", "--payments.paytimeout=30s",
		"--attest.schedule=@every 2s",
	}
	procs := make([]*koshProc, 3)
	for i := range procs {
		procs[i] = newKoshProc(t, append([]string{fmt.Sprintf("--leader.id=k%d", i+1)}, common...))
	}
	// k1 starts first, so that it leads, with the crash hook armed at the
	// point between a redemption's burn and its payout.
	procs[0].start(faultEnv + "=redeem:before-send")
	if p, _ := waitLeader(t, procs[:1], 10*time.Second); p != procs[0] {
		t.Fatal("k1 does not lead")
	}
	for _, p := range procs[1:] {
		copyDataDir(t, procs[0].dir, p.dir)
		p.start()
	}
	for _, p := range procs {
		harness.WaitFor(t, func() error {
			s, err := p.status()
			if err != nil {
				return err
			}
			if s.Leader.Holder != "k1" || !s.Leader.LeaseValid || s.Database.Backend != "postgres" || !s.Database.Reachable {
				return fmt.Errorf("%s sees %v", s.Leader.Id, s)
			}
			return nil
		}, 10*time.Second)
	}
	k1 := procs[0]

	if _, err := k1.issuer.CreateAsset(k1.ctx(), &koshv1.CreateAssetRequest{Code: payAsset, Name: "sat token", Peg: koshv1.Peg_PEG_SAT}); err != nil {
		t.Fatal(err)
	}
	var accts []string
	for _, label := range []string{"holder", "other"} {
		a, err := k1.issuer.CreateAccount(k1.ctx(), &koshv1.CreateAccountRequest{Label: label, IdempotencyKey: label})
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, a.Account.Id)
	}
	holder, other := accts[0], accts[1]
	// A follower mints: it sees the leader's reserve snapshot through the
	// database (the coverage gate refuses every mint without it).
	harness.WaitFor(t, func() error {
		_, err := procs[2].issuer.Mint(procs[2].ctx(), &koshv1.MintRequest{Asset: payAsset, AccountId: holder, Amount: 200_000, IdempotencyKey: "mint-1"})
		return err
	}, 30*time.Second)
	if _, err := procs[2].issuer.Mint(procs[2].ctx(), &koshv1.MintRequest{Asset: payAsset, AccountId: other, Amount: 1_000, IdempotencyKey: "mint-2"}); err != nil {
		t.Fatal(err)
	}
	// A follower lists the leader's outputs and channels, though it polls
	// no source itself: the leader publishes them when they change.
	harness.WaitFor(t, func() error {
		lead, err := k1.issuer.GetReserves(k1.ctx(), &koshv1.GetReservesRequest{})
		if err != nil {
			return err
		}
		fol, err := procs[2].issuer.GetReserves(procs[2].ctx(), &koshv1.GetReservesRequest{})
		if err != nil {
			return err
		}
		if len(lead.Snapshot.Channels) == 0 || len(lead.Snapshot.Utxos) == 0 {
			return fmt.Errorf("the leader lists %d channels and %d outputs yet", len(lead.Snapshot.Channels), len(lead.Snapshot.Utxos))
		}
		if l, f := reserveListing(lead.Snapshot), reserveListing(fol.Snapshot); l != f {
			return fmt.Errorf("the follower lists\n%s\nthe leader\n%s", f, l)
		}
		return nil
	}, 15*time.Second)
	mac, err := k1.issuer.BakeWalletMacaroon(k1.ctx(), &koshv1.BakeWalletMacaroonRequest{AccountId: holder})
	if err != nil {
		t.Fatal(err)
	}
	pe := &payEnv{t: t, h: h, alice: alice, bob: bob, holder: holder, wallet: mac.WalletMacaroon}

	// A follower refuses Attest, naming the leader.
	if _, err := procs[1].issuer.Attest(procs[1].ctx(), &koshv1.AttestRequest{}); status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "k1 leads") {
		t.Fatalf("Attest on a follower: %v, want Unavailable naming k1", err)
	}

	load := startLoad("fo", procs, holder, other)
	time.Sleep(time.Second)

	// Kill: a redemption taken by a follower, driven by the leader k1,
	// which dies (SIGKILL) after the burn, before the payout.
	const redeemAmount, maxFee = 7_000, 10
	inv := bob.AddInvoice(t, redeemAmount, "failover kill")
	// Redeem on a follower answers once the redemption moved past the
	// burn, or after 10 s: it runs beside the kill and the takeover, which
	// are timed from the moment k1 died.
	redeemed := make(chan error, 1)
	var redResp koshv1.RedeemResponse
	go func() {
		redeemed <- procs[1].rest("POST", "/v1/wallet/accounts/"+holder+"/redemptions", pe.wallet, &koshv1.RedeemRequest{
			Asset: payAsset, Method: koshv1.PaymentMethod_PAYMENT_METHOD_LIGHTNING, IdempotencyKey: "fo-red-kill",
			PaymentRequest: inv, MaxFeeSat: maxFee}, &redResp)
	}()
	k1.waitKilled(30 * time.Second)
	killedAt := time.Now()
	survivors := procs[1:]
	newLeader, _ := waitLeader(t, survivors, 2*foTTL+foRenew+foSlack)
	tookKill := time.Since(killedAt)
	t.Logf("after SIGKILL of k1: %s leads after %s (bound ttl+renew = %s)", idOf(t, newLeader), tookKill, foTTL+foRenew)
	if bound := foTTL + foRenew + foSlack; tookKill > bound {
		t.Fatalf("takeover after SIGKILL took %s, bound %s", tookKill, bound)
	}
	if err := <-redeemed; err != nil {
		t.Fatalf("Redeem on a follower while the leader died: %v", err)
	}
	pe.k = procs[1]
	r := pe.waitRedemption(t, redResp.Redemption.Id, "paid")
	pe.checkPaidOnce(t, r.PaymentHash, redeemAmount)
	time.Sleep(2 * time.Second)

	// Stop: the new leader is paused (SIGSTOP) under load, another takes
	// over and pays a redemption taken meanwhile; the old one resumes
	// (SIGCONT) after its lease expired and must find itself a follower.
	var follower *koshProc
	for _, p := range survivors {
		if p != newLeader {
			follower = p
		}
	}
	stoppedID := idOf(t, newLeader)
	if err := newLeader.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	third, _ := waitLeader(t, []*koshProc{follower}, 2*foTTL+foRenew+foSlack)
	tookStop := time.Since(stoppedAt)
	thirdID := idOf(t, third)
	t.Logf("after SIGSTOP of %s: %s leads after %s (bound 2·ttl+renew = %s)", stoppedID, thirdID, tookStop, 2*foTTL+foRenew)
	if bound := 2*foTTL + foRenew + foSlack; tookStop > bound {
		t.Fatalf("takeover after SIGSTOP took %s, bound %s", tookStop, bound)
	}
	inv2 := bob.AddInvoice(t, redeemAmount+1, "failover stop")
	pe.k = third
	red2 := pe.redeemLN(t, "fo-red-stop", inv2, maxFee)
	r2 := pe.waitRedemption(t, red2.Id, "paid")
	pe.checkPaidOnce(t, r2.PaymentHash, redeemAmount+1)
	if d := time.Since(stoppedAt); d < foTTL+time.Second {
		time.Sleep(foTTL + time.Second - d)
	}
	if err := newLeader.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, func() error {
		s, err := newLeader.status()
		if err != nil {
			return err
		}
		if s.Leader.Leading || s.Leader.Holder != thirdID {
			return fmt.Errorf("resumed %s: %v", stoppedID, s.Leader)
		}
		return nil
	}, 10*time.Second)
	time.Sleep(2 * time.Second)
	acked, fails := load.finish()
	t.Logf("transfers acknowledged: %d; refused or unanswered per koshd: %v", len(acked), fails)
	if len(acked) < 100 {
		t.Fatalf("only %d transfers acknowledged", len(acked))
	}

	checkAcked(t, raw, "fo", acked)
	// The journal's chain verifies: an attestation freezes it.
	if _, err := third.issuer.Attest(third.ctx(), &koshv1.AttestRequest{}); err != nil && status.Code(err) != codes.Aborted {
		t.Fatalf("Attest on the leader after the failovers: %v", err)
	}
	// Attestation seqs run 1..n, each naming the one before.
	rows, err := raw.Query(`SELECT seq, id, prev_id FROM attestations ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	prev := ""
	for rows.Next() {
		var seq int64
		var id, prevID string
		if err := rows.Scan(&seq, &id, &prevID); err != nil {
			t.Fatal(err)
		}
		n++
		if seq != n {
			t.Fatalf("attestation seq %d follows %d", seq, n-1)
		}
		if n > 1 && prevID != prev {
			t.Fatalf("attestation %d names %s before it, not %s", seq, prevID, prev)
		}
		prev = id
	}
	rows.Close()
	if n < 3 {
		t.Fatalf("only %d attestations published", n)
	}
	t.Logf("attestations 1..%d, continuous", n)
	// The runs missed while no koshd led were counted by the leaders that
	// took over.
	var missed float64
	for _, p := range survivors {
		m, err := p.metricSum("kosh_attestations_missed_total")
		if err == nil {
			missed += m
		}
	}
	if missed < 1 {
		t.Fatalf("no missed attestation run counted across two failovers")
	}
	// The resumed leader saw its lease gone, and its late writes (if it
	// tried any) were refused, not committed.
	log := tail(newLeader.logPath, 1<<22)
	if !strings.Contains(log, "no longer leading") {
		t.Fatalf("the resumed leader %s did not log that it stopped leading", stoppedID)
	}
	t.Logf("missed runs counted: %v; resumed leader refused writes logged: %v", missed, strings.Contains(log, "not the leader"))

	// PostgreSQL itself restarted under load: every koshd reconnects,
	// nothing acknowledged is lost, and the status says it was down.
	t.Run("postgres restart", func(t *testing.T) {
		live := survivors
		load := startLoad("pg", live, holder, other)
		time.Sleep(time.Second)
		pg.restart(2 * time.Second)
		restarted := time.Now()
		for _, p := range live {
			harness.WaitFor(t, func() error {
				ctx, cancel := context.WithTimeout(p.ctx(), 3*time.Second)
				defer cancel()
				_, err := p.issuer.Transfer(ctx, &koshv1.TransferRequest{Asset: payAsset, FromAccountId: holder,
					ToAccountId: other, Amount: 1, IdempotencyKey: "pg-after-" + idOf(t, p)})
				return err
			}, 30*time.Second)
		}
		t.Logf("every koshd transfers again %s after PostgreSQL came back", time.Since(restarted).Round(time.Millisecond))
		time.Sleep(time.Second)
		acked, fails := load.finish()
		t.Logf("transfers acknowledged across the restart: %d; refused or unanswered per koshd: %v", len(acked), fails)
		checkAcked(t, raw, "pg", acked)
		for _, p := range live {
			s, err := p.status()
			if err != nil {
				t.Fatal(err)
			}
			d := s.Database
			if d.Outages < 1 || !d.Reachable || d.LastOutageStart == nil || d.LastOutageEnd == nil {
				t.Fatalf("%s's database status after the restart: %v", s.Leader.Id, d)
			}
			t.Logf("%s: database down from %s to %s (%s)", s.Leader.Id, d.LastOutageStart.AsTime().Format(time.RFC3339Nano),
				d.LastOutageEnd.AsTime().Format(time.RFC3339Nano), d.LastError)
		}
		lead, took := waitLeader(t, live, 2*foTTL+foRenew+foSlack)
		t.Logf("%s leads %s after the check", idOf(t, lead), took)
		harness.WaitFor(t, func() error {
			_, err := lead.issuer.Attest(lead.ctx(), &koshv1.AttestRequest{})
			return err
		}, 30*time.Second)
	})
}

// checkAcked checks that every acknowledged transfer (keys starting with
// prefix) is in the journal.
func checkAcked(t *testing.T, raw *sql.DB, prefix string, acked []string) {
	t.Helper()
	inJournal := map[string]bool{}
	rows, err := raw.Query(`SELECT idem_key FROM journal WHERE idem_key LIKE $1`, prefix+"-%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		inJournal[k] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range acked {
		if !inJournal[k] {
			t.Fatalf("acknowledged transfer %s is not in the journal", k)
		}
	}
	t.Logf("%d acknowledged %s- transfers, all in the journal (%d rows)", len(acked), prefix, len(inJournal))
}

// reserveListing is a snapshot's outputs and channels, one per line,
// sorted: what a reserve page lists.
func reserveListing(s *koshv1.ReserveSnapshot) string {
	var lines []string
	for _, u := range s.Utxos {
		lines = append(lines, fmt.Sprintf("output %s %s %d counted=%v %s", u.Source, u.Outpoint, u.Value, u.Counted, u.Why))
	}
	for _, c := range s.Channels {
		lines = append(lines, fmt.Sprintf("channel %s %s %d local=%d counted=%v %s", c.Node, c.ChannelPoint, c.Capacity, c.LocalBalance, c.Counted, c.Why))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
