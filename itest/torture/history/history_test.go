package history

import (
	"reflect"
	"strings"
	"testing"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"google.golang.org/grpc/codes"
)

const (
	mint     = koshv1.EntryKind_ENTRY_KIND_MINT
	burn     = koshv1.EntryKind_ENTRY_KIND_BURN
	transfer = koshv1.EntryKind_ENTRY_KIND_TRANSFER
)

// fixture is a small consistent history: two mints; a transfer acknowledged
// and replayed; a burn whose call was cut after the daemon committed it,
// acknowledged by its retry; a transfer whose call was cut before it was
// committed, applied by its retry; one cut and never applied (its retry
// refused); one refused outright; one cut and not retried.
type fixture struct {
	ops     map[string]*Op
	journal []Entry
}

func ack(e Entry) Attempt { return Attempt{Outcome: Acked, Entry: e} }

func cut() Attempt {
	return Attempt{Outcome: Unknown, Code: codes.Unavailable, Err: "connection reset"}
}

func refuse() Attempt {
	return Attempt{Outcome: Refused, Code: codes.FailedPrecondition, Err: "insufficient funds"}
}

func newFixture() fixture {
	j := []Entry{
		{Seq: 1, Kind: mint, Credit: "a", Amount: 100, Key: "m1", CreditAfter: 100, SupplyAfter: 100},
		{Seq: 2, Kind: mint, Credit: "b", Amount: 50, Key: "m2", CreditAfter: 50, SupplyAfter: 150},
		{Seq: 4, Kind: transfer, Debit: "a", Credit: "b", Amount: 30, Key: "t1", DebitAfter: 70, CreditAfter: 80, SupplyAfter: 150},
		{Seq: 5, Kind: burn, Debit: "b", Amount: 20, Key: "b1", DebitAfter: 60, SupplyAfter: 130},
		{Seq: 7, Kind: transfer, Debit: "b", Credit: "a", Amount: 10, Key: "t2", DebitAfter: 50, CreditAfter: 80, SupplyAfter: 130},
	}
	ops := map[string]*Op{
		"m1": {Key: "m1", Kind: mint, To: "a", Amount: 100, Attempts: []Attempt{ack(j[0])}},
		"m2": {Key: "m2", Kind: mint, To: "b", Amount: 50, Attempts: []Attempt{ack(j[1])}},
		"t1": {Key: "t1", Kind: transfer, From: "a", To: "b", Amount: 30, Attempts: []Attempt{ack(j[2]), ack(j[2])}},
		// Committed by the killed daemon, found so after the restart, and
		// the retry answers that entry.
		"b1": {Key: "b1", Kind: burn, From: "b", Amount: 20, Attempts: []Attempt{cut(), ack(j[3])},
			Probed: true, Recovered: []Entry{j[3]}},
		// Not committed before the kill; the retry applies it.
		"t2": {Key: "t2", Kind: transfer, From: "b", To: "a", Amount: 10, Attempts: []Attempt{cut(), ack(j[4])}, Probed: true},
		"t3": {Key: "t3", Kind: transfer, From: "a", To: "b", Amount: 500, Attempts: []Attempt{cut(), refuse()}, Probed: true},
		"t4": {Key: "t4", Kind: transfer, From: "b", To: "a", Amount: 900, Attempts: []Attempt{refuse()}},
		"t5": {Key: "t5", Kind: transfer, From: "b", To: "a", Amount: 1, Attempts: []Attempt{cut()}, Probed: true},
	}
	return fixture{ops: ops, journal: j}
}

// state is the daemon's view that matches the journal.
func (f fixture) state() LedgerState {
	return LedgerState{Journal: f.journal, Balances: map[string]int64{"a": 80, "b": 50},
		Supply: 130, BalancesTotal: 130, JournalTotal: 130, Consistent: true}
}

func TestCheckPassesConsistentHistory(t *testing.T) {
	f := newFixture()
	r := Check(f.ops, f.state())
	if r.Failed() {
		t.Fatalf("a consistent history failed: %+v", r)
	}
	want := Report{Ops: 8, Acknowledged: 5, Unacknowledged: 4, Committed: 1, Refused: 2, Retried: 3, RetryApplied: 1, Replays: 1}
	r.Problems = nil
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("counts %+v, want %+v", r, want)
	}
}

// TestCheckCatches breaks the fixture one way at a time; each must be
// counted where it belongs, with a problem naming it.
func TestCheckCatches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		breakf func(f *fixture, st *LedgerState)
		field  func(r Report) int
		want   string
	}{
		{"acknowledged entry missing", func(f *fixture, st *LedgerState) {
			// The daemon lost b1 (seq 5) and everything it reports is
			// consistent without it.
			st.Journal = []Entry{f.journal[0], f.journal[1], f.journal[2],
				{Seq: 7, Kind: transfer, Debit: "b", Credit: "a", Amount: 10, Key: "t2", DebitAfter: 70, CreditAfter: 80, SupplyAfter: 150}}
			st.Balances = map[string]int64{"a": 80, "b": 70}
			st.Supply, st.BalancesTotal, st.JournalTotal = 150, 150, 150
		}, func(r Report) int { return r.Lost }, "b1: acknowledged"},
		{"acknowledged on retry, then missing", func(f *fixture, st *LedgerState) {
			st.Journal = f.journal[:4]
			st.Balances = map[string]int64{"a": 70, "b": 60}
		}, func(r Report) int { return r.Lost }, "t2: acknowledged"},
		{"retry applied twice", func(f *fixture, st *LedgerState) {
			dup := Entry{Seq: 8, Kind: transfer, Debit: "b", Credit: "a", Amount: 10, Key: "t2", DebitAfter: 40, CreditAfter: 90, SupplyAfter: 130}
			st.Journal = append(append([]Entry(nil), f.journal...), dup)
			st.Balances = map[string]int64{"a": 90, "b": 40}
		}, func(r Report) int { return r.Double }, "t2: 2 journal entries"},
		{"unacknowledged op applied twice", func(f *fixture, st *LedgerState) {
			st.Journal = append(append([]Entry(nil), f.journal...),
				Entry{Seq: 8, Kind: transfer, Debit: "b", Credit: "a", Amount: 1, Key: "t5", DebitAfter: 49, CreditAfter: 81, SupplyAfter: 130},
				Entry{Seq: 9, Kind: transfer, Debit: "b", Credit: "a", Amount: 1, Key: "t5", DebitAfter: 48, CreditAfter: 82, SupplyAfter: 130})
			st.Balances = map[string]int64{"a": 82, "b": 48}
		}, func(r Report) int { return r.Double }, "t5: 2 journal entries"},
		{"retry applied again what the killed daemon had committed", func(f *fixture, st *LedgerState) {
			again := f.journal[3]
			again.Seq = 9
			f.ops["b1"].Attempts[1] = ack(again)
		}, func(r Report) int { return r.Double }, "the retry applied it again as seq 9"},
		{"retry answered another result than the one committed", func(f *fixture, st *LedgerState) {
			again := f.journal[3]
			again.DebitAfter = 59
			f.ops["b1"].Attempts[1] = ack(again)
		}, func(r Report) int { return r.Mismatched }, "before the retry, the retry answered"},
		{"two entries for one key after the restart", func(f *fixture, st *LedgerState) {
			f.ops["b1"].Recovered = []Entry{f.journal[3], f.journal[3]}
		}, func(r Report) int { return r.Double }, "entries after the restart"},
		{"replay answered with a new seq", func(f *fixture, st *LedgerState) {
			again := f.journal[2]
			again.Seq = 9
			f.ops["t1"].Attempts[1] = ack(again)
		}, func(r Report) int { return r.Double }, "then again as seq 9"},
		{"replay answered a different result", func(f *fixture, st *LedgerState) {
			again := f.journal[2]
			again.CreditAfter = 81
			f.ops["t1"].Attempts[1] = ack(again)
		}, func(r Report) int { return r.Mismatched }, "t1: acknowledged as"},
		{"journal differs from the acknowledgement", func(f *fixture, st *LedgerState) {
			f.ops["m2"].Attempts[0].Entry.Seq = 3
		}, func(r Report) int { return r.Mismatched }, "m2: acknowledged as"},
		{"refused on retry, yet applied", func(f *fixture, st *LedgerState) {
			f.ops["t3"].Amount = 5 // small enough that only the refusal gives it away
			st.Journal = append(append([]Entry(nil), f.journal...),
				Entry{Seq: 8, Kind: transfer, Debit: "a", Credit: "b", Amount: 5, Key: "t3", DebitAfter: 75, CreditAfter: 55, SupplyAfter: 130})
			st.Balances = map[string]int64{"a": 75, "b": 55}
		}, func(r Report) int { return r.Invariant }, "t3: refused"},
		{"retry refused as a reused key", func(f *fixture, st *LedgerState) {
			f.ops["t3"].Attempts[1] = Attempt{Outcome: Refused, Code: codes.AlreadyExists, Err: "idempotency_key reused"}
		}, func(r Report) int { return r.Invariant }, "refused as a reuse of its key"},
		{"negative balance", func(f *fixture, st *LedgerState) {
			st.Journal = append(append([]Entry(nil), f.journal...),
				Entry{Seq: 8, Kind: transfer, Debit: "b", Credit: "a", Amount: 51, Key: "t5", DebitAfter: -1, CreditAfter: 131, SupplyAfter: 130})
			f.ops["t5"].Amount = 51
			st.Balances = map[string]int64{"a": 131, "b": -1}
		}, func(r Report) int { return r.Invariant }, "below zero"},
		{"entry nobody sent", func(f *fixture, st *LedgerState) {
			st.Journal = append(append([]Entry(nil), f.journal...),
				Entry{Seq: 8, Kind: mint, Credit: "a", Amount: 5, Key: "ghost", CreditAfter: 85, SupplyAfter: 135})
			st.Balances = map[string]int64{"a": 85, "b": 50}
			st.Supply, st.BalancesTotal, st.JournalTotal = 135, 135, 135
		}, func(r Report) int { return r.Invariant }, "no client sent"},
		{"entry differs from its request", func(f *fixture, st *LedgerState) {
			f.ops["t5"].Amount = 2
			st.Journal = append(append([]Entry(nil), f.journal...),
				Entry{Seq: 8, Kind: transfer, Debit: "b", Credit: "a", Amount: 1, Key: "t5", DebitAfter: 49, CreditAfter: 81, SupplyAfter: 130})
			st.Balances = map[string]int64{"a": 81, "b": 49}
		}, func(r Report) int { return r.Invariant }, "does not record the request"},
		{"balance differs from the replay", func(f *fixture, st *LedgerState) {
			st.Balances = map[string]int64{"a": 81, "b": 49}
		}, func(r Report) int { return r.Invariant }, "GetAccount says 81"},
		{"entry's balance-after differs from the replay", func(f *fixture, st *LedgerState) {
			st.Journal = append([]Entry(nil), f.journal...)
			st.Journal[3].DebitAfter = 61
			f.ops["b1"].Attempts[0].Entry.DebitAfter = 61
		}, func(r Report) int { return r.Invariant }, "debited balance became 61"},
		{"supply differs from the sum of balances", func(f *fixture, st *LedgerState) {
			st.Supply, st.Consistent = 131, false
		}, func(r Report) int { return r.Invariant }, "supply 131 != sum of balances 130"},
		{"balances of an account the run never made", func(f *fixture, st *LedgerState) {
			delete(st.Balances, "b")
		}, func(r Report) int { return r.Invariant }, "did not create"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			st := f.state()
			tc.breakf(&f, &st)
			r := Check(f.ops, st)
			if !r.Failed() || tc.field(r) == 0 {
				t.Fatalf("not caught where expected: %+v", r)
			}
			if !strings.Contains(strings.Join(r.Problems, "\n"), tc.want) {
				t.Fatalf("no problem mentions %q:\n%s", tc.want, strings.Join(r.Problems, "\n"))
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for c, want := range map[codes.Code]Outcome{
		codes.OK: Acked, codes.FailedPrecondition: Refused, codes.NotFound: Refused, codes.AlreadyExists: Refused,
		codes.InvalidArgument: Refused, codes.OutOfRange: Refused, codes.Unavailable: Unknown,
		codes.DeadlineExceeded: Unknown, codes.Canceled: Unknown, codes.Internal: Unknown, codes.Unknown: Unknown,
	} {
		if got := Classify(c); got != want {
			t.Errorf("classify(%s) = %d, want %d", c, got, want)
		}
	}
}
