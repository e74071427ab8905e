// Package journalchain keeps the ledger's journal honest against edits
// made in the database outside koshd.
//
// The journal is a hash chain: every entry stores
//
//	chain_hash = TaggedHash("kosh/journal-entry", prev || fields)
//
// where prev is the previous entry's chain hash (32 zero bytes before the
// first) and fields the entry's content, each field length-prefixed. An
// entry edited, deleted or reordered in the database outside koshd breaks
// the chain, and so does a balance or supply changed without its entry:
// the ledger's Freeze replays the chain up to its cut-off (Verify) and
// compares, so that an attestation never signs an edited history
// (ErrTampered).
//
// The chain protects against edits by someone who can write the database
// but does not run koshd's code; someone who can rewrite every hash after
// an edit can forge it. Attestations (signed, published, anchored) and
// holders' receipts are what protect history against the issuer itself.
package journalchain

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

// ErrTampered means the journal or the balances do not verify against the
// journal's hash chain: the database was edited outside koshd.
var ErrTampered = errors.New("the journal does not verify: the database was changed outside koshd")

var journalTag = taghash.New("kosh/journal-entry")

// Hash is an entry's chain hash after prev (nil before the first).
func Hash(prev []byte, r *ledgerrec.Entry) []byte {
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

// Balance is one account's non-zero balance.
type Balance struct {
	AccountID string
	Balance   int64
	// LastSeq is the sequence of the last journal entry at or before the
	// cut-off that changed the balance; Verify fills it in from its replay
	// (version 2 liability trees commit to it, docs/proofs.md 3.15).
	LastSeq int64
}

// Figures are one asset's supply and balances as read at the cut-off.
type Figures struct {
	Code   string
	Supply int64
	// Balances are every non-zero holding.
	Balances []Balance
}

// Verify replays the journal up to cutoff within tx's snapshot:
// every chain hash must follow from its predecessor and the entry's fields,
// every entry's balances and supply after it must follow from the ones
// before it, and the replayed balances and supplies must be the frozen
// ones (assets). It returns an error wrapping ErrTampered naming the first
// thing that does not verify. On success it has set every frozen balance's
// LastSeq.
func Verify(ctx context.Context, tx ledgerrec.Tx, cutoff int64, assets []Figures) error {
	type acct struct {
		ids []string // sorted account ids with a non-zero frozen balance
		bal []int64  // their replayed balances
		seq []int64  // the last entry that changed each of them
		// zero holds the replayed balances of accounts not in ids: they
		// must all end at 0.
		zero   map[string]int64
		supply int64
	}
	byCode := map[string]*acct{}
	for i := range assets {
		fa := &assets[i]
		a := &acct{ids: make([]string, len(fa.Balances)), bal: make([]int64, len(fa.Balances)),
			seq: make([]int64, len(fa.Balances)), zero: map[string]int64{}}
		for j, b := range fa.Balances {
			a.ids[j] = b.AccountID
		}
		if !slices.IsSorted(a.ids) {
			slices.Sort(a.ids)
		}
		byCode[fa.Code] = a
	}
	get := func(a *acct, id string) int64 {
		if i, ok := slices.BinarySearch(a.ids, id); ok {
			return a.bal[i]
		}
		return a.zero[id]
	}
	put := func(a *acct, id string, v, seq int64) {
		if i, ok := slices.BinarySearch(a.ids, id); ok {
			a.bal[i], a.seq[i] = v, seq
		} else {
			a.zero[id] = v
		}
	}
	tampered := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrTampered, fmt.Sprintf(format, args...))
	}
	var prev []byte
	var last int64
	err := tx.ScanJournal(ctx, 0, cutoff, func(e ledgerrec.Entry) error {
		if e.Seq <= last {
			return tampered("entry %d follows entry %d", e.Seq, last)
		}
		last = e.Seq
		if want := Hash(prev, &e); string(want) != string(e.ChainHash) {
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
			put(a, e.DebitAccountID, b, e.Seq)
		}
		if e.CreditAccountID != "" {
			b := get(a, e.CreditAccountID)
			if b > math.MaxInt64-e.Amount || b+e.Amount != e.CreditBalanceAfter {
				return tampered("entry %d says account %s held %d %s after it; replayed it holds %d", e.Seq, e.CreditAccountID, e.CreditBalanceAfter, e.AssetCode, b+e.Amount)
			}
			put(a, e.CreditAccountID, b+e.Amount, e.Seq)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if last != cutoff {
		return tampered("the journal ends at entry %d, not at the cut-off %d", last, cutoff)
	}
	for _, fa := range assets {
		a := byCode[fa.Code]
		if a.supply != fa.Supply {
			return tampered("the supply of %s is %d; the journal replays to %d", fa.Code, fa.Supply, a.supply)
		}
		for j, b := range fa.Balances {
			if got := get(a, b.AccountID); got != b.Balance {
				return tampered("account %s holds %d %s; the journal replays to %d", b.AccountID, b.Balance, fa.Code, got)
			}
			i, _ := slices.BinarySearch(a.ids, b.AccountID)
			fa.Balances[j].LastSeq = a.seq[i]
		}
		for id, v := range a.zero {
			if v != 0 {
				return tampered("account %s holds no %s; the journal replays to %d", id, fa.Code, v)
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
