package reserve

import (
	"context"
	"errors"
	"fmt"

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

// SpentInMempool asks the chain backend which of utxos (with their values)
// a transaction in its mempool spends: gettxout with the mempool included
// answers nothing for such an output. The reserves have then moved since
// the block they were read at, although no block has been mined.
func (s *Service) SpentInMempool(ctx context.Context, utxos map[wire.OutPoint]int64) (Moved, error) {
	var m Moved
	if s.chainClient == nil {
		return m, ErrNoChainSource
	}
	for op, value := range utxos {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		res, err := s.chainClient.GetTxOut(&op.Hash, op.Index, true)
		if err != nil {
			return m, fmt.Errorf("gettxout %s: %w", op, err)
		}
		if res == nil {
			m.Outputs++
			m.Sats += value
		}
	}
	return m, nil
}
