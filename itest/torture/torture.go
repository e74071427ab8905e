package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/torture/history"
	"google.golang.org/grpc/status"
)

const (
	// asset is the one asset every operation moves.
	asset = "TORT"
	// seedBalance is minted to every account before the first round.
	seedBalance = 100_000
	// callTimeout bounds one call, so a wedged daemon fails the run
	// instead of hanging it.
	callTimeout = 15 * time.Second
	// readyTimeout bounds waiting for a started koshd to serve with usable
	// reserves.
	readyTimeout = time.Minute
)

// storeResult is one store's line of the table.
type storeResult struct {
	store        string
	rounds       int
	kills        int // SIGKILLs under load
	restartKills int // SIGKILLs while koshd was starting again
	rep          history.Report
	dir          string // data directory, kept if the run failed
}

// storeRun tortures koshd on one store.
type storeRun struct {
	cfg   config
	store string
	rng   *rand.Rand
	runID string
	k     *koshd

	accounts    []string
	ops         map[string]*history.Op
	lastSeq     int64 // the highest journal seq at the last check
	lastStartup time.Duration
	res         storeResult
}

// newOp draws the next operation a client sends: mostly transfers, some
// mints and burns, between random accounts, sometimes more than the payer
// holds (a refusal).
func (s *storeRun) newOp(rng *rand.Rand, key string) *history.Op {
	n := len(s.accounts)
	a := s.accounts[rng.IntN(n)]
	switch p := rng.IntN(100); {
	case p < 5:
		return &history.Op{Key: key, Kind: koshv1.EntryKind_ENTRY_KIND_MINT, To: a, Amount: 1 + rng.Int64N(10_000)}
	case p < 10:
		return &history.Op{Key: key, Kind: koshv1.EntryKind_ENTRY_KIND_BURN, From: a, Amount: 1 + rng.Int64N(3_000)}
	default:
		b := rng.IntN(n - 1)
		if s.accounts[b] == a {
			b = n - 1
		}
		return &history.Op{Key: key, Kind: koshv1.EntryKind_ENTRY_KIND_TRANSFER, From: a, To: s.accounts[b], Amount: 1 + rng.Int64N(5_000)}
	}
}

// send makes one call of o (the identical request every time) and records
// its answer.
func send(ctx context.Context, issuer koshv1.IssuerServiceClient, o *history.Op) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var (
		e   *koshv1.JournalEntry
		err error
	)
	switch o.Kind {
	case koshv1.EntryKind_ENTRY_KIND_MINT:
		var r *koshv1.MintResponse
		r, err = issuer.Mint(cctx, &koshv1.MintRequest{Asset: asset, AccountId: o.To, Amount: o.Amount, IdempotencyKey: o.Key})
		e = r.GetEntry()
	case koshv1.EntryKind_ENTRY_KIND_BURN:
		var r *koshv1.BurnResponse
		r, err = issuer.Burn(cctx, &koshv1.BurnRequest{Asset: asset, AccountId: o.From, Amount: o.Amount, IdempotencyKey: o.Key})
		e = r.GetEntry()
	default:
		var r *koshv1.TransferResponse
		r, err = issuer.Transfer(cctx, &koshv1.TransferRequest{Asset: asset, FromAccountId: o.From, ToAccountId: o.To,
			Amount: o.Amount, IdempotencyKey: o.Key})
		e = r.GetEntry()
	}
	switch {
	case err != nil:
		st := status.Convert(err)
		o.Attempts = append(o.Attempts, history.Attempt{Outcome: history.Classify(st.Code()), Code: st.Code(), Err: st.Message()})
	case e == nil:
		o.Attempts = append(o.Attempts, history.Attempt{Outcome: history.Unknown, Err: "answer without an entry"})
	default:
		o.Attempts = append(o.Attempts, history.Attempt{Outcome: history.Acked, Entry: history.EntryFromProto(e)})
	}
}

// runStore starts koshd on the store, seeds it, and runs cfg.rounds rounds
// of load, SIGKILL, restart, retry and check. It returns an error for a
// failure of the run itself (koshd would not start, a call that must
// succeed did not); a failed check is in the result's report.
func runStore(ctx context.Context, cfg config, env *env, store string) (res storeResult, err error) {
	s := &storeRun{cfg: cfg, store: store, ops: map[string]*history.Op{},
		rng: rand.New(rand.NewPCG(cfg.seed, uint64(len(store))))}
	s.res.store = store
	s.runID = strconv.FormatUint(s.rng.Uint64()%1e9, 36)

	dir, err := os.MkdirTemp("", "kosh-torture-"+store+"-")
	if err != nil {
		return s.res, fmt.Errorf("make data directory: %w", err)
	}
	s.res.dir = dir
	defer func() {
		// After s.k.stop and the database drop (deferred later, run
		// earlier).
		if err == nil && !res.rep.Failed() && !cfg.keep {
			os.RemoveAll(dir)
			res.dir = ""
		}
	}()

	args := env.chainArgs()
	if store == "postgres" {
		dsn, drop, err := freshDatabase(ctx, cfg.dsn)
		if err != nil {
			return s.res, err
		}
		defer func() {
			if derr := drop(); derr != nil {
				fmt.Fprintln(os.Stderr, "torture:", derr)
			}
		}()
		args = append(args, "--db.backend=postgres", "--db.postgres.dsn="+dsn)
	}
	if s.k, err = newKoshd(env.koshdBin, dir, args); err != nil {
		return s.res, err
	}
	defer s.k.stop() // before the database is dropped (defers run last-in first-out)

	t0 := time.Now()
	if err := s.k.start(ctx); err != nil {
		return s.res, err
	}
	if err := env.reserve.prove(ctx, s.k.issuer); err != nil {
		return s.res, err
	}
	if err := s.waitReserves(ctx); err != nil {
		return s.res, err
	}
	s.lastStartup = time.Since(t0)
	if err := s.seed(ctx); err != nil {
		return s.res, err
	}

	for round := 1; round <= cfg.rounds; round++ {
		t0 := time.Now()
		roundOps, err := s.load(ctx, round)
		if err != nil {
			return s.res, fmt.Errorf("round %d: %w", round, err)
		}
		if err := s.restart(ctx); err != nil {
			return s.res, fmt.Errorf("round %d: restart: %w", round, err)
		}
		if err := s.probe(ctx, roundOps); err != nil {
			return s.res, fmt.Errorf("round %d: read the journal after the restart: %w", round, err)
		}
		s.retry(ctx, roundOps)
		rep, err := s.check(ctx)
		if err != nil {
			return s.res, fmt.Errorf("round %d: read the ledger: %w", round, err)
		}
		s.res.rounds, s.res.rep = round, rep
		fmt.Fprintf(os.Stderr, "%s round %d/%d (%s): %d ops this round; in all acknowledged %d, unacknowledged %d, committed before the kill %d, retried %d (applied by the retry %d); lost %d, double-applied %d, mismatched %d, invariant failures %d\n",
			store, round, cfg.rounds, time.Since(t0).Round(time.Millisecond), len(roundOps), rep.Acknowledged, rep.Unacknowledged,
			rep.Committed, rep.Retried, rep.RetryApplied, rep.Lost, rep.Double, rep.Mismatched, rep.Invariant)
		if rep.Failed() {
			break
		}
	}
	return s.res, nil
}

// seed creates the asset and the accounts and mints seedBalance to each;
// no kills happen meanwhile, so every call must succeed.
func (s *storeRun) seed(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := s.k.issuer.CreateAsset(cctx, &koshv1.CreateAssetRequest{Code: asset, Name: "Torture token",
		Peg: koshv1.Peg_PEG_SAT, MinCoverageBps: 10_000}); err != nil {
		return fmt.Errorf("create asset %s: %w", asset, err)
	}
	for i := range s.cfg.accounts {
		r, err := s.k.issuer.CreateAccount(cctx, &koshv1.CreateAccountRequest{Label: "torture-" + strconv.Itoa(i),
			IdempotencyKey: s.runID + "-account-" + strconv.Itoa(i)})
		if err != nil {
			return fmt.Errorf("create account %d: %w", i, err)
		}
		s.accounts = append(s.accounts, r.GetAccount().GetId())
	}
	for i, a := range s.accounts {
		o := &history.Op{Key: s.runID + "-seed-" + strconv.Itoa(i), Kind: koshv1.EntryKind_ENTRY_KIND_MINT, To: a, Amount: seedBalance}
		s.ops[o.Key] = o
		send(ctx, s.k.issuer, o)
		if a := o.Attempts[0]; a.Outcome != history.Acked {
			return fmt.Errorf("seed mint to account %d: %s: %s", i, a.Code, a.Err)
		}
	}
	return nil
}

// load runs cfg.clients clients, each with one call in flight, and kills
// koshd with SIGKILL after a random time; it returns the round's operations.
func (s *storeRun) load(ctx context.Context, round int) ([]*history.Op, error) {
	loadCtx, stop := context.WithCancel(ctx)
	defer stop()
	issuer := s.k.issuer
	perClient := make([][]*history.Op, s.cfg.clients)
	var wg sync.WaitGroup
	for c := range s.cfg.clients {
		rng := rand.New(rand.NewPCG(s.rng.Uint64(), uint64(c)))
		prefix := fmt.Sprintf("%s-r%d-c%d-", s.runID, round, c)
		wg.Go(func() {
			for n := 0; loadCtx.Err() == nil; n++ {
				o := s.newOp(rng, prefix+strconv.Itoa(n))
				perClient[c] = append(perClient[c], o)
				// ctx, not loadCtx: a call in flight must meet the kill,
				// not a cancellation of our own.
				send(ctx, issuer, o)
			}
		})
	}
	after := s.cfg.minLoad + time.Duration(s.rng.Int64N(int64(s.cfg.maxLoad-s.cfg.minLoad)+1))
	select {
	case <-time.After(after):
	case <-ctx.Done():
	}
	// The clients stop sending the moment the signal is sent: what the
	// kill cuts is the calls in flight, not new calls to a dead port.
	killErr := s.k.killAnd(stop)
	wg.Wait()
	s.k.closeConn()
	if killErr != nil {
		return nil, killErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.res.kills++
	var ops []*history.Op
	for _, c := range perClient {
		for _, o := range c {
			s.ops[o.Key] = o
			ops = append(ops, o)
		}
	}
	return ops, nil
}

// restart starts koshd again; with probability cfg.restartKill it is first
// killed again at a random moment of its start-up.
func (s *storeRun) restart(ctx context.Context) error {
	if s.rng.Float64() < s.cfg.restartKill {
		if err := s.k.spawn(); err != nil {
			return err
		}
		select {
		case <-time.After(time.Duration(s.rng.Int64N(int64(s.lastStartup) + 1))):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := s.k.kill(); err != nil {
			return fmt.Errorf("kill during start-up: %w", err)
		}
		s.res.restartKills++
	}
	t0 := time.Now()
	if err := s.k.start(ctx); err != nil {
		return err
	}
	if err := s.waitReserves(ctx); err != nil {
		return err
	}
	s.lastStartup = time.Since(t0)
	return nil
}

// waitReserves waits until koshd's reserve snapshot can back every seed
// mint (usable, and the proven reserve counted), so that a mint is refused
// only for a reason the run controls.
func (s *storeRun) waitReserves(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		r, err := s.k.issuer.GetReserves(cctx, &koshv1.GetReservesRequest{})
		cancel()
		if err == nil && r.GetSnapshot().GetUsable() && r.GetSnapshot().GetCounted() >= int64(s.cfg.accounts)*seedBalance {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("usable %v, %d sats counted, %d needed (%s)", r.GetSnapshot().GetUsable(),
					r.GetSnapshot().GetCounted(), int64(s.cfg.accounts)*seedBalance, r.GetSnapshot().GetProblem())
			}
			return fmt.Errorf("reserves not ready %s after start: %w", readyTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probe reads the journal past the last check, after the restart and
// before any retry, and records for each operation of the round with an
// unknown outcome whether the killed daemon had committed it.
func (s *storeRun) probe(ctx context.Context, roundOps []*history.Op) error {
	entries, err := s.journal(ctx, s.lastSeq)
	if err != nil {
		return err
	}
	byKey := map[string][]history.Entry{}
	for _, e := range entries {
		byKey[e.Key] = append(byKey[e.Key], e)
	}
	for _, o := range roundOps {
		if o.Attempts[0].Outcome == history.Unknown {
			o.Probed, o.Recovered = true, byKey[o.Key]
		}
	}
	return nil
}

// journal reads the asset's journal after seq.
func (s *storeRun) journal(ctx context.Context, after int64) ([]history.Entry, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var out []history.Entry
	for {
		page, err := s.k.issuer.ListJournal(cctx, &koshv1.ListJournalRequest{Asset: asset, AfterSeq: after, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("list journal after seq %d: %w", after, err)
		}
		for _, e := range page.GetEntries() {
			out = append(out, history.EntryFromProto(e))
		}
		if page.GetNextAfterSeq() == 0 {
			return out, nil
		}
		after = page.GetNextAfterSeq()
	}
}

// retry sends, once each and concurrently, every operation of the round
// whose outcome was unknown, and up to cfg.replays acknowledged ones.
func (s *storeRun) retry(ctx context.Context, roundOps []*history.Op) {
	var todo, ackedOps []*history.Op
	for _, o := range roundOps {
		switch o.Attempts[0].Outcome {
		case history.Unknown:
			todo = append(todo, o)
		case history.Acked:
			ackedOps = append(ackedOps, o)
		}
	}
	s.rng.Shuffle(len(ackedOps), func(i, j int) { ackedOps[i], ackedOps[j] = ackedOps[j], ackedOps[i] })
	todo = append(todo, ackedOps[:min(len(ackedOps), s.cfg.replays)]...)

	next := make(chan *history.Op)
	var wg sync.WaitGroup
	for range s.cfg.clients {
		wg.Go(func() {
			for o := range next {
				send(ctx, s.k.issuer, o)
			}
		})
	}
	for _, o := range todo {
		next <- o
	}
	close(next)
	wg.Wait()
}

// check reads the whole journal of the asset, every account's balance and
// the supply report, and checks them against every operation sent so far.
func (s *storeRun) check(ctx context.Context) (history.Report, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	st := history.LedgerState{Balances: map[string]int64{}}
	var err error
	if st.Journal, err = s.journal(ctx, 0); err != nil {
		return history.Report{}, err
	}
	for _, e := range st.Journal {
		s.lastSeq = max(s.lastSeq, e.Seq)
	}
	for _, a := range s.accounts {
		r, err := s.k.issuer.GetAccount(cctx, &koshv1.GetAccountRequest{AccountId: a})
		if err != nil {
			return history.Report{}, fmt.Errorf("get account %s: %w", a, err)
		}
		st.Balances[a] = 0
		for _, b := range r.GetAccount().GetBalances() {
			if b.GetAsset() == asset {
				st.Balances[a] = b.GetAmount()
			}
		}
	}
	sup, err := s.k.issuer.GetSupply(cctx, &koshv1.GetSupplyRequest{Asset: asset})
	if err != nil {
		return history.Report{}, fmt.Errorf("get supply: %w", err)
	}
	st.Supply, st.BalancesTotal, st.JournalTotal, st.Consistent = sup.GetSupply(), sup.GetBalancesTotal(), sup.GetJournalTotal(), sup.GetConsistent()
	return history.Check(s.ops, st), nil
}
