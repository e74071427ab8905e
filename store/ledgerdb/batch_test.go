package ledgerdb_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/ledgerdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// TestBatchTx exercises PostgreSQL's ledgerrec.BatchTx: ReadRun reports
// used keys, balances (an account without a row, an unknown account) and
// supplies; WriteBatch writes balances, holders and entries, with seqs
// ascending in entry order; and a write whose compare-and-set does not
// hold (a balance changed since it was read, a row that appeared) fails
// the whole call, leaving nothing written once the transaction rolls back.
// SQLite's write transactions are not BatchTxs.
func TestBatchTx(t *testing.T) {
	ctx := context.Background()
	lite, err := ledgerdb.Open(ctx, storetest.Open(t, store.SQLite))
	if err != nil {
		t.Fatal(err)
	}
	if err := lite.Write(ctx, func(tx ledgerrec.Tx) error {
		if _, ok := tx.(ledgerrec.BatchTx); ok {
			t.Error("a SQLite write transaction is a BatchTx")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	db, err := ledgerdb.Open(ctx, storetest.Open(t, store.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	write := func(fn func(tx ledgerrec.BatchTx) error) error {
		return db.Write(ctx, func(tx ledgerrec.Tx) error {
			bt, ok := tx.(ledgerrec.BatchTx)
			if !ok {
				t.Fatal("a PostgreSQL write transaction is not a BatchTx")
			}
			return fn(bt)
		})
	}
	var asset int64
	if err := write(func(tx ledgerrec.BatchTx) error {
		a, err := tx.InsertAsset(ctx, ledgerrec.Asset{Code: "KSH", Name: "k", Peg: 1, MinCoverageBps: 10000, CreatedAt: 1})
		if err != nil {
			return err
		}
		asset = a.ID
		for _, id := range []string{"a", "b", "c"} {
			if _, err := tx.InsertAccount(ctx, ledgerrec.Account{ID: id, Label: id, CreatedAt: 1}); err != nil {
				return err
			}
		}
		if _, err := tx.AddSupply(ctx, asset, 10); err != nil {
			return err
		}
		if _, err := tx.Credit(ctx, "a", asset, 10); err != nil {
			return err
		}
		_, err = tx.InsertEntry(ctx, ledgerrec.Entry{Kind: ledgerrec.EntryMint, AssetID: asset, CreditAccountID: "a",
			Amount: 10, IdemScope: "s", IdemKey: "m", RequestHash: []byte{1}, CreditBalanceAfter: 10, SupplyAfter: 10, CreatedAt: 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	key := func(k string) ledgerrec.IdemKey { return ledgerrec.IdemKey{Scope: "s", Key: k} }
	bal := func(id string) ledgerrec.BalanceKey { return ledgerrec.BalanceKey{AccountID: id, AssetID: asset} }
	transfer := func(k, from, to string, amount, fromAfter, toAfter int64) ledgerrec.Entry {
		return ledgerrec.Entry{Kind: ledgerrec.EntryTransfer, AssetID: asset, DebitAccountID: from, CreditAccountID: to,
			Amount: amount, IdemScope: "s", IdemKey: k, RequestHash: []byte{2}, DebitBalanceAfter: fromAfter,
			CreditBalanceAfter: toAfter, SupplyAfter: 10, CreatedAt: 2, ChainHash: []byte{3}}
	}

	if err := write(func(tx ledgerrec.BatchTx) error {
		rs, err := tx.ReadRun(ctx, []ledgerrec.IdemKey{key("m"), key("t1")},
			[]ledgerrec.BalanceKey{bal("a"), bal("b"), bal("nobody")}, []int64{asset}, false)
		if err != nil {
			return err
		}
		if rs.HeadSeq != 0 || rs.Head != nil {
			t.Errorf("ReadRun without the lock read the head: %d %x", rs.HeadSeq, rs.Head)
		}
		if !rs.Used[key("m")] || rs.Used[key("t1")] || len(rs.Used) != 1 {
			t.Errorf("used keys %v, want only m", rs.Used)
		}
		want := map[ledgerrec.BalanceKey]ledgerrec.BalanceState{
			bal("a"):      {AccountExists: true, HasRow: true, Balance: 10},
			bal("b"):      {AccountExists: true},
			bal("nobody"): {},
		}
		for k, w := range want {
			if got, ok := rs.Balances[k]; !ok || got != w {
				t.Errorf("balance %v: %+v (present %v), want %+v", k, got, ok, w)
			}
		}
		if rs.Supply[asset] != 10 {
			t.Errorf("supply %v, want 10", rs.Supply)
		}
		// a gives all 10 to b (a stops holding, b starts), then b 4 to c.
		seqs, err := tx.WriteBatch(ctx, []ledgerrec.BalanceWrite{
			{BalanceKey: bal("a"), HadRow: true, Old: 10, New: 0},
			{BalanceKey: bal("b"), New: 6},
			{BalanceKey: bal("c"), New: 4},
		}, map[int64]int64{asset: 1}, []ledgerrec.Entry{transfer("t1", "a", "b", 10, 0, 10), transfer("t2", "b", "c", 4, 6, 4)})
		if err != nil {
			return err
		}
		if len(seqs) != 2 || seqs[0] <= 1 || seqs[1] <= seqs[0] {
			t.Errorf("seqs %v, want two ascending after the mint's", seqs)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check := func(wantJournal int64, want map[string]int64, wantHolders int64) {
		t.Helper()
		if err := db.Read(ctx, func(tx ledgerrec.Tx) error {
			for id, w := range want {
				if b, err := tx.Balance(ctx, id, asset); err != nil || b != w {
					t.Errorf("balance of %s: %d, %v; want %d", id, b, err, w)
				}
			}
			a, err := tx.AssetByCode(ctx, "KSH")
			if err != nil {
				return err
			}
			if a.Holders != wantHolders {
				t.Errorf("holders %d, want %d", a.Holders, wantHolders)
			}
			if seq, err := tx.LastJournalSeq(ctx); err != nil || seq != wantJournal {
				t.Errorf("last journal seq %d, %v; want %d", seq, err, wantJournal)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check(3, map[string]int64{"a": 0, "b": 6, "c": 4}, 2)

	for name, w := range map[string]ledgerrec.BalanceWrite{
		"stale balance":   {BalanceKey: bal("b"), HadRow: true, Old: 7, New: 5},
		"row appeared":    {BalanceKey: bal("c"), New: 1},
		"row not there":   {BalanceKey: bal("a"), HadRow: true, Old: 1, New: 0},
		"negative result": {BalanceKey: bal("b"), HadRow: true, Old: 6, New: -1},
	} {
		err := write(func(tx ledgerrec.BatchTx) error {
			_, err := tx.WriteBatch(ctx, []ledgerrec.BalanceWrite{
				{BalanceKey: bal("a"), HadRow: true, Old: 0, New: 1}, w,
			}, nil, []ledgerrec.Entry{transfer("t3", "b", "a", 1, 5, 1)})
			return err
		})
		if err == nil {
			t.Errorf("%s: WriteBatch succeeded", name)
		}
		check(3, map[string]int64{"a": 0, "b": 6, "c": 4}, 2)
	}
	// An entry naming an account whose balance the call does not write
	// (here one that does not exist) fails it: the journal has no foreign
	// keys on PostgreSQL (migration 0020).
	for _, to := range []string{"a", "nobody"} {
		err := write(func(tx ledgerrec.BatchTx) error {
			_, err := tx.WriteBatch(ctx, []ledgerrec.BalanceWrite{
				{BalanceKey: bal("b"), HadRow: true, Old: 6, New: 5},
			}, nil, []ledgerrec.Entry{transfer("t4", "b", to, 1, 5, 1)})
			return err
		})
		if err == nil {
			t.Errorf("an entry crediting %s without writing its balance: WriteBatch succeeded", to)
		}
		check(3, map[string]int64{"a": 0, "b": 6, "c": 4}, 2)
	}
	// A used key fails the call too.
	err = write(func(tx ledgerrec.BatchTx) error {
		_, err := tx.WriteBatch(ctx, []ledgerrec.BalanceWrite{
			{BalanceKey: bal("b"), HadRow: true, Old: 6, New: 5},
			{BalanceKey: bal("a"), HadRow: true, Old: 0, New: 1},
		}, map[int64]int64{asset: 1}, []ledgerrec.Entry{transfer("t2", "b", "a", 1, 5, 1)})
		return err
	})
	if !store.IsUniqueViolation(err) {
		t.Errorf("used key: %v, want a unique violation", err)
	}
	check(3, map[string]int64{"a": 0, "b": 6, "c": 4}, 2)
}

// TestWriteBatchWaitsForLock: a compare-and-set on a balance that another
// transaction changed and has not committed yet (the pipelined batch before
// this one) waits for its lock and succeeds once it commits the figure the
// write expects. (Filtering on "balance = old" would skip the row: READ
// COMMITTED filters on the statement's snapshot before waiting.)
func TestWriteBatchWaitsForLock(t *testing.T) {
	ctx := context.Background()
	db, err := ledgerdb.Open(ctx, storetest.Open(t, store.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	asset := seedTwoAccounts(ctx, t, db)
	debited, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Write(ctx, func(tx ledgerrec.Tx) error {
			if _, err := tx.Debit(ctx, "a", asset, 10); err != nil {
				return err
			}
			if _, err := tx.Credit(ctx, "b", asset, 10); err != nil {
				return err
			}
			close(debited)
			<-release
			return nil
		})
	}()
	<-debited
	go func() {
		// Let the second transaction's UPDATE start waiting on the locks.
		time.Sleep(300 * time.Millisecond)
		close(release)
	}()
	var seqs []int64
	err = db.Write(ctx, func(tx ledgerrec.Tx) error {
		bt := tx.(ledgerrec.BatchTx)
		var err error
		seqs, err = bt.WriteBatch(ctx, []ledgerrec.BalanceWrite{
			{BalanceKey: ledgerrec.BalanceKey{AccountID: "a", AssetID: asset}, HadRow: true, Old: 90, New: 85},
			{BalanceKey: ledgerrec.BalanceKey{AccountID: "b", AssetID: asset}, HadRow: true, Old: 110, New: 115},
		}, nil, []ledgerrec.Entry{{Kind: ledgerrec.EntryTransfer, AssetID: asset, DebitAccountID: "a", CreditAccountID: "b",
			Amount: 5, IdemScope: "s", IdemKey: "t", RequestHash: []byte{1}, DebitBalanceAfter: 85, CreditBalanceAfter: 115,
			SupplyAfter: 200, CreatedAt: 2, ChainHash: []byte{2}}})
		return err
	})
	if err != nil || len(seqs) != 1 {
		t.Fatalf("write after the first transaction's figures: %v, %v", seqs, err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := db.Read(ctx, func(tx ledgerrec.Tx) error {
		for id, want := range map[string]int64{"a": 85, "b": 115} {
			if b, err := tx.Balance(ctx, id, asset); err != nil || b != want {
				t.Errorf("balance of %s: %d, %v; want %d", id, b, err, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestReadRunLockSeesCommitBefore: a ReadRun that takes the journal's
// append lock waits for the transaction holding it, and then reads what
// that one committed (its balance and its journal entry, the head), in
// the same call. A read whose snapshot were taken before the lock was
// granted (the lock and the read in one statement) would miss both.
func TestReadRunLockSeesCommitBefore(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.Config(t, store.Postgres)
	sdb, err := store.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	db, err := ledgerdb.Open(ctx, sdb)
	if err != nil {
		t.Fatal(err)
	}
	raw := storetest.OpenRaw(t, cfg)
	asset := seedTwoAccounts(ctx, t, db)
	bal := func(id string) ledgerrec.BalanceKey { return ledgerrec.BalanceKey{AccountID: id, AssetID: asset} }

	// The holder: takes the lock, moves 10 from a to b with an entry, and
	// commits when released.
	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	var heldSeq int64
	go func() {
		holder <- db.Write(ctx, func(tx ledgerrec.Tx) error {
			if _, err := tx.LockJournal(ctx); err != nil {
				return err
			}
			if _, err := tx.Debit(ctx, "a", asset, 10); err != nil {
				return err
			}
			if _, err := tx.Credit(ctx, "b", asset, 10); err != nil {
				return err
			}
			e, err := tx.InsertEntry(ctx, ledgerrec.Entry{Kind: ledgerrec.EntryTransfer, AssetID: asset,
				DebitAccountID: "a", CreditAccountID: "b", Amount: 10, IdemScope: "s", IdemKey: "held",
				RequestHash: []byte{1}, DebitBalanceAfter: 90, CreditBalanceAfter: 110, SupplyAfter: 200,
				CreatedAt: 2, ChainHash: []byte{7}})
			heldSeq = e.Seq
			close(held)
			<-release
			return err
		})
	}()
	<-held

	// The reader: once its backend waits for the holder's, release it.
	pids := make(chan int, 1)
	go func() {
		pid := <-pids
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			var blocked bool
			if err := raw.QueryRowContext(ctx, `SELECT cardinality(pg_blocking_pids($1)) > 0`, pid).Scan(&blocked); err != nil {
				t.Error(err)
				break
			}
			if blocked {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		close(release)
	}()
	var rs ledgerrec.RunState
	if err := db.Write(ctx, func(tx ledgerrec.Tx) error {
		pid, err := ledgerdb.BackendPID(ctx, tx)
		if err != nil {
			return err
		}
		pids <- pid
		rs, err = tx.(ledgerrec.BatchTx).ReadRun(ctx, []ledgerrec.IdemKey{{Scope: "s", Key: "held"}},
			[]ledgerrec.BalanceKey{bal("a"), bal("b")}, []int64{asset}, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if !rs.Used[ledgerrec.IdemKey{Scope: "s", Key: "held"}] {
		t.Error("the locked read missed the key the holder used")
	}
	if a, b := rs.Balances[bal("a")].Balance, rs.Balances[bal("b")].Balance; a != 90 || b != 110 {
		t.Errorf("the locked read found balances %d and %d, want the holder's 90 and 110", a, b)
	}
	if rs.HeadSeq != heldSeq || !bytes.Equal(rs.Head, []byte{7}) {
		t.Errorf("the locked read found head %d %x, want the holder's entry %d 07", rs.HeadSeq, rs.Head, heldSeq)
	}
}

// seedTwoAccounts creates the asset KSH and accounts a and b holding 100
// each, and returns the asset's id.
func seedTwoAccounts(ctx context.Context, t *testing.T, db *ledgerdb.Store) int64 {
	t.Helper()
	var asset int64
	if err := db.Write(ctx, func(tx ledgerrec.Tx) error {
		a, err := tx.InsertAsset(ctx, ledgerrec.Asset{Code: "KSH", Name: "k", Peg: 1, MinCoverageBps: 10000, CreatedAt: 1})
		if err != nil {
			return err
		}
		asset = a.ID
		for _, id := range []string{"a", "b"} {
			if _, err := tx.InsertAccount(ctx, ledgerrec.Account{ID: id, Label: id, CreatedAt: 1}); err != nil {
				return err
			}
			if _, err := tx.Credit(ctx, id, asset, 100); err != nil {
				return err
			}
		}
		_, err = tx.AddSupply(ctx, asset, 200)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return asset
}
