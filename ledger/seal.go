package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/kosh-reserve/kosh/ledger/journalchain"
	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// The journal is a hash chain (package journalchain); Seal gives entries
// written before chain hashes theirs, and the committer extends it.

// ErrJournalTampered means the journal or the balances do not verify
// against the journal's hash chain: the database was edited outside koshd.
var ErrJournalTampered = journalchain.ErrTampered

// sealBatch is how many entries written before chain hashes Seal hashes
// per transaction.
const sealBatch = 10_000

// Seal gives every journal entry written before chain hashes (a database
// from an earlier koshd) its chain hash, in sequence order, and loads the
// chain's head for the committer. Call it before Start.
func (l *Ledger) Seal(ctx context.Context) error {
	sealed := 0
	for {
		done := false
		err := l.db.Write(ctx, func(tx ledgerrec.Tx) error {
			if _, err := tx.LockJournal(ctx); err != nil {
				return err
			}
			first, err := tx.FirstUnsealed(ctx)
			if err != nil || first == 0 {
				done = err == nil
				return err
			}
			var prev []byte
			if first > 1 {
				err := tx.ScanJournal(ctx, first-2, first-1, func(e ledgerrec.Entry) error { prev = e.ChainHash; return nil })
				if err != nil {
					return err
				}
				if prev == nil {
					return fmt.Errorf("%w: entry %d has no chain hash but a later one does", ErrJournalTampered, first-1)
				}
			}
			// Read the batch first: PostgreSQL cannot run the updates
			// while the scan's rows are open on the connection.
			var rows []ledgerrec.Entry
			err = tx.ScanJournal(ctx, first-1, first-1+sealBatch, func(e ledgerrec.Entry) error {
				if e.ChainHash != nil {
					return fmt.Errorf("%w: entry %d has a chain hash but an earlier one does not", ErrJournalTampered, e.Seq)
				}
				rows = append(rows, e)
				return nil
			})
			if err != nil {
				return err
			}
			for i := range rows {
				h := journalchain.Hash(prev, &rows[i])
				if err := tx.SetChainHash(ctx, rows[i].Seq, h); err != nil {
					return err
				}
				prev = h
			}
			sealed += len(rows)
			return nil
		})
		if err != nil {
			return fmt.Errorf("seal the journal: %w", err)
		}
		if done {
			break
		}
	}
	if sealed > 0 {
		l.cfg.Log.Info("sealed the journal written before chain hashes", "entries", sealed)
	}
	return l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		_, head, err := tx.JournalHead(ctx)
		l.head, l.headLoaded = head, err == nil
		return err
	})
}

// loadHead reads the chain's head inside the committer's transaction the
// first time it is needed (when Seal was not called).
func (l *Ledger) loadHead(ctx context.Context, tx ledgerrec.Tx) error {
	if l.headLoaded {
		return nil
	}
	head, err := readHead(ctx, tx)
	if err != nil {
		return err
	}
	l.head, l.headLoaded = head, true
	return nil
}

// readHead reads the chain hash of the journal's newest entry (nil for an
// empty journal).
func readHead(ctx context.Context, tx ledgerrec.Tx) ([]byte, error) {
	seq, head, err := tx.JournalHead(ctx)
	if err != nil {
		return nil, err
	}
	return head, checkHead(seq, head)
}

// checkHead refuses a journal head with entries but no chain hash.
func checkHead(seq int64, head []byte) error {
	if seq > 0 && head == nil {
		return errors.New("the journal has entries without chain hashes: call Seal before Start")
	}
	return nil
}

// chainHead is the journal's chain hash a batch appends after, as the
// batch goes. A batch that shares the database starts with it pending: it
// has not taken the journal's append lock yet, and the first of its
// statements that needs the head takes the lock and reads the head (with
// the rest of what it reads, in one round trip, when that is a run of
// transfers: applyRun).
type chainHead struct {
	hash    []byte
	pending bool
}

// acquire takes the journal's append lock and reads the head, unless the
// batch has already.
func (h *chainHead) acquire(ctx context.Context, tx ledgerrec.Tx) error {
	if !h.pending {
		return nil
	}
	if _, err := tx.LockJournal(ctx); err != nil {
		return err
	}
	hash, err := readHead(ctx, tx)
	if err != nil {
		return err
	}
	h.hash, h.pending = hash, false
	return nil
}
