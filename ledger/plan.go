package ledger

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/kosh-reserve/kosh/ledger/journalchain"
	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// A run of plain transfers on a ledgerrec.BatchTx (PostgreSQL) is decided
// here, in memory, and written in one statement, instead of each transfer
// taking applyJob's savepoint and four or five statements, every one a
// round trip to the server. applyRun reads what the run needs (which of its
// idempotency keys are used; the balances and accounts it touches; each
// asset's supply) in one query, then walks the jobs in order,
// simulating each on those figures, and stops at the first one that is not
// plain: a used or repeated key, an unknown asset or account, a balance too
// small, a credit past MaxInt64, a mint or a burn. The jobs before it are
// exactly those applyFast would commit, with the same balances, supply
// figures and chain hashes; the one it stopped at (and everything after)
// goes through the per-job path, after the run is written, so it sees the
// run's effects and gets apply's exact outcome and message.

// applyRun applies the longest prefix of batch it can decide as plain
// transfers, starting the chain at head (which it advances, and reads
// with the run's state if it is pending), and returns how many jobs it
// consumed (each with its result in results and errs: an entry, or the
// job's context error for a job whose caller gave up). Zero means the
// first job needs the per-job path. An error is a database failure.
//
// With a batch still committing before this one (p.prev, pipeline.go),
// the figures it wrote are not visible yet: its balances and keys (p.prev's
// after and used) stand in for what the query read, until p has waited
// for it; a balance row it inserted is written only after it committed.
func (l *Ledger) applyRun(ctx context.Context, tx ledgerrec.BatchTx, batch []*job, head *chainHead,
	results []Entry, errs []error, p *pipe) (int, error) {
	// The candidates: transfers of known assets (a job whose caller gave up
	// is consumed without effect).
	type cand struct {
		j     *job
		asset Asset
	}
	var (
		cands  []cand
		keys   []ledgerrec.IdemKey
		bkeys  []ledgerrec.BalanceKey
		seenB  = make(map[ledgerrec.BalanceKey]bool)
		assets = make(map[int64]bool)
	)
	for _, j := range batch {
		if j.kind != KindTransfer {
			break
		}
		if j.ctx.Err() != nil {
			cands = append(cands, cand{j: j})
			continue
		}
		a, err := l.cachedAsset(ctx, tx, j.req.Asset)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return 0, err
		}
		cands = append(cands, cand{j: j, asset: a})
		keys = append(keys, ledgerrec.IdemKey{Scope: string(j.req.Scope), Key: j.req.IdempotencyKey})
		for _, id := range []string{j.req.From, j.req.To} {
			k := ledgerrec.BalanceKey{AccountID: id, AssetID: a.ID}
			if !seenB[k] {
				seenB[k] = true
				bkeys = append(bkeys, k)
			}
		}
		assets[a.ID] = true
	}
	if len(keys) == 0 {
		// Nothing to read: consume the jobs whose callers gave up.
		for i := range cands {
			results[i], errs[i] = Entry{}, cands[i].j.ctx.Err()
			cands[i].j.newHead = nil
		}
		return len(cands), nil
	}

	ids := make([]int64, 0, len(assets))
	for id := range assets {
		ids = append(ids, id)
	}
	rs, err := tx.ReadRun(ctx, keys, bkeys, ids, head.pending)
	if err != nil {
		return 0, err
	}
	if head.pending {
		if err := checkHead(rs.HeadSeq, rs.Head); err != nil {
			return 0, err
		}
		head.hash, head.pending = rs.Head, false
	}
	used, states, supply := rs.Used, rs.Balances, rs.Supply
	if p.prev != nil && !p.waited {
		for _, k := range bkeys {
			// A balance this batch wrote itself (an earlier run) was
			// read as it left it.
			if _, own := p.after[k]; own {
				continue
			}
			if s, ok := p.prev.after[k]; ok {
				states[k] = s
			}
		}
		for _, k := range keys {
			if p.prev.used[k] {
				used[k] = true
			}
		}
	}
	read := maps.Clone(states)

	var (
		entries []ledgerrec.Entry
		ran     []int // index in batch of each entry
		touched = make(map[ledgerrec.BalanceKey]bool)
		holders = make(map[int64]int64)
		n       int
		h       = head.hash
	)
run:
	for ; n < len(cands); n++ {
		c := cands[n]
		j, r := c.j, c.j.req
		j.head, j.newHead = h, nil
		if err := j.ctx.Err(); err != nil {
			results[n], errs[n] = Entry{}, err
			continue
		}
		k := ledgerrec.IdemKey{Scope: string(r.Scope), Key: r.IdempotencyKey}
		fromK := ledgerrec.BalanceKey{AccountID: r.From, AssetID: c.asset.ID}
		toK := ledgerrec.BalanceKey{AccountID: r.To, AssetID: c.asset.ID}
		from, to := states[fromK], states[toK]
		switch {
		case used[k], // a replay or a reused key
			r.Amount <= 0,                           // refused by validation before the queue; never plain
			!from.HasRow || from.Balance < r.Amount, // unknown account or too little
			!to.AccountExists,
			to.Balance > math.MaxInt64-r.Amount: // the credit would overflow
			break run
		}
		used[k] = true
		from.Balance -= r.Amount
		if from.Balance == 0 {
			holders[c.asset.ID]--
		}
		states[fromK] = from
		if to.Balance == 0 {
			holders[c.asset.ID]++
		}
		to.HasRow, to.Balance = true, to.Balance+r.Amount
		states[toK] = to
		touched[fromK], touched[toK] = true, true

		row := ledgerrec.Entry{Kind: int32(j.kind), AssetID: c.asset.ID, AssetCode: c.asset.Code,
			DebitAccountID: r.From, CreditAccountID: r.To, Amount: r.Amount, Memo: r.Memo,
			IdemScope: string(r.Scope), IdemKey: r.IdempotencyKey, RequestHash: j.hash, CreatedAt: l.now(),
			SupplyAfter: supply[c.asset.ID], DebitBalanceAfter: from.Balance, CreditBalanceAfter: to.Balance}
		row.ChainHash = journalchain.Hash(h, &row)
		j.newHead, h = row.ChainHash, row.ChainHash
		entries = append(entries, row)
		ran = append(ran, n)
	}
	if len(entries) == 0 {
		// Only jobs whose callers gave up (if any) before the stop.
		return n, nil
	}

	writes := make([]ledgerrec.BalanceWrite, 0, len(touched))
	for k := range touched {
		before, after := read[k], states[k]
		writes = append(writes, ledgerrec.BalanceWrite{BalanceKey: k, HadRow: before.HasRow, Old: before.Balance, New: after.Balance})
	}
	// A fixed order, so that two writers could never lock rows crosswise.
	slices.SortFunc(writes, func(a, b ledgerrec.BalanceWrite) int {
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return cmp.Compare(a.AssetID, b.AssetID)
	})
	if p.prev != nil && !p.waited {
		for _, w := range writes {
			if p.prev.inserted[w.BalanceKey] {
				// Not visible to this transaction until it commits.
				if err := p.wait(); err != nil {
					return 0, err
				}
				break
			}
		}
	}
	seqs, err := tx.WriteBatch(ctx, writes, holders, entries)
	if err != nil {
		return 0, err
	}
	for i, idx := range ran {
		entries[i].Seq = seqs[i]
		results[idx], errs[idx] = entryFromRow(entries[i]), nil
		p.used[ledgerrec.IdemKey{Scope: entries[i].IdemScope, Key: entries[i].IdemKey}] = true
	}
	for _, w := range writes {
		p.after[w.BalanceKey] = states[w.BalanceKey]
		if !w.HadRow {
			p.inserted[w.BalanceKey] = true
		}
	}
	head.hash = h
	return n, nil
}
