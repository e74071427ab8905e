package ledger

import (
	"context"
	"errors"
	"sync"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// Pipelined group commit (PostgreSQL). A batch's commit waits for the
// server to flush its WAL; meanwhile the committer gathers the next batch
// and a second transaction prepares it: it reads, decides and writes while
// the first commits, and commits only once the first has. With clients
// waiting on the first batch's commit, the next batch would otherwise wait
// for it too, and batches alternated between two halves of the clients.
//
// What keeps the result what one batch after the other would give:
//   - the second batch starts deciding only once the first has finished
//     deciding (planned), from the first's chain head;
//   - the balances and keys the first wrote, not yet visible to the second
//     transaction, stand in for what the second reads (after, used); a
//     balance row the first inserted is written by the second only after
//     the first committed (an UPDATE cannot see an uncommitted row); a
//     balance the first changed is written by a compare-and-set with the
//     first's figure, which waits for the first's row lock and fails the
//     second batch if the first did not commit that figure;
//   - anything but a run of plain transfers (a mint, a burn, a refusal, a
//     replay) waits for the first batch to commit before it reads, and so
//     does a whole batch after a first that had such a job (not pure);
//   - the second commits only if the first committed: if the first failed,
//     the second rolls back and both batches are applied again, one after
//     the other, as commitBatch does (the journal's chain never holds an
//     entry whose predecessor was rolled back);
//   - at most two transactions are open: the committer lands the first
//     before it gathers the batch after the second.

// errPrevFailed fails a pipelined batch whose predecessor did not commit.
var errPrevFailed = errors.New("ledger: the batch before this one did not commit")

// errNoRetry refuses to run a pipelined batch's transaction again after
// the next batch started from what its first attempt decided.
var errNoRetry = errors.New("ledger: a pipelined batch cannot be retried once the next batch relies on it")

// flight is a pipelined batch and its transaction.
type flight struct {
	batch   []*job
	results []Entry
	errs    []error

	// planned is closed once the batch is decided and written (or its
	// transaction failed first: then ok is false). head, pure, after, used
	// and inserted are then set, and not changed again.
	planned   chan struct{}
	closePlan sync.Once
	ok        bool
	head      []byte
	*pipe

	// done is closed when the transaction has committed (err nil) or
	// failed.
	done chan struct{}
	err  error
	// locked says the batch does not rely on the one before it: it took
	// the journal's append lock, which waits for that one to end, and read
	// everything afresh (launchLocked).
	locked bool
}

// pipe is what a batch's transaction knows of the batch committing before
// it (prev), and gathers for the batch after it.
type pipe struct {
	prev   *flight
	waited bool
	// pure says the batch was only runs of plain transfers.
	pure bool
	// after holds every balance the batch wrote, as it left it; used the
	// keys of its entries; inserted the balance rows it created.
	after    map[ledgerrec.BalanceKey]ledgerrec.BalanceState
	used     map[ledgerrec.IdemKey]bool
	inserted map[ledgerrec.BalanceKey]bool
}

func newPipe(prev *flight) *pipe {
	return &pipe{prev: prev, pure: true, after: map[ledgerrec.BalanceKey]ledgerrec.BalanceState{},
		used: map[ledgerrec.IdemKey]bool{}, inserted: map[ledgerrec.BalanceKey]bool{}}
}

// wait waits for the batch before this one to commit; errPrevFailed if it
// did not.
func (p *pipe) wait() error {
	if p.prev == nil || p.waited {
		return nil
	}
	<-p.prev.done
	p.waited = true
	if p.prev.err != nil {
		return errPrevFailed
	}
	return nil
}

// launch starts batch's transaction, after prev's (nil if none is in
// flight; otherwise the committer lands prev next).
func (l *Ledger) launch(batch []*job, prev *flight) *flight {
	f := &flight{batch: batch, results: make([]Entry, len(batch)), errs: make([]error, len(batch)),
		planned: make(chan struct{}), done: make(chan struct{})}
	go func() {
		ctx := context.Background()
		attempts := 0
		f.err = l.db.Write(ctx, func(tx ledgerrec.Tx) error {
			if attempts++; attempts > 1 {
				select {
				case <-f.planned:
					return errNoRetry
				default:
				}
			}
			// With no batch in flight the chain continues from l.head (the
			// committer leaves it alone until this batch lands), otherwise
			// from prev's head.
			p := newPipe(nil)
			var h chainHead
			if prev != nil {
				<-prev.planned
				if !prev.ok {
					return errPrevFailed
				}
				p.prev, h.hash = prev, prev.head
				if !prev.pure {
					if err := p.wait(); err != nil {
						return err
					}
				}
			}
			if err := l.loadHead(ctx, tx); err != nil {
				return err
			}
			if prev == nil {
				h.hash = l.head
			}
			if err := l.runBatch(ctx, tx, f.batch, &h, f.results, f.errs, p); err != nil {
				return err
			}
			f.head, f.pipe, f.ok = h.hash, p, true
			f.closePlan.Do(func() { close(f.planned) })
			// Commit only after the batch before this one has.
			return p.wait()
		})
		f.closePlan.Do(func() { close(f.planned) })
		if f.pipe != nil {
			f.pipe.prev = nil // let the flights before this one be collected
		}
		close(f.done)
	}()
	return f
}

// launchLocked starts batch's transaction beside the one before it, for a
// ledger that shares its database with other writers (PostgreSQL without
// Config.SingleWriter). The transaction first takes the journal's append
// lock, which waits for the batch before it to commit or roll back, then
// reads the chain head and everything it decides from as any single batch
// does: it relies on nothing of the batch before it. What the overlap buys
// is the round trips and the committer's work between two batches
// (settling one, gathering the next), which no longer sit between one
// commit and the next. A batch that starts with a run of transfers sends
// the lock and its first read together (ReadRun's lock, chainHead), so
// that the read starts as soon as the lock is granted, with no round trip
// between.
func (l *Ledger) launchLocked(batch []*job) *flight {
	f := &flight{batch: batch, results: make([]Entry, len(batch)), errs: make([]error, len(batch)),
		planned: make(chan struct{}), done: make(chan struct{}), locked: true}
	go func() {
		ctx := context.Background()
		f.err = l.db.Write(ctx, func(tx ledgerrec.Tx) error {
			// The batch's first statement takes the lock and reads the
			// head (chainHead.pending).
			h := chainHead{pending: true}
			if err := l.runBatch(ctx, tx, f.batch, &h, f.results, f.errs, newPipe(nil)); err != nil {
				return err
			}
			f.head, f.ok = h.hash, true
			// The committer may gather and launch the next batch now.
			f.closePlan.Do(func() { close(f.planned) })
			return nil
		})
		f.closePlan.Do(func() { close(f.planned) })
		close(f.done)
	}()
	return f
}

// land waits for f's transaction and settles its jobs, and returns next
// (the batch launched after f). If f failed, next has rolled back: land
// waits for it, applies both batches again without pipelining
// (commitBatch: each batch whole, then one job at a time), and returns
// nil.
func (l *Ledger) land(f, next *flight) *flight {
	<-f.done
	if f.err == nil {
		l.head = f.head
		l.settle(f.batch, f.results, f.errs, nil)
		for _, j := range f.batch {
			close(j.done)
		}
		return next
	}
	if next != nil && next.locked {
		// next read everything afresh under the append lock, after f
		// ended: it stands on its own and lands as usual.
		l.cfg.Log.Warn("ledger batch failed; applying its jobs again", "jobs", len(f.batch), "err", f.err)
		l.commitBatch(f.batch)
		return next
	}
	if next != nil {
		<-next.done
	}
	l.cfg.Log.Warn("pipelined ledger batch failed; applying it again", "jobs", len(f.batch), "err", f.err)
	l.commitBatch(f.batch)
	if next != nil {
		l.commitBatch(next.batch)
	}
	return nil
}
