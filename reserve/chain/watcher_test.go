package chain_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	rc "github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

// fakeChain is an in-memory best chain the test reorganises at will. It
// implements Client.
type fakeChain struct {
	mu     sync.Mutex
	blocks []*wire.MsgBlock // blocks[h] is the block at height h
	nonce  uint32
}

func (c *fakeChain) GetBestBlockHash() (*chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.blocks[len(c.blocks)-1].BlockHash()
	return &h, nil
}

func (c *fakeChain) GetBlockHash(height int64) (*chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if height < 0 || height >= int64(len(c.blocks)) {
		return nil, fmt.Errorf("block height %d out of range", height)
	}
	h := c.blocks[height].BlockHash()
	return &h, nil
}

func (c *fakeChain) GetBlockCount() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int64(len(c.blocks) - 1), nil
}

func (c *fakeChain) GetBlock(hash *chainhash.Hash) (*wire.MsgBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.blocks {
		if b.BlockHash() == *hash {
			return b, nil
		}
	}
	return nil, fmt.Errorf("block %s not found", hash)
}

// add appends a block holding txs.
func (c *fakeChain) add(txs ...*wire.MsgTx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nonce++
	prev := chainhash.Hash{}
	if len(c.blocks) > 0 {
		prev = c.blocks[len(c.blocks)-1].BlockHash()
	}
	b := wire.NewMsgBlock(wire.NewBlockHeader(1, &prev, &chainhash.Hash{}, 0, c.nonce))
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: ^uint32(0)}, []byte{byte(c.nonce), byte(c.nonce >> 8), byte(c.nonce >> 16)}, nil))
	cb.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	b.AddTransaction(cb)
	for _, tx := range txs {
		b.AddTransaction(tx)
	}
	c.blocks = append(c.blocks, b)
}

// rewind drops the top n blocks (a reorg then adds the new branch).
func (c *fakeChain) rewind(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blocks = c.blocks[:len(c.blocks)-n]
}

// TestWatcherMatchesFreshScan evolves a chain at random — blocks paying and
// spending watched outputs, reorganisations of random depth that drop them,
// restarts — and after every step checks that the watcher's rc.UTXO set and
// totals equal those of a fresh watcher scanning the final chain from the
// birthday, computed here by a reference scan that knows every script the
// generator can pay. (A reorg does not shrink the gap window: addresses once seen
// used stay watched, as a wallet keeps them.)
func TestWatcherMatchesFreshScan(t *testing.T) {
	for _, backend := range []store.Backend{store.SQLite, store.Postgres} {
		t.Run(string(backend), func(t *testing.T) { testWatcherMatchesFreshScan(t, backend) })
	}
}

func testWatcherMatchesFreshScan(t *testing.T, backend store.Backend) {
	ctx := context.Background()
	params := &chaincfg.RegressionNetParams
	master, err := hdkeychain.NewMaster(make([]byte, 32), params)
	if err != nil {
		t.Fatal(err)
	}
	xpub, _ := master.Neuter()
	desc, err := descriptor.Parse(descriptor.AddChecksum("wpkh("+xpub.String()+"/0/*)"), params)
	if err != nil {
		t.Fatal(err)
	}
	const gap = 5
	cfg := rc.Config{Descriptors: []rc.Watched{{Desc: desc, Gap: gap}}, Birthday: 1, MinConf: 3, BatchBlocks: 4,
		Log: slog.New(slog.DiscardHandler)}

	// Every script the generator can pay, for the reference scan.
	scripts := map[string]bool{}
	for i := uint32(0); i < 1500; i++ {
		sc, err := desc.Script(i)
		if err != nil {
			t.Fatal(err)
		}
		scripts[string(sc)] = true
	}

	chain := &fakeChain{}
	chain.add() // genesis, below the birthday
	db := storetest.Open(t, backend)
	w := rc.New(chain, chaindb.New(db), cfg)
	if err := w.Load(ctx); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(42, 7))
	var live []wire.OutPoint // outputs created, possibly spent or reorged away
	next := uint32(0)        // highest index paid + 1, as the generator sees it
	for step := 0; step < 120; step++ {
		switch r := rng.IntN(10); {
		case r < 6: // a block with some payments and spends
			var txs []*wire.MsgTx
			for i := rng.IntN(4); i > 0; i-- {
				tx := wire.NewMsgTx(2)
				// Spend a known output sometimes (it may no longer exist on
				// this branch: then it is just a foreign input).
				if len(live) > 0 && rng.IntN(2) == 0 {
					op := live[rng.IntN(len(live))]
					tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
				} else {
					tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{byte(step), byte(i)}, Index: 9}, nil, nil))
				}
				idx := uint32(rng.IntN(int(next) + gap))
				if idx >= 1500 {
					t.Fatal("generator ran past the reference scan's scripts")
				}
				if idx >= next {
					next = idx + 1
				}
				script, err := desc.Script(idx)
				if err != nil {
					t.Fatal(err)
				}
				tx.AddTxOut(wire.NewTxOut(int64(1000+rng.IntN(100000)), script))
				tx.AddTxOut(wire.NewTxOut(777, []byte{0x51})) // unwatched
				txs = append(txs, tx)
				live = append(live, wire.OutPoint{Hash: tx.TxHash(), Index: 0})
			}
			chain.add(txs...)
		case r < 8: // empty block
			chain.add()
		case r < 9: // reorg of random depth, new branch one longer
			depth := 1 + rng.IntN(min(8, len(chain.blocks)-2))
			chain.rewind(depth)
			for i := 0; i <= depth; i++ {
				chain.add()
			}
		default: // restart
			w = rc.New(chain, chaindb.New(db), cfg)
			if err := w.Load(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(chain.blocks) < 2 {
			chain.add()
		}
		got, err := w.Sync(ctx)
		if err != nil {
			t.Fatalf("step %d: sync: %v", step, err)
		}
		want := referenceScan(chain, scripts, cfg.Birthday, cfg.MinConf)
		if got.Height != want.Height || got.Hash != want.Hash || got.Confirmed != want.Confirmed ||
			got.Unconfirmed != want.Unconfirmed || !sameUTXOs(got.UTXOs, want.UTXOs) {
			t.Fatalf("step %d: watcher at %d (%d confirmed, %d unconfirmed, %d outputs), fresh scan at %d (%d, %d, %d)",
				step, got.Height, got.Confirmed, got.Unconfirmed, len(got.UTXOs),
				want.Height, want.Confirmed, want.Unconfirmed, len(want.UTXOs))
		}
	}
	if st := w.Stats(); st.BlocksScanned == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// referenceScan recomputes the watched rc.UTXO set of the final chain from the
// birthday: outputs paying a watched script, minus those spent later.
func referenceScan(c *fakeChain, scripts map[string]bool, birthday, minConf int64) rc.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	tip := int64(len(c.blocks) - 1)
	s := rc.Snapshot{Height: tip, Hash: c.blocks[tip].BlockHash().String()}
	unspent := map[wire.OutPoint]rc.UTXO{}
	for h := birthday; h <= tip; h++ {
		for _, tx := range c.blocks[h].Transactions {
			for _, in := range tx.TxIn {
				delete(unspent, in.PreviousOutPoint)
			}
			for i, out := range tx.TxOut {
				if scripts[string(out.PkScript)] {
					op := wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}
					unspent[op] = rc.UTXO{OutPoint: op, Value: out.Value, Height: h}
				}
			}
		}
	}
	for _, u := range unspent {
		if tip-u.Height+1 >= minConf {
			s.Confirmed += u.Value
		} else {
			s.Unconfirmed += u.Value
		}
		s.UTXOs = append(s.UTXOs, u)
	}
	return s
}

func sameUTXOs(a, b []rc.UTXO) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(u rc.UTXO) string { return fmt.Sprintf("%s:%d@%d", u.OutPoint, u.Value, u.Height) }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	sort.Strings(ka)
	sort.Strings(kb)
	for i := range ka {
		if ka[i] != kb[i] {
			return false
		}
	}
	return true
}
