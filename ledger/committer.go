package ledger

import (
	"context"
	"errors"
	"slices"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// job is one queued mint, burn or transfer.
type job struct {
	ctx  context.Context
	kind Kind
	req  Transfer
	hash []byte

	// head is the journal's chain hash before this job; newHead the chain
	// hash of the entry the job wrote (nil if it wrote none: a refusal or
	// a replay).
	head, newHead []byte

	entry Entry
	err   error
	done  chan struct{}
}

// committer is the single goroutine that applies queued jobs in batches.
// On a store that can (ledgerrec.BatchStore: PostgreSQL), and when this
// ledger is the database's only writer (Config.SingleWriter), a batch's
// transaction is prepared while the one before it commits (pipeline.go).
func (l *Ledger) committer() {
	defer l.wg.Done()
	bs, _ := l.db.(ledgerrec.BatchStore)
	pipelined := l.cfg.SingleWriter && bs != nil && bs.Pipelined()
	// Sharing the database, a batch still starts beside the one before
	// it, but waits for it at the append lock (launchLocked).
	overlapped := !l.cfg.SingleWriter && bs != nil && bs.Pipelined()
	var prev *flight // a pipelined batch that may still be committing
	batch := make([]*job, 0, l.cfg.MaxBatch)
	for {
		var landed chan struct{} // nil (never ready) with nothing in flight
		if prev != nil {
			landed = prev.done
		}
		select {
		case j := <-l.jobs:
			batch = append(batch[:0], j)
		case <-landed:
			// No job came while it committed: answer its callers now.
			l.land(prev, nil)
			prev = nil
			continue
		case <-l.quit:
			if prev != nil {
				l.land(prev, nil)
			}
			// Refuse whatever is still queued; callers see the shutdown.
			for {
				select {
				case j := <-l.jobs:
					j.err = errors.New("ledger is shutting down")
					close(j.done)
				default:
					return
				}
			}
		}
		if prev != nil {
			// The next batch cannot start deciding before prev is
			// decided: until then, let it gather the jobs that arrive.
			<-prev.planned
		}
	drain:
		for len(batch) < l.cfg.MaxBatch {
			select {
			case j := <-l.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		var f *flight
		switch {
		case pipelined:
			f = l.launch(slices.Clone(batch), prev)
		case overlapped:
			f = l.launchLocked(slices.Clone(batch))
		default:
			l.commitBatch(batch)
			continue
		}
		if prev != nil {
			f = l.land(prev, f)
		}
		prev = f
	}
}

// commitBatch applies every job of the batch in one transaction, each in its
// own savepoint, and commits once. A refusal (insufficient funds, unknown
// account, ...) rolls back only its own savepoint. A database failure aborts
// the transaction (Write retries transient failures) and nothing of it is
// committed; the jobs of a failed batch are then applied one at a time, so
// that one job's own failure (a value the engine refuses, say) is that
// job's error alone and its neighbours commit.
func (l *Ledger) commitBatch(batch []*job) {
	if err := l.tryBatch(batch); err != nil && len(batch) > 1 {
		l.cfg.Log.Warn("ledger batch failed; applying its jobs one at a time", "jobs", len(batch), "err", err)
		for _, j := range batch {
			l.commitBatch([]*job{j})
		}
		return
	}
	for _, j := range batch {
		close(j.done)
	}
}

// tryBatch applies batch in one transaction and sets each job's outcome,
// unless the transaction failed: then it sets every job's error to the
// transaction's and returns it. It does not signal the jobs.
func (l *Ledger) tryBatch(batch []*job) error {
	ctx := context.Background()
	results := make([]Entry, len(batch))
	errs := make([]error, len(batch))
	var head chainHead
	err := l.db.Write(ctx, func(tx ledgerrec.Tx) error {
		shared, err := tx.LockJournal(ctx)
		if err != nil {
			return err
		}
		if shared {
			// Another koshd may have appended since our last batch.
			l.headLoaded = false
		}
		if err := l.loadHead(ctx, tx); err != nil {
			return err
		}
		head = chainHead{hash: l.head}
		return l.runBatch(ctx, tx, batch, &head, results, errs, newPipe(nil))
	})
	if err == nil {
		l.head = head.hash
	} else {
		// The batch may have committed all the same (a COMMIT whose answer
		// was lost): the next batch reads the head from the database.
		l.headLoaded = false
	}
	l.settle(batch, results, errs, err)
	return err
}

// settle gives each job of a batch its outcome: its own result, or the
// transaction's error if it failed.
func (l *Ledger) settle(batch []*job, results []Entry, errs []error, err error) {
	for i, j := range batch {
		if err != nil {
			j.entry, j.err = Entry{}, err
		} else {
			j.entry, j.err = results[i], errs[i]
		}
	}
	if err != nil && len(batch) == 1 {
		l.cfg.Log.Error("ledger job failed", "key", batch[0].req.IdempotencyKey, "err", err)
	}
}

// runBatch applies batch inside tx, the chain continuing from head (which
// it advances; a pending head it acquires, before anything is decided),
// each job's outcome in results and errs. A run of plain transfers on a
// BatchTx takes applyRun; every other job applyJob, once the batch
// committing before this one (p.prev, if any) has committed. An error is
// a database failure, which fails the whole transaction.
func (l *Ledger) runBatch(ctx context.Context, tx ledgerrec.Tx, batch []*job, head *chainHead,
	results []Entry, errs []error, p *pipe) error {
	bt, _ := tx.(ledgerrec.BatchTx)
	for i := 0; i < len(batch); i++ {
		if bt != nil {
			// A run of plain transfers in a few statements (plan.go).
			n, err := l.applyRun(ctx, bt, batch[i:], head, results[i:], errs[i:], p)
			if err != nil {
				return err
			}
			if i += n; i == len(batch) {
				break
			}
		}
		if err := head.acquire(ctx, tx); err != nil {
			return err
		}
		j := batch[i]
		results[i], errs[i] = Entry{}, nil
		j.head, j.newHead = head.hash, nil
		if err := j.ctx.Err(); err != nil {
			// The caller gave up before the job was applied: skip it,
			// so nothing is committed that the caller was told failed.
			errs[i] = err
			continue
		}
		// The per-job path reads what it changes: it must see every
		// earlier batch committed.
		if err := p.wait(); err != nil {
			return err
		}
		p.pure = false
		e, err := l.applyJob(ctx, tx, j)
		if err != nil && !isRefusal(err) {
			return err
		}
		results[i], errs[i] = e, err
		if err == nil && j.newHead != nil {
			head.hash = j.newHead
		}
	}
	// A batch of jobs whose callers all gave up still ends at the head.
	return head.acquire(ctx, tx)
}
