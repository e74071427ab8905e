// Package chain is Kosh's on-chain reserve source: a watcher that follows
// the best chain block by block through btcd's rpcclient (btcd over the
// websocket, bitcoind over HTTP POST: the same calls serve both), matches
// outputs against watched descriptors, and keeps the watched UTXO set with
// the block each output and each spend was seen in.
//
// The best block hash, polled, is the source of truth; notifications are not
// relied on. On every poll the watcher compares its stored chain with the
// node's, walks back to the fork point if they differ, undoes everything
// recorded above it in one database transaction, and then applies the new
// blocks. Progress is persisted with the blocks, so a restart resumes where
// the watcher stopped instead of rescanning from the birthday.
package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// Client is the subset of rpcclient.Client the watcher uses; btcd and
// bitcoind both serve it.
type Client interface {
	GetBestBlockHash() (*chainhash.Hash, error)
	GetBlockHash(height int64) (*chainhash.Hash, error)
	GetBlockCount() (int64, error)
	GetBlock(hash *chainhash.Hash) (*wire.MsgBlock, error)
}

// Watched is a descriptor to watch.
type Watched struct {
	Desc *descriptor.Descriptor
	// Gap is how many unused addresses past the last used one are watched
	// (ranged descriptors only).
	Gap int
}

// Config configures a Watcher.
type Config struct {
	Descriptors []Watched
	// Birthday is the first block height that can hold watched outputs.
	Birthday int64
	// MinConf is how many confirmations an output needs to be counted.
	MinConf int64
	// BatchBlocks bounds how many blocks share one database commit while
	// catching up (default 200).
	BatchBlocks int
	Log         *slog.Logger
}

// UTXO is a watched unspent output.
type UTXO struct {
	OutPoint   wire.OutPoint
	Value      int64
	PkScript   []byte
	Descriptor string
	Index      int64
	Height     int64
	BlockHash  string
}

// Snapshot is the watcher's view at one block.
type Snapshot struct {
	Height int64
	Hash   string
	// Confirmed is the sum of unspent outputs with at least MinConf
	// confirmations: what counts as reserves.
	Confirmed int64
	// Unconfirmed is the sum with fewer (but at least one) confirmations:
	// reported, not counted.
	Unconfirmed int64
	MinConf     int64
	UTXOs       []UTXO
	Time        time.Time
}

type scriptRef struct {
	desc  int
	index int64
}

// Watcher follows the chain. Sync is safe to call from one goroutine at a
// time; Snapshot may be called concurrently.
type Watcher struct {
	client Client
	db     Store
	cfg    Config
	log    *slog.Logger

	scripts map[string]scriptRef // pkScript -> descriptor and index
	derived []int64              // per descriptor: indexes [0, derived) are in scripts
	next    []int64              // per descriptor: first unused index
	unspent map[wire.OutPoint]UTXO

	mu   sync.RWMutex
	snap Snapshot

	scanned atomic.Int64 // blocks applied since start
	reorgs  atomic.Int64 // reorganisations rolled back since start
	undone  atomic.Int64 // blocks undone by those reorganisations
	outputs atomic.Int64 // watched outputs matched since start
}

// Stats are the watcher's counters since it was created.
type Stats struct {
	// BlocksScanned is how many blocks were fetched and matched.
	BlocksScanned int64
	// OutputsMatched is how many outputs paid a watched script.
	OutputsMatched int64
	// Reorgs is how many reorganisations were rolled back.
	Reorgs int64
	// BlocksUndone is how many stored blocks those reorganisations undid.
	BlocksUndone int64
}

// Stats returns the watcher's counters.
func (w *Watcher) Stats() Stats {
	return Stats{BlocksScanned: w.scanned.Load(), OutputsMatched: w.outputs.Load(),
		Reorgs: w.reorgs.Load(), BlocksUndone: w.undone.Load()}
}

// New returns a watcher. Call Load before Sync.
func New(client Client, db Store, cfg Config) *Watcher {
	if cfg.BatchBlocks <= 0 {
		cfg.BatchBlocks = 200
	}
	if cfg.MinConf <= 0 {
		cfg.MinConf = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Watcher{client: client, db: db, cfg: cfg, log: cfg.Log,
		scripts: map[string]scriptRef{}, derived: make([]int64, len(cfg.Descriptors)),
		next: make([]int64, len(cfg.Descriptors)), unspent: map[wire.OutPoint]UTXO{}}
}

// Load restores the watcher's state from the store: descriptor usage and
// the unspent outputs.
func (w *Watcher) Load(ctx context.Context) error {
	var utxos []StoredOutput
	err := w.db.Read(ctx, func(tx StoreTx) error {
		for i, wd := range w.cfg.Descriptors {
			n, err := tx.DescriptorNextIndex(ctx, wd.Desc.String())
			if err != nil {
				return err
			}
			w.next[i] = n
		}
		var err error
		utxos, err = tx.UnspentUTXOs(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("load chain watcher state: %w", err)
	}
	for i := range w.cfg.Descriptors {
		if err := w.extend(i); err != nil {
			return err
		}
	}
	w.unspent = make(map[wire.OutPoint]UTXO, len(utxos))
	for _, u := range utxos {
		h, err := chainhash.NewHashFromStr(u.TxID)
		if err != nil {
			return fmt.Errorf("stored output has a bad txid %q: %w", u.TxID, err)
		}
		op := wire.OutPoint{Hash: *h, Index: u.Vout}
		w.unspent[op] = UTXO{OutPoint: op, Value: u.Value, PkScript: u.PkScript, Descriptor: u.Descriptor,
			Index: u.Index, Height: u.Height, BlockHash: u.BlockHash}
	}
	return nil
}

// extend derives scripts of descriptor i up to next+gap. A large extension
// (the first load, or a jump far into the window) is derived on every core.
func (w *Watcher) extend(i int) error {
	wd := w.cfg.Descriptors[i]
	want := int64(1)
	if wd.Desc.IsRanged() {
		want = w.next[i] + int64(wd.Gap)
	}
	from := w.derived[i]
	if want <= from {
		return nil
	}
	scripts := make([][]byte, want-from)
	workers := int64(runtime.GOMAXPROCS(0))
	if n := int64(len(scripts)); n < 64*workers {
		workers = 1
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := int64(0); k < workers; k++ {
		wg.Go(func() {
			for j := k; j < int64(len(scripts)); j += workers {
				idx := from + j
				s, err := wd.Desc.Script(uint32(idx))
				if err != nil {
					errs[k] = fmt.Errorf("derive %s at index %d: %w", wd.Desc, idx, err)
					return
				}
				scripts[j] = s
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for j, s := range scripts {
		w.scripts[string(s)] = scriptRef{desc: i, index: from + int64(j)}
	}
	w.derived[i] = want
	return nil
}

// WatchedScripts returns how many scripts are being matched.
func (w *Watcher) WatchedScripts() int { return len(w.scripts) }

// Sync brings the watcher to the node's best block: it detects and undoes
// a reorg, then applies every new block. It returns the snapshot at the new
// tip.
func (w *Watcher) Sync(ctx context.Context) (Snapshot, error) {
	best, err := w.client.GetBestBlockHash()
	if err != nil {
		return Snapshot{}, fmt.Errorf("get best block hash: %w", err)
	}
	tip, err := w.tip(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	if tip.Hash != best.String() {
		if tip, err = w.findFork(ctx, tip); err != nil {
			return Snapshot{}, err
		}
		bestHeight, err := w.client.GetBlockCount()
		if err != nil {
			return Snapshot{}, fmt.Errorf("get block count: %w", err)
		}
		if err := w.applyFrom(ctx, tip, bestHeight); err != nil {
			return Snapshot{}, err
		}
		if tip, err = w.tip(ctx); err != nil {
			return Snapshot{}, err
		}
	}
	snap, err := w.snapshot(tip)
	if err != nil {
		return Snapshot{}, err
	}
	w.mu.Lock()
	w.snap = snap
	w.mu.Unlock()
	return snap, nil
}

// Snapshot returns the snapshot of the last successful Sync.
func (w *Watcher) Snapshot() Snapshot {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.snap
}

// Tip returns the last block the watcher processed and stored; hash is
// empty (and height one below the birthday) before the first.
func (w *Watcher) Tip(ctx context.Context) (height int64, hash string, err error) {
	t, err := w.tip(ctx)
	return t.Height, t.Hash, err
}

// Descriptor returns the watched descriptor whose canonical form is s (as
// UTXO.Descriptor names it), or nil.
func (w *Watcher) Descriptor(s string) *descriptor.Descriptor {
	for _, d := range w.cfg.Descriptors {
		if d.Desc.String() == s {
			return d.Desc
		}
	}
	return nil
}

// BlockHash returns the hash of the processed block at height ("" and
// ErrNotStored when the watcher has not processed one there).
func (w *Watcher) BlockHash(ctx context.Context, height int64) (string, error) {
	var b StoredBlock
	err := w.db.Read(ctx, func(tx StoreTx) error {
		var err error
		b, err = tx.ChainBlockAt(ctx, height)
		return err
	})
	return b.Hash, err
}

// tip returns the last processed block, or a virtual block just below the
// birthday before the first.
func (w *Watcher) tip(ctx context.Context) (StoredBlock, error) {
	var tip StoredBlock
	err := w.db.Read(ctx, func(tx StoreTx) error {
		var err error
		tip, err = tx.ChainTip(ctx)
		return err
	})
	if errors.Is(err, ErrNotStored) {
		return StoredBlock{Height: w.cfg.Birthday - 1}, nil
	}
	if err != nil {
		return tip, fmt.Errorf("load chain tip: %w", err)
	}
	return tip, nil
}

// findFork walks back from tip until the stored block hash matches the
// node's block at that height, undoes everything above it, and returns it.
func (w *Watcher) findFork(ctx context.Context, tip StoredBlock) (StoredBlock, error) {
	count, err := w.client.GetBlockCount()
	if err != nil {
		return tip, fmt.Errorf("get block count: %w", err)
	}
	fork := tip
	for fork.Hash != "" {
		// Above the node's height our block cannot be on its chain.
		if fork.Height <= count {
			nodeHash, err := w.client.GetBlockHash(fork.Height)
			if err != nil {
				return tip, fmt.Errorf("get block hash %d: %w", fork.Height, err)
			}
			if nodeHash.String() == fork.Hash {
				break
			}
		}
		var prev StoredBlock
		err := w.db.Read(ctx, func(tx StoreTx) error {
			var err error
			prev, err = tx.ChainBlockAt(ctx, fork.Height-1)
			return err
		})
		if errors.Is(err, ErrNotStored) {
			prev = StoredBlock{Height: fork.Height - 1}
			if prev.Height >= w.cfg.Birthday {
				return tip, fmt.Errorf("reorg below the oldest stored block %d", fork.Height)
			}
		} else if err != nil {
			return tip, err
		}
		fork = prev
	}
	if fork.Height == tip.Height {
		return tip, nil
	}
	var removed int64
	err = w.db.Write(ctx, func(tx StoreTx) error {
		var err error
		removed, err = tx.RollbackChainAbove(ctx, fork.Height)
		return err
	})
	if err != nil {
		return tip, fmt.Errorf("roll back to %d: %w", fork.Height, err)
	}
	w.reorgs.Add(1)
	w.undone.Add(removed)
	w.log.Warn("chain reorganisation: rolled back", "from_height", tip.Height, "from_hash", tip.Hash,
		"fork_height", fork.Height, "blocks_undone", removed)
	// Rebuild the in-memory outputs from the store, the single source.
	if err := w.Load(ctx); err != nil {
		return tip, err
	}
	return fork, nil
}

// applyFrom processes blocks tip+1 .. best, committing every BatchBlocks.
// Blocks are fetched ahead of processing.
func (w *Watcher) applyFrom(ctx context.Context, tip StoredBlock, best int64) error {
	type fetched struct {
		height int64
		hash   *chainhash.Hash
		block  *wire.MsgBlock
		err    error
	}
	const ahead = 8
	results := make(chan chan fetched, ahead)
	fetchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(results)
		for h := tip.Height + 1; h <= best; h++ {
			ch := make(chan fetched, 1)
			select {
			case results <- ch:
			case <-fetchCtx.Done():
				return
			}
			go func(h int64) {
				hash, err := w.client.GetBlockHash(h)
				if err != nil {
					ch <- fetched{height: h, err: fmt.Errorf("get block hash %d: %w", h, err)}
					return
				}
				b, err := w.client.GetBlock(hash)
				if err != nil {
					err = fmt.Errorf("get block %s: %w", hash, err)
				}
				ch <- fetched{height: h, hash: hash, block: b, err: err}
			}(h)
		}
	}()

	prevHash := tip.Hash
	var pending []blockChanges
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := w.commit(ctx, pending); err != nil {
			return err
		}
		pending = pending[:0]
		return nil
	}
	for ch := range results {
		f := <-ch
		if f.err != nil {
			return errors.Join(flush(), f.err)
		}
		if prevHash != "" && f.block.Header.PrevBlock.String() != prevHash {
			// The chain moved under us; commit what is consistent and let
			// the next Sync find the fork.
			w.log.Info("chain changed while catching up", "height", f.height)
			return flush()
		}
		changes, err := w.applyBlock(f.height, f.hash, f.block)
		if err != nil {
			return errors.Join(flush(), err)
		}
		pending = append(pending, changes)
		w.scanned.Add(1)
		w.outputs.Add(int64(len(changes.created)))
		prevHash = f.hash.String()
		if len(pending) >= w.cfg.BatchBlocks {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

type blockChanges struct {
	block   StoredBlock
	created []UTXO
	spent   []spend
	used    map[int]int64 // descriptor -> new next index
}

type spend struct {
	op    wire.OutPoint
	by    string
	value int64
}

// applyBlock matches a block against the watched scripts and updates the
// in-memory state; commit persists the same changes.
func (w *Watcher) applyBlock(height int64, hash *chainhash.Hash, b *wire.MsgBlock) (blockChanges, error) {
	c := blockChanges{block: StoredBlock{Height: height, Hash: hash.String()}}
	for _, tx := range b.Transactions {
		var txid *chainhash.Hash
		for _, in := range tx.TxIn {
			if u, ok := w.unspent[in.PreviousOutPoint]; ok {
				if txid == nil {
					h := tx.TxHash()
					txid = &h
				}
				c.spent = append(c.spent, spend{op: in.PreviousOutPoint, by: txid.String(), value: u.Value})
				delete(w.unspent, in.PreviousOutPoint)
			}
		}
		for vout, out := range tx.TxOut {
			ref, ok := w.scripts[string(out.PkScript)]
			if !ok {
				continue
			}
			if txid == nil {
				h := tx.TxHash()
				txid = &h
			}
			wd := w.cfg.Descriptors[ref.desc]
			u := UTXO{OutPoint: wire.OutPoint{Hash: *txid, Index: uint32(vout)}, Value: out.Value,
				PkScript: out.PkScript, Descriptor: wd.Desc.String(), Index: ref.index, Height: height,
				BlockHash: hash.String()}
			c.created = append(c.created, u)
			w.unspent[u.OutPoint] = u
			if wd.Desc.IsRanged() && ref.index >= w.next[ref.desc] {
				w.next[ref.desc] = ref.index + 1
				if c.used == nil {
					c.used = map[int]int64{}
				}
				c.used[ref.desc] = ref.index + 1
				// Widen the window so outputs later in this very block to
				// the new addresses are found too.
				if err := w.extend(ref.desc); err != nil {
					return c, err
				}
			}
		}
	}
	return c, nil
}

// commit persists the changes of several blocks in one transaction.
func (w *Watcher) commit(ctx context.Context, blocks []blockChanges) error {
	err := w.db.Write(ctx, func(tx StoreTx) error {
		for _, c := range blocks {
			for _, u := range c.created {
				if err := tx.InsertUTXO(ctx, StoredOutput{TxID: u.OutPoint.Hash.String(), Vout: u.OutPoint.Index,
					Value: u.Value, PkScript: u.PkScript, Descriptor: u.Descriptor, Index: u.Index,
					Height: u.Height, BlockHash: u.BlockHash}); err != nil {
					return err
				}
			}
			for _, s := range c.spent {
				if err := tx.SpendUTXO(ctx, s.op.Hash.String(), s.op.Index, s.by, c.block.Height, c.block.Hash); err != nil {
					return err
				}
			}
			for d, next := range c.used {
				if err := tx.SetDescriptorNextIndex(ctx, w.cfg.Descriptors[d].Desc.String(), next); err != nil {
					return err
				}
			}
			if err := tx.InsertChainBlock(ctx, c.block); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The in-memory state ran ahead of the store; rebuild it.
		if lerr := w.Load(ctx); lerr != nil {
			return errors.Join(err, lerr)
		}
		return fmt.Errorf("commit blocks %d..%d: %w", blocks[0].block.Height, blocks[len(blocks)-1].block.Height, err)
	}
	return nil
}

// snapshot sums the unspent outputs by confirmation class at tip.
func (w *Watcher) snapshot(tip StoredBlock) (Snapshot, error) {
	s := Snapshot{Height: tip.Height, Hash: tip.Hash, MinConf: w.cfg.MinConf, Time: time.Now()}
	for _, u := range w.unspent {
		confs := tip.Height - u.Height + 1
		var ok bool
		switch {
		case confs >= w.cfg.MinConf:
			s.Confirmed, ok = addSats(s.Confirmed, u.Value)
		case confs >= 1:
			s.Unconfirmed, ok = addSats(s.Unconfirmed, u.Value)
		default:
			ok = true
		}
		if !ok {
			return Snapshot{}, fmt.Errorf("watched outputs sum past %d sats: the stored UTXO set is corrupt", int64(btcutil.MaxSatoshi))
		}
		s.UTXOs = append(s.UTXOs, u)
	}
	sort.Slice(s.UTXOs, func(i, j int) bool {
		a, b := s.UTXOs[i], s.UTXOs[j]
		if a.Height != b.Height {
			return a.Height < b.Height
		}
		if a.OutPoint.Hash != b.OutPoint.Hash {
			return a.OutPoint.Hash.String() < b.OutPoint.Hash.String()
		}
		return a.OutPoint.Index < b.OutPoint.Index
	})
	return s, nil
}

// addSats adds two amounts of sats; ok is false if b is negative or the sum
// exceeds the 21 million BTC that can exist (so it cannot overflow int64).
func addSats(a, b int64) (sum int64, ok bool) {
	if b < 0 || a > btcutil.MaxSatoshi-b {
		return a, false
	}
	return a + b, true
}
