package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// testLog writes the electors' messages to the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// openShared opens n stores on one fresh PostgreSQL schema, as n koshd
// sharing one database would, and creates the table the fenced writes go
// to.
func openShared(t *testing.T, n int) []*store.DB {
	t.Helper()
	cfg := storetest.Config(t, store.Postgres)
	cfg.MaxReaders = 2
	dbs := make([]*store.DB, n)
	for i := range dbs {
		db, err := store.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(testLog{t}, nil)))
		if err != nil {
			t.Fatalf("open store %d: %v", i, err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	err := dbs[0].Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), `CREATE TABLE fenced (token BIGINT NOT NULL, note TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		t.Fatalf("create table fenced: %v", err)
	}
	return dbs
}

// runner is one elector running in its own goroutine.
type runner struct {
	e      *Elector
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	gains []int64
	loses []int64
}

func start(t *testing.T, db *store.DB, id string, ttl time.Duration) *runner {
	t.Helper()
	r := &runner{done: make(chan struct{})}
	e, err := New(db, Config{
		ID:     id,
		TTL:    ttl,
		Log:    slog.New(slog.NewTextHandler(testLog{t}, nil)),
		OnGain: func(tok int64) { r.mu.Lock(); r.gains = append(r.gains, tok); r.mu.Unlock() },
		OnLose: func(tok int64) { r.mu.Lock(); r.loses = append(r.loses, tok); r.mu.Unlock() },
	})
	if err != nil {
		t.Fatalf("new elector %s: %v", id, err)
	}
	r.e = e
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		if err := e.Run(ctx); err != nil {
			t.Errorf("elector %s: %v", id, err)
		}
	}()
	t.Cleanup(r.stop)
	return r
}

// pause stops the elector without releasing the lease, as if the process
// had been SIGSTOPped or cut off: the lease stays in the database until it
// expires.
func (r *runner) pause() {
	r.e.keepOnStop = true
	r.stop()
}

// stop stops the elector cleanly: it releases the lease.
func (r *runner) stop() {
	r.cancel()
	<-r.done
}

func (r *runner) events() (gains, loses []int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.gains...), append([]int64(nil), r.loses...)
}

// waitLeader polls until r leads and returns its token, failing the test
// after within.
func waitLeader(t *testing.T, r *runner, within time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if tok, ok := r.e.Leader(); ok {
			return tok
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s did not lead within %s", r.e.ID(), within)
	return 0
}

// fencedInsert is a leader-only write: the check and the write in one
// transaction.
func fencedInsert(ctx context.Context, db *store.DB, token int64, note string) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := Check(ctx, tx, token); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO fenced (token, note) VALUES ($1, $2)`, token, note)
		return err
	})
}

func fencedRows(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	rows := map[string]int64{}
	err := db.Read(context.Background(), func(tx *store.Tx) error {
		rs, err := tx.Query(context.Background(), `SELECT note, token FROM fenced`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var (
				note string
				tok  int64
			)
			if err := rs.Scan(&note, &tok); err != nil {
				return err
			}
			rows[note] = tok
		}
		return rs.Err()
	})
	if err != nil {
		t.Fatalf("read fenced rows: %v", err)
	}
	return rows
}

// TestTakeoverAfterPause: two electors on one database, one leads; the
// leader stops renewing without releasing; the other takes over within
// TTL + Renew with a higher token, and the old leader's fenced write is
// refused while the new leader's succeeds.
func TestTakeoverAfterPause(t *testing.T) {
	ctx := context.Background()
	dbs := openShared(t, 2)
	const ttl = time.Second
	a := start(t, dbs[0], "a", ttl)
	tokA := waitLeader(t, a, 5*time.Second)
	b := start(t, dbs[1], "b", ttl)

	// While a renews, b never leads.
	for end := time.Now().Add(2 * ttl); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, ok := a.e.Leader(); !ok {
			t.Fatal("a stopped leading while it renewed")
		}
		if _, ok := b.e.Leader(); ok {
			t.Fatal("b leads while a holds the lease")
		}
	}
	if err := fencedInsert(ctx, dbs[0], tokA, "a before"); err != nil {
		t.Fatalf("the leader's fenced write: %v", err)
	}

	a.pause()
	paused := time.Now()
	renew := b.e.Config().Renew
	bound := ttl + renew
	tokB := waitLeader(t, b, bound+2*time.Second) // generous slack for a loaded machine
	took := time.Since(paused)
	t.Logf("b took over after %s (bound TTL + Renew = %s), token %d → %d", took.Round(time.Millisecond), bound, tokA, tokB)
	if took > bound+time.Second {
		t.Errorf("b took over after %s, want within TTL + Renew = %s (+1s slack)", took, bound)
	}
	if tokB != tokA+1 {
		t.Errorf("b's token = %d, want %d (a's + 1)", tokB, tokA+1)
	}
	l, err := Current(ctx, dbs[1])
	if err != nil {
		t.Fatal(err)
	}
	if l.Holder != "b" || l.Token != tokB || !l.Valid {
		t.Errorf("lease = %+v, want held by b with token %d", l, tokB)
	}

	// The paused old leader wakes up and writes with its old token.
	err = fencedInsert(ctx, dbs[0], tokA, "a after")
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("old leader's fenced write: err = %v, want ErrNotLeader", err)
	}
	if err := fencedInsert(ctx, dbs[1], tokB, "b"); err != nil {
		t.Fatalf("new leader's fenced write: %v", err)
	}
	rows := fencedRows(t, dbs[1])
	want := map[string]int64{"a before": tokA, "b": tokB}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("fenced rows = %v, want %v", rows, want)
	}
	if gains, loses := a.events(); fmt.Sprint(gains, loses) != fmt.Sprint([]int64{tokA}, []int64{tokA}) {
		t.Errorf("a's gains, losses = %v %v, want [%d] [%d]", gains, loses, tokA, tokA)
	}
}

// TestReleaseHandsOver: a leader that stops cleanly releases the lease and
// a follower takes over on its next attempt, long before the TTL.
func TestReleaseHandsOver(t *testing.T) {
	dbs := openShared(t, 2)
	const ttl = 5 * time.Second
	a := start(t, dbs[0], "a", ttl)
	tokA := waitLeader(t, a, 10*time.Second)
	b := start(t, dbs[1], "b", ttl)
	time.Sleep(100 * time.Millisecond)
	if _, ok := b.e.Leader(); ok {
		t.Fatal("b leads while a holds the lease")
	}
	a.stop()
	stopped := time.Now()
	tokB := waitLeader(t, b, ttl)
	took := time.Since(stopped)
	t.Logf("b took over %s after a released (Renew = %s, TTL = %s)", took.Round(time.Millisecond), b.e.Config().Renew, ttl)
	if took > ttl/2 {
		t.Errorf("b took over %s after the release, want about Renew (%s), well under the TTL", took, b.e.Config().Renew)
	}
	if tokB != tokA+1 {
		t.Errorf("b's token = %d, want %d", tokB, tokA+1)
	}
	if err := fencedInsert(context.Background(), dbs[0], tokA, "a"); !errors.Is(err, ErrNotLeader) {
		t.Errorf("released leader's fenced write: err = %v, want ErrNotLeader", err)
	}
}

// TestRaceOneLeader: N electors campaign at once; sampled throughout, at
// most one leads at any instant, and one does once the lease has settled;
// then the leader is paused and another takes over, with a new token.
func TestRaceOneLeader(t *testing.T) {
	const (
		n   = 5
		ttl = time.Second
	)
	dbs := openShared(t, n)
	rs := make([]*runner, n)
	for i := range rs {
		rs[i] = start(t, dbs[i], fmt.Sprintf("e%d", i), ttl)
	}
	// sample returns the runners that lead now, failing if more than one.
	sample := func() []*runner {
		var leading []*runner
		for _, r := range rs {
			if _, ok := r.e.Leader(); ok {
				leading = append(leading, r)
			}
		}
		if len(leading) > 1 {
			var ids []string
			for _, r := range leading {
				ids = append(ids, r.e.ID())
			}
			t.Fatalf("%d leaders at once: %v", len(leading), ids)
		}
		return leading
	}
	watch := func(d time.Duration) (samples, led int, last *runner) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			samples++
			if l := sample(); len(l) == 1 {
				led++
				last = l[0]
			}
		}
		return samples, led, last
	}
	samples, led, first := watch(3 * ttl)
	t.Logf("race: %d samples, a leader in %d", samples, led)
	if first == nil {
		t.Fatal("nobody led")
	}
	tok1, _ := first.e.Leader()
	first.pause()
	samples, led, second := watch(3 * ttl)
	t.Logf("after pausing %s: %d samples, a leader in %d", first.e.ID(), samples, led)
	if second == nil || second == first {
		t.Fatalf("nobody took over from %s", first.e.ID())
	}
	tok2, ok := second.e.Leader()
	if !ok || tok2 <= tok1 {
		t.Errorf("second leader's token = %d (leading %v), want > %d", tok2, ok, tok1)
	}
	// Every tenure had its own token: no token was gained twice.
	seen := map[int64]string{}
	for _, r := range rs {
		gains, _ := r.events()
		for _, g := range gains {
			if other, dup := seen[g]; dup {
				t.Errorf("token %d gained by both %s and %s", g, other, r.e.ID())
			}
			seen[g] = r.e.ID()
		}
	}
}

// TestTakeoverWaitsForFencedWrite: a fenced transaction that passed Check
// before the lease expired holds the takeover back until it commits, so the
// new leader starts after the old leader's last write and sees it.
func TestTakeoverWaitsForFencedWrite(t *testing.T) {
	ctx := context.Background()
	dbs := openShared(t, 2)
	const ttl = 2 * time.Second
	a := start(t, dbs[0], "a", ttl)
	tokA := waitLeader(t, a, 5*time.Second)

	checked := make(chan struct{})
	writeErr := make(chan error, 1)
	go func() {
		writeErr <- dbs[0].Write(ctx, func(tx *store.Tx) error {
			if err := Check(ctx, tx, tokA); err != nil {
				return err
			}
			close(checked)
			// Busy (not idle) well past the lease's expiry.
			if _, err := tx.Exec(ctx, `SELECT pg_sleep($1::float8)`, (7 * ttl / 4).Seconds()); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO fenced (token, note) VALUES ($1, 'a late')`, tokA)
			return err
		})
	}()
	<-checked
	a.pause()
	paused := time.Now()
	b := start(t, dbs[1], "b", ttl)
	// The lease expires at most TTL after a's last renewal and b campaigns
	// every Renew; b is held back by a's open transaction all the same.
	expiredSeen := false
	for {
		select {
		case err := <-writeErr:
			if err != nil {
				t.Fatalf("a's fenced transaction, checked while it led: %v", err)
			}
			if !expiredSeen {
				t.Fatal("the lease never expired while a's transaction was open: the test proves nothing")
			}
			tokB := waitLeader(t, b, 3*ttl)
			if tokB != tokA+1 {
				t.Errorf("b's token = %d, want %d", tokB, tokA+1)
			}
			if rows := fencedRows(t, dbs[1]); rows["a late"] != tokA {
				t.Errorf("fenced rows = %v, want a's late write", rows)
			}
			return
		case <-time.After(5 * time.Millisecond):
		}
		if _, ok := b.e.Leader(); ok {
			t.Fatal("b leads while a's fenced transaction is open")
		}
		if !expiredSeen && time.Since(paused) > ttl+b.e.Config().Renew+100*time.Millisecond {
			l, err := Current(ctx, dbs[1])
			if err != nil {
				t.Fatal(err)
			}
			expiredSeen = !l.Valid
		}
	}
}

// TestPausedInsideFencedWrite: a leader paused for good inside a fenced
// transaction does not block the takeover for ever: PostgreSQL ends its
// session after the TTL idle, the follower leads within 2·TTL + Renew, and
// the paused write never lands.
func TestPausedInsideFencedWrite(t *testing.T) {
	ctx := context.Background()
	dbs := openShared(t, 2)
	const ttl = time.Second
	a := start(t, dbs[0], "a", ttl)
	tokA := waitLeader(t, a, 5*time.Second)

	checked := make(chan struct{})
	resume := make(chan struct{})
	var resumeOnce sync.Once
	wake := func() { resumeOnce.Do(func() { close(resume) }) }
	t.Cleanup(wake) // runs before the stores close, which would wait for the transaction
	writeErr := make(chan error, 1)
	go func() {
		attempts := 0
		writeErr <- dbs[0].Write(ctx, func(tx *store.Tx) error {
			attempts++
			if err := Check(ctx, tx, tokA); err != nil {
				return err
			}
			if attempts == 1 {
				close(checked)
				<-resume
			}
			_, err := tx.Exec(ctx, `INSERT INTO fenced (token, note) VALUES ($1, 'a paused')`, tokA)
			return err
		})
	}()
	<-checked
	a.pause()
	paused := time.Now()
	b := start(t, dbs[1], "b", ttl)
	bound := 2*ttl + b.e.Config().Renew
	tokB := waitLeader(t, b, bound+3*time.Second)
	took := time.Since(paused)
	t.Logf("b took over %s after a paused inside a fenced transaction (bound 2·TTL + Renew = %s)", took.Round(time.Millisecond), bound)
	if took > bound+2*time.Second {
		t.Errorf("b took over after %s, want within %s (+2s slack)", took, bound)
	}
	wake()
	if err := <-writeErr; err == nil {
		t.Fatal("the paused leader's write committed after the takeover")
	}
	if tokB != tokA+1 {
		t.Errorf("b's token = %d, want %d", tokB, tokA+1)
	}
	if rows := fencedRows(t, dbs[1]); len(rows) != 0 {
		t.Errorf("fenced rows = %v, want none", rows)
	}
}

// TestRenewDuringFencedWrite: the leader's own long fenced transaction does
// not hold up its renewals.
func TestRenewDuringFencedWrite(t *testing.T) {
	ctx := context.Background()
	dbs := openShared(t, 2)
	const ttl = time.Second
	a := start(t, dbs[0], "a", ttl)
	tok := waitLeader(t, a, 5*time.Second)
	done := make(chan error, 1)
	go func() {
		done <- dbs[0].Write(ctx, func(tx *store.Tx) error {
			if err := Check(ctx, tx, tok); err != nil {
				return err
			}
			// Busy, not idle: 3 TTLs inside one statement.
			if _, err := tx.Exec(ctx, `SELECT pg_sleep(3)`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO fenced (token, note) VALUES ($1, 'long')`, tok)
			return err
		})
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("long fenced write: %v", err)
			}
			if got, ok := a.e.Leader(); !ok || got != tok {
				t.Fatalf("a leads = %v with token %d, want token %d", ok, got, tok)
			}
			return
		case <-time.After(5 * time.Millisecond):
			if _, ok := a.e.Leader(); !ok {
				t.Fatal("a stopped leading during its own fenced transaction: its renewals were blocked")
			}
		}
	}
}

// TestLoseWhenRenewalsFail: a leader that cannot reach the database stops
// leading on its own before its lease can have expired, and says so.
func TestLoseWhenRenewalsFail(t *testing.T) {
	dbs := openShared(t, 2)
	const ttl = time.Second
	a := start(t, dbs[0], "a", ttl)
	tok := waitLeader(t, a, 5*time.Second)
	dbs[0].Close() // every renewal fails from now on
	closed := time.Now()
	for {
		if _, ok := a.e.Leader(); !ok {
			break
		}
		if time.Since(closed) > ttl {
			t.Fatalf("a still leads %s after its renewals began failing (TTL %s)", time.Since(closed), ttl)
		}
		time.Sleep(time.Millisecond)
	}
	// The lease itself is still valid in the database: a stopped leading
	// before it could have been replaced.
	lost := time.Since(closed)
	l, err := Current(context.Background(), dbs[1])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a stopped leading %s after its store closed; the lease had %s left", lost.Round(time.Millisecond), l.Remaining)
	if l.Holder != "a" || l.Token != tok || !l.Valid {
		t.Errorf("lease = %+v, want still a's, token %d, valid", l, tok)
	}
	deadline := time.Now().Add(time.Second)
	for {
		if _, loses := a.events(); len(loses) == 1 && loses[0] == tok {
			break
		}
		if time.Now().After(deadline) {
			_, loses := a.events()
			t.Fatalf("OnLose calls = %v, want [%d]", loses, tok)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSQLite: a SQLite koshd always leads, with token 1, and Check accepts
// that token only.
func TestSQLite(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	r := start(t, db, "solo", 0)
	if tok := waitLeader(t, r, 5*time.Second); tok != 1 {
		t.Errorf("token = %d, want 1", tok)
	}
	err := db.Write(ctx, func(tx *store.Tx) error { return Check(ctx, tx, 1) })
	if err != nil {
		t.Errorf("Check(1): %v", err)
	}
	err = db.Write(ctx, func(tx *store.Tx) error { return Check(ctx, tx, 2) })
	if !errors.Is(err, ErrNotLeader) {
		t.Errorf("Check(2): err = %v, want ErrNotLeader", err)
	}
	if l, err := Current(ctx, db); err != nil || l.Token != 1 || !l.Valid {
		t.Errorf("Current = %+v, %v", l, err)
	}
	r.stop()
	if _, ok := r.e.Leader(); ok {
		t.Error("still leads after Run returned")
	}
}

func TestConfig(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	e, err := New(db, Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Config()
	if c.TTL != 10*time.Second || c.Renew != c.TTL/3 || c.Margin != 2*time.Second || c.ID == "" {
		t.Errorf("defaults = TTL %s, Renew %s, Margin %s, ID %q", c.TTL, c.Renew, c.Margin, c.ID)
	}
	for _, bad := range []Config{
		{TTL: -time.Second},
		{TTL: time.Second, Renew: 900 * time.Millisecond},
		{TTL: time.Second, Margin: time.Second},
		{TTL: time.Second, Renew: -time.Millisecond},
	} {
		if _, err := New(db, bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

// TestFencedContext checks that every write made with a context from
// Fenced is checked against its token: it commits while the tenure holds
// the lease and is refused, with nothing written, once another process
// took the lease over; writes without the context are not fenced.
func TestFencedContext(t *testing.T) {
	dbs := openShared(t, 2)
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	tokA, err := acquire(ctx, dbs[0], "a", ttl)
	if err != nil {
		t.Fatalf("a acquires: %v", err)
	}
	fenced := Fenced(ctx, tokA)
	if got, ok := TokenOf(fenced); !ok || got != tokA {
		t.Fatalf("TokenOf = %d, %v; want %d", got, ok, tokA)
	}
	insert := func(ctx context.Context, note string) error {
		return dbs[0].Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO fenced (token, note) VALUES ($1, $2)`, tokA, note)
			return err
		})
	}
	if err := insert(fenced, "while leading"); err != nil {
		t.Fatalf("fenced write while leading: %v", err)
	}
	time.Sleep(ttl + 50*time.Millisecond)
	if _, err := acquire(ctx, dbs[1], "b", ttl); err != nil {
		t.Fatalf("b takes the expired lease: %v", err)
	}
	if err := insert(fenced, "after takeover"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("fenced write after takeover: %v, want ErrNotLeader", err)
	}
	if err := insert(ctx, "unfenced"); err != nil {
		t.Fatalf("unfenced write: %v", err)
	}
	var notes []string
	err = dbs[0].Read(ctx, func(tx *store.Tx) error {
		r, err := tx.Query(ctx, `SELECT note FROM fenced ORDER BY note`)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var n string
			if err := r.Scan(&n); err != nil {
				return err
			}
			notes = append(notes, n)
		}
		return r.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(notes) != "[unfenced while leading]" {
		t.Fatalf("rows written: %v, want [unfenced while leading]", notes)
	}
}
