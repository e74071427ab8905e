package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// The journal is a hash chain: every entry stores
//
//	chain_hash = TaggedHash("kosh/journal-entry", prev || fields)
//
// where prev is the previous entry's chain hash (32 zero bytes before the
// first) and fields the entry's content, each field length-prefixed. An
// entry edited, deleted or reordered in the database outside koshd breaks
// the chain, and so does a balance or supply changed without its entry:
// Freeze replays the chain up to its cut-off and compares, so that an
// attestation never signs an edited history (ErrJournalTampered).
//
// The chain protects against edits by someone who can write the database
// but does not run koshd's code; someone who can rewrite every hash after
// an edit can forge it. Attestations (signed, published, anchored) and
// holders' receipts are what protect history against the issuer itself.

// ErrJournalTampered means the journal or the balances do not verify
// against the journal's hash chain: the database was edited outside koshd.
var ErrJournalTampered = errors.New("the journal does not verify: the database was changed outside koshd")

var journalTag = taghash.New("kosh/journal-entry")

// sealBatch is how many entries written before chain hashes Seal hashes
// per transaction.
const sealBatch = 10_000

// entryHash is an entry's chain hash after prev (nil before the first).
func entryHash(prev []byte, r *ledgerrec.Entry) []byte {
	var zero [32]byte
	if prev == nil {
		prev = zero[:]
	}
	b := make([]byte, 0, 256)
	num := func(v int64) { b = binary.BigEndian.AppendUint64(b, uint64(v)) }
	str := func(s string) { b = binary.BigEndian.AppendUint32(b, uint32(len(s))); b = append(b, s...) }
	num(int64(r.Kind))
	str(r.AssetCode)
	str(r.DebitAccountID)
	str(r.CreditAccountID)
	num(r.Amount)
	str(r.Memo)
	str(r.IdemScope)
	str(r.IdemKey)
	str(string(r.RequestHash))
	num(r.DebitBalanceAfter)
	num(r.CreditBalanceAfter)
	num(r.SupplyAfter)
	num(r.CreatedAt)
	h := journalTag.Sum(prev, b)
	return h[:]
}

// Seal gives every journal entry written before chain hashes (a database
// from an earlier koshd) its chain hash, in sequence order, and loads the
// chain's head for the committer. Call it before Start.
func (l *Ledger) Seal(ctx context.Context) error {
	sealed := 0
	for {
		done := false
		err := l.db.Write(ctx, func(tx ledgerrec.Tx) error {
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
				h := entryHash(prev, &rows[i])
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
	seq, head, err := tx.JournalHead(ctx)
	if err != nil {
		return err
	}
	if seq > 0 && head == nil {
		return errors.New("the journal has entries without chain hashes: call Seal before Start")
	}
	l.head, l.headLoaded = head, true
	return nil
}

// verifyJournal replays the journal up to f.CutoffSeq within tx's snapshot:
// every chain hash must follow from its predecessor and the entry's fields,
// every entry's balances and supply after it must follow from the ones
// before it, and the replayed balances and supplies must be the frozen
// ones. It returns an error wrapping ErrJournalTampered naming the first
// thing that does not verify.
func verifyJournal(ctx context.Context, tx ledgerrec.Tx, f *Frozen) error {
	type acct struct {
		ids []string // sorted account ids with a non-zero frozen balance
		bal []int64  // their replayed balances
		// zero holds the replayed balances of accounts not in ids: they
		// must all end at 0.
		zero   map[string]int64
		supply int64
	}
	byCode := map[string]*acct{}
	for i := range f.Assets {
		fa := &f.Assets[i]
		a := &acct{ids: make([]string, len(fa.Balances)), bal: make([]int64, len(fa.Balances)), zero: map[string]int64{}}
		for j, b := range fa.Balances {
			a.ids[j] = b.AccountID
		}
		if !slices.IsSorted(a.ids) {
			slices.Sort(a.ids)
		}
		byCode[fa.Asset.Code] = a
	}
	get := func(a *acct, id string) int64 {
		if i, ok := slices.BinarySearch(a.ids, id); ok {
			return a.bal[i]
		}
		return a.zero[id]
	}
	put := func(a *acct, id string, v int64) {
		if i, ok := slices.BinarySearch(a.ids, id); ok {
			a.bal[i] = v
		} else {
			a.zero[id] = v
		}
	}
	tampered := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrJournalTampered, fmt.Sprintf(format, args...))
	}
	var prev []byte
	var last int64
	err := tx.ScanJournal(ctx, 0, f.CutoffSeq, func(e ledgerrec.Entry) error {
		if e.Seq <= last {
			return tampered("entry %d follows entry %d", e.Seq, last)
		}
		last = e.Seq
		if want := entryHash(prev, &e); string(want) != string(e.ChainHash) {
			return tampered("entry %d (%s %d %s) does not match its chain hash", e.Seq, kindName(e.Kind), e.Amount, e.AssetCode)
		}
		prev = e.ChainHash
		a := byCode[e.AssetCode]
		if a == nil {
			return tampered("entry %d is of asset %s, which has no frozen figures", e.Seq, e.AssetCode)
		}
		switch e.Kind {
		case ledgerrec.EntryMint:
			if a.supply > math.MaxInt64-e.Amount {
				return tampered("entry %d takes the supply of %s past int64", e.Seq, e.AssetCode)
			}
			a.supply += e.Amount
		case ledgerrec.EntryBurn:
			a.supply -= e.Amount
		}
		if a.supply != e.SupplyAfter || a.supply < 0 {
			return tampered("entry %d says the supply of %s became %d; replayed it is %d", e.Seq, e.AssetCode, e.SupplyAfter, a.supply)
		}
		if e.DebitAccountID != "" {
			b := get(a, e.DebitAccountID) - e.Amount
			if b != e.DebitBalanceAfter || b < 0 {
				return tampered("entry %d says account %s held %d %s after it; replayed it holds %d", e.Seq, e.DebitAccountID, e.DebitBalanceAfter, e.AssetCode, b)
			}
			put(a, e.DebitAccountID, b)
		}
		if e.CreditAccountID != "" {
			b := get(a, e.CreditAccountID)
			if b > math.MaxInt64-e.Amount || b+e.Amount != e.CreditBalanceAfter {
				return tampered("entry %d says account %s held %d %s after it; replayed it holds %d", e.Seq, e.CreditAccountID, e.CreditBalanceAfter, e.AssetCode, b+e.Amount)
			}
			put(a, e.CreditAccountID, b+e.Amount)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if last != f.CutoffSeq {
		return tampered("the journal ends at entry %d, not at the cut-off %d", last, f.CutoffSeq)
	}
	for _, fa := range f.Assets {
		a := byCode[fa.Asset.Code]
		if a.supply != fa.Asset.Supply {
			return tampered("the supply of %s is %d; the journal replays to %d", fa.Asset.Code, fa.Asset.Supply, a.supply)
		}
		for _, b := range fa.Balances {
			if got := get(a, b.AccountID); got != b.Balance {
				return tampered("account %s holds %d %s; the journal replays to %d", b.AccountID, b.Balance, fa.Asset.Code, got)
			}
		}
		for id, v := range a.zero {
			if v != 0 {
				return tampered("account %s holds no %s; the journal replays to %d", id, fa.Asset.Code, v)
			}
		}
	}
	return nil
}

func kindName(k int32) string {
	switch k {
	case ledgerrec.EntryMint:
		return "mint"
	case ledgerrec.EntryBurn:
		return "burn"
	case ledgerrec.EntryTransfer:
		return "transfer"
	}
	return strings.ToLower(fmt.Sprintf("kind-%d", k))
}
