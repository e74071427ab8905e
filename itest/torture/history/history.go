package history

import (
	"fmt"
	"sort"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"google.golang.org/grpc/codes"
)

// Entry is one journal entry as the checker sees it: from ListJournal, or
// from the entry a Mint, Burn or Transfer call acknowledged.
type Entry struct {
	Seq         int64
	Kind        koshv1.EntryKind
	Debit       string // account debited, "" for a mint
	Credit      string // account credited, "" for a burn
	Amount      int64
	Key         string
	DebitAfter  int64
	CreditAfter int64
	SupplyAfter int64
}

// EntryFromProto converts a journal entry from the API.
func EntryFromProto(e *koshv1.JournalEntry) Entry {
	return Entry{Seq: e.GetSeq(), Kind: e.GetKind(), Debit: e.GetDebitAccountId(), Credit: e.GetCreditAccountId(),
		Amount: e.GetAmount(), Key: e.GetIdempotencyKey(), DebitAfter: e.GetDebitBalanceAfter(),
		CreditAfter: e.GetCreditBalanceAfter(), SupplyAfter: e.GetSupplyAfter()}
}

// String describes the entry for a problem report.
func (e Entry) String() string {
	return fmt.Sprintf("seq %d %s key %q debit %q credit %q amount %d (after: debit %d credit %d supply %d)",
		e.Seq, e.Kind, e.Key, e.Debit, e.Credit, e.Amount, e.DebitAfter, e.CreditAfter, e.SupplyAfter)
}

// Outcome is what one call of an operation told the client.
type Outcome int

const (
	// Acked: the call returned a committed journal entry.
	Acked Outcome = iota + 1
	// Refused: a definite refusal (InvalidArgument, NotFound,
	// AlreadyExists, FailedPrecondition, OutOfRange): nothing was applied.
	Refused
	// Unknown: the connection was cut, the call timed out or was
	// cancelled, or the server failed: the operation may or may not have
	// been applied.
	Unknown
)

// Classify maps a call's gRPC status code to its outcome.
func Classify(c codes.Code) Outcome {
	switch c {
	case codes.OK:
		return Acked
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition, codes.OutOfRange:
		return Refused
	default:
		return Unknown
	}
}

// Attempt is one call of an operation and its answer.
type Attempt struct {
	Outcome Outcome
	Entry   Entry      // when acked
	Code    codes.Code // when not acked
	Err     string     // when not acked
}

// Op is one mint, burn or transfer request under one idempotency key, with
// every call made for it: the first, and at most one retry (after an
// unknown outcome) or replay (after an acknowledgement). Every call of an
// Op sends the identical request.
type Op struct {
	Key      string
	Kind     koshv1.EntryKind
	From     string // debited account ("" for a mint)
	To       string // credited account ("" for a burn)
	Amount   int64
	Attempts []Attempt

	// Probed is set when the journal was read for this key after the
	// restart and before the retry; Recovered is what it held then: the
	// entry the killed daemon committed, or nothing. A retry must answer
	// that entry, not apply the operation again.
	Probed    bool
	Recovered []Entry
}

// matches reports whether a journal entry records exactly this request.
func (o *Op) matches(e Entry) bool {
	return e.Kind == o.Kind && e.Debit == o.From && e.Credit == o.To && e.Amount == o.Amount && e.Key == o.Key
}

// LedgerState is what the daemon reports after a round: the whole journal
// of the asset, every account's balance (GetAccount), and GetSupply.
type LedgerState struct {
	Journal       []Entry
	Balances      map[string]int64 // account id -> balance of the asset, for every account the run created
	Supply        int64
	BalancesTotal int64
	JournalTotal  int64
	Consistent    bool
}

// Report is what Check found. Lost, Double, Mismatched and Invariant are
// failures; the rest are counts.
type Report struct {
	Ops            int // operations sent
	Acknowledged   int // operations acknowledged by some call
	Unacknowledged int // operations whose first call had an unknown outcome
	Refused        int // operations definitely refused, and never acknowledged
	Committed      int // unacknowledged operations the killed daemon had committed (found after the restart, before the retry)
	Retried        int // unacknowledged operations sent again
	RetryApplied   int // of those, applied by the retry itself (absent before it, present after)
	Replays        int // acknowledged operations sent again to check they answer the same

	Lost       int // acknowledged, absent from the journal
	Double     int // applied more than once: two journal entries for one key, or two answers with different seqs
	Mismatched int // acknowledged with one result, journalled (or replayed) with another
	Invariant  int // every other broken rule: replay, supply, negative balances, phantom entries, refused yet applied

	// Problems describes each failure, at most maxProblems of them.
	Problems []string
}

// MaxProblems caps Report.Problems; the counts go on.
const MaxProblems = 40

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Lost+r.Double+r.Mismatched+r.Invariant > 0 }

func (r *Report) problem(counter *int, format string, a ...any) {
	*counter++
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
	}
}

// Check compares what the clients were told (ops) with what the daemon
// holds (st):
//   - every acknowledged operation is in the journal exactly once, with the
//     acknowledged result, and every call of it that was acknowledged
//     reports the same entry;
//   - no operation is in the journal twice, and one that was definitely
//     refused is not in it at all; an operation whose calls all had unknown
//     outcomes is in it at most once;
//   - every journal entry is an operation a client sent, as sent;
//   - replaying the journal in seq order from zero reproduces every entry's
//     balances-after and supply-after, never takes a balance below zero,
//     and ends at the balances GetAccount reports and the supply GetSupply
//     reports, which equals the sum of balances and the journal total.
func Check(ops map[string]*Op, st LedgerState) Report {
	var r Report
	byKey := make(map[string][]Entry, len(st.Journal))
	for _, e := range st.Journal {
		byKey[e.Key] = append(byKey[e.Key], e)
	}

	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		checkOp(&r, ops[k], byKey[k])
	}
	for _, e := range st.Journal {
		if _, ok := ops[e.Key]; !ok {
			r.problem(&r.Invariant, "journal entry no client sent: %v", e)
		}
	}
	checkReplay(&r, st)
	return r
}

// checkOp checks one operation against its journal entries.
func checkOp(r *Report, o *Op, found []Entry) {
	r.Ops++
	if len(o.Attempts) == 0 {
		r.problem(&r.Invariant, "op %s: recorded without any call (a bug in the torture client)", o.Key)
		return
	}
	first := o.Attempts[0]
	var ack *Entry
	anyRefused := false
	for i := range o.Attempts {
		a := &o.Attempts[i]
		switch a.Outcome {
		case Acked:
			if ack == nil {
				ack = &a.Entry
				continue
			}
			if a.Entry.Seq != ack.Seq {
				r.problem(&r.Double, "op %s: acknowledged as seq %d, then again as seq %d: applied twice", o.Key, ack.Seq, a.Entry.Seq)
			} else if a.Entry != *ack {
				r.problem(&r.Mismatched, "op %s: acknowledged as %v, then answered %v", o.Key, *ack, a.Entry)
			}
		case Refused:
			anyRefused = true
			if a.Code == codes.AlreadyExists {
				r.problem(&r.Invariant, "op %s: the same request was refused as a reuse of its key (%s): %s", o.Key, a.Code, a.Err)
			}
		}
	}
	if o.Probed {
		if len(o.Recovered) > 1 {
			r.problem(&r.Double, "op %s: %d journal entries after the restart: applied more than once", o.Key, len(o.Recovered))
		}
		for _, a := range o.Attempts[1:] {
			if len(o.Recovered) == 0 || a.Outcome != Acked {
				continue
			}
			if was := o.Recovered[0]; a.Entry.Seq != was.Seq {
				r.problem(&r.Double, "op %s: committed as seq %d before the retry, the retry applied it again as seq %d", o.Key, was.Seq, a.Entry.Seq)
			} else if a.Entry != was {
				r.problem(&r.Mismatched, "op %s: committed as %v before the retry, the retry answered %v", o.Key, was, a.Entry)
			}
		}
	}
	switch {
	case first.Outcome == Unknown:
		r.Unacknowledged++
		if len(o.Recovered) > 0 {
			r.Committed++
		}
		if len(o.Attempts) > 1 {
			r.Retried++
			if o.Probed && len(o.Recovered) == 0 && len(found) > 0 {
				r.RetryApplied++
			}
		}
	case first.Outcome == Acked && len(o.Attempts) > 1:
		r.Replays++
	}

	if len(found) > 1 {
		seqs := make([]int64, len(found))
		for i, e := range found {
			seqs[i] = e.Seq
		}
		r.problem(&r.Double, "op %s: %d journal entries (seqs %v): applied more than once", o.Key, len(found), seqs)
	}
	for _, e := range found {
		if !o.matches(e) {
			r.problem(&r.Invariant, "op %s: journal entry %v does not record the request (%s %q -> %q amount %d)",
				o.Key, e, o.Kind, o.From, o.To, o.Amount)
		}
	}
	switch {
	case ack != nil:
		r.Acknowledged++
		if len(found) == 0 {
			r.problem(&r.Lost, "op %s: acknowledged as %v, absent from the journal", o.Key, *ack)
		} else if found[0] != *ack {
			r.problem(&r.Mismatched, "op %s: acknowledged as %v, journal holds %v", o.Key, *ack, found[0])
		}
	case anyRefused:
		r.Refused++
		if len(found) > 0 {
			r.problem(&r.Invariant, "op %s: refused (%s), yet the journal holds %v", o.Key, lastErr(o), found[0])
		}
	}
}

func lastErr(o *Op) string {
	for i := len(o.Attempts) - 1; i >= 0; i-- {
		if a := o.Attempts[i]; a.Outcome != Acked {
			return fmt.Sprintf("%s: %s", a.Code, a.Err)
		}
	}
	return ""
}

// checkReplay replays the journal from empty balances and compares every
// step and the end state with what the daemon reports.
func checkReplay(r *Report, st LedgerState) {
	journal := append([]Entry(nil), st.Journal...)
	sort.SliceStable(journal, func(i, j int) bool { return journal[i].Seq < journal[j].Seq })
	bal := map[string]int64{}
	var supply int64
	var prevSeq int64
	for i, e := range journal {
		if i > 0 && e.Seq == prevSeq {
			r.problem(&r.Invariant, "journal seq %d appears twice", e.Seq)
		}
		prevSeq = e.Seq
		if e.Amount <= 0 {
			r.problem(&r.Invariant, "journal entry with a non-positive amount: %v", e)
			continue
		}
		var ok bool
		switch e.Kind {
		case koshv1.EntryKind_ENTRY_KIND_MINT:
			ok = e.Debit == "" && e.Credit != ""
		case koshv1.EntryKind_ENTRY_KIND_BURN:
			ok = e.Debit != "" && e.Credit == ""
		case koshv1.EntryKind_ENTRY_KIND_TRANSFER:
			ok = e.Debit != "" && e.Credit != "" && e.Debit != e.Credit
		}
		if !ok {
			r.problem(&r.Invariant, "journal entry of kind %s with the wrong accounts: %v", e.Kind, e)
			continue
		}
		if e.Debit != "" {
			b, ok := addChecked(bal[e.Debit], -e.Amount)
			if !ok || b < 0 {
				r.problem(&r.Invariant, "replay: %v takes account %s from %d below zero", e, e.Debit, bal[e.Debit])
			}
			if b != e.DebitAfter {
				r.problem(&r.Invariant, "replay: %v says the debited balance became %d, replay gives %d", e, e.DebitAfter, b)
			}
			bal[e.Debit] = b
		}
		if e.Credit != "" {
			b, ok := addChecked(bal[e.Credit], e.Amount)
			if !ok {
				r.problem(&r.Invariant, "replay: %v overflows account %s", e, e.Credit)
			}
			if b != e.CreditAfter {
				r.problem(&r.Invariant, "replay: %v says the credited balance became %d, replay gives %d", e, e.CreditAfter, b)
			}
			bal[e.Credit] = b
		}
		switch e.Kind {
		case koshv1.EntryKind_ENTRY_KIND_MINT:
			supply, ok = addChecked(supply, e.Amount)
		case koshv1.EntryKind_ENTRY_KIND_BURN:
			supply, ok = addChecked(supply, -e.Amount)
		default:
			ok = true
		}
		if !ok || supply < 0 {
			r.problem(&r.Invariant, "replay: %v takes the supply out of range (%d)", e, supply)
		}
		if supply != e.SupplyAfter {
			r.problem(&r.Invariant, "replay: %v says the supply became %d, replay gives %d", e, e.SupplyAfter, supply)
		}
	}

	// End state: every account the run created, and any the journal names.
	accounts := map[string]bool{}
	for a := range st.Balances {
		accounts[a] = true
	}
	for a := range bal {
		accounts[a] = true
	}
	ids := make([]string, 0, len(accounts))
	for a := range accounts {
		ids = append(ids, a)
	}
	sort.Strings(ids)
	var total int64
	for _, a := range ids {
		got, known := st.Balances[a]
		if !known {
			r.problem(&r.Invariant, "journal names account %s, which the run did not create", a)
			continue
		}
		if got < 0 {
			r.problem(&r.Invariant, "account %s has a negative balance %d", a, got)
		}
		if got != bal[a] {
			r.problem(&r.Invariant, "account %s: GetAccount says %d, the journal replays to %d", a, got, bal[a])
		}
		var ok bool
		if total, ok = addChecked(total, got); !ok {
			r.problem(&r.Invariant, "the sum of balances overflows int64")
		}
	}
	if supply != st.Supply {
		r.problem(&r.Invariant, "GetSupply says supply %d, the journal replays to %d", st.Supply, supply)
	}
	if total != st.Supply {
		r.problem(&r.Invariant, "supply %d != sum of balances %d", st.Supply, total)
	}
	if st.BalancesTotal != total || st.JournalTotal != supply {
		r.problem(&r.Invariant, "GetSupply totals (balances %d, journal %d) differ from the replay (balances %d, journal %d)",
			st.BalancesTotal, st.JournalTotal, total, supply)
	}
	if !st.Consistent {
		r.problem(&r.Invariant, "GetSupply reports inconsistent: supply %d, balances %d, journal %d",
			st.Supply, st.BalancesTotal, st.JournalTotal)
	}
}

// addChecked returns a+b and whether it stayed in the int64 range.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return s, false
	}
	return s, true
}
