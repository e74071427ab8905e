package reserve

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire"
)

// ErrNoChainSource means the call needs the chain backend and none is
// configured.
var ErrNoChainSource = errors.New("no chain source is configured")

// Moved is what SpentInMempool found: listed outputs that a transaction in
// the backend's mempool spends.
type Moved struct {
	Outputs int
	Sats    int64
}

// MaxMempoolScan bounds how many mempool transactions SpentInMempool reads;
// past it the check is not made (and says so).
const MaxMempoolScan = 50_000

// rpcBatch is how many getrawtransaction or gettxout calls are in flight
// at once.
const rpcBatch = 200

// ErrMempoolTooLarge means the mempool holds more than MaxMempoolScan
// transactions, so SpentInMempool did not look.
var ErrMempoolTooLarge = errors.New("the mempool is too large to scan")

// SpentInMempool reads the backend's mempool and says which of utxos (with
// their values) its transactions spend: the reserves have then moved since
// the block they were read at, although no block has been mined. (btcd's
// gettxout does not answer this: a mined output spent by a mempool
// transaction still shows as unspent, so the mempool's transactions are
// read: getrawmempool, then getrawtransaction, which btcd and bitcoind
// serve for mempool transactions without a transaction index.)
func (s *Service) SpentInMempool(ctx context.Context, utxos map[wire.OutPoint]int64) (Moved, error) {
	var m Moved
	if s.chainClient == nil {
		return m, ErrNoChainSource
	}
	if len(utxos) == 0 {
		return m, nil
	}
	pool, err := s.chainClient.GetRawMempool()
	if err != nil {
		return m, fmt.Errorf("getrawmempool: %w", err)
	}
	if len(pool) > MaxMempoolScan {
		return m, fmt.Errorf("%w: %d transactions (at most %d are read)", ErrMempoolTooLarge, len(pool), MaxMempoolScan)
	}
	seen := map[wire.OutPoint]bool{}
	for len(pool) > 0 {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		k := min(len(pool), rpcBatch)
		futures := make([]rpcclient.FutureGetRawTransactionResult, k)
		for i := range k {
			futures[i] = s.chainClient.GetRawTransactionAsync(pool[i])
		}
		for i, f := range futures {
			tx, err := f.Receive()
			if err != nil {
				// Mined or evicted since getrawmempool: not in the mempool.
				s.cfg.Log.Debug("mempool transaction gone while reading it", "txid", pool[i], "err", err)
				continue
			}
			for _, in := range tx.MsgTx().TxIn {
				if v, ok := utxos[in.PreviousOutPoint]; ok && !seen[in.PreviousOutPoint] {
					seen[in.PreviousOutPoint] = true
					m.Outputs++
					m.Sats += v
				}
			}
		}
		pool = pool[k:]
	}
	return m, nil
}

// UnspentNow says which of ops are unspent at the chain backend's tip
// (gettxout without the mempool, sent in batches of 200). An output it
// does not find is spent, or was never on the chain.
func (s *Service) UnspentNow(ctx context.Context, ops []wire.OutPoint) (map[wire.OutPoint]bool, error) {
	if s.chainClient == nil {
		return nil, ErrNoChainSource
	}
	out := make(map[wire.OutPoint]bool, len(ops))
	for len(ops) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k := min(len(ops), rpcBatch)
		futures := make([]rpcclient.FutureGetTxOutResult, k)
		for i := range k {
			futures[i] = s.chainClient.GetTxOutAsync(&ops[i].Hash, ops[i].Index, false)
		}
		for i, f := range futures {
			res, err := f.Receive()
			if err != nil {
				return nil, fmt.Errorf("gettxout %s: %w", ops[i], err)
			}
			out[ops[i]] = res != nil
		}
		ops = ops[k:]
	}
	return out, nil
}
