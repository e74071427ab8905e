package chain

import (
	"context"
	"errors"
)

// StoredBlock is a processed block.
type StoredBlock struct {
	Height int64
	Hash   string
}

// StoredOutput is a watched output and, once spent, where it was spent.
type StoredOutput struct {
	TxID           string
	Vout           uint32
	Value          int64
	PkScript       []byte
	Descriptor     string
	Index          int64
	Height         int64
	BlockHash      string
	SpentTxID      string
	SpentHeight    int64 // 0 while unspent
	SpentBlockHash string
}

// Errors a StoreTx reports (wrapped).
var (
	// ErrNotStored means no block is stored at the height asked for (or
	// none at all).
	ErrNotStored = errors.New("not found")
	// ErrConflict means the output is already recorded.
	ErrConflict = errors.New("conflict")
	// ErrNoChange means the output to spend is not recorded unspent.
	ErrNoChange = errors.New("condition not met")
)

// Store runs functions in database transactions: Read in a read-only one,
// Write in one that commits if fn returns nil. store/chaindb implements it.
type Store interface {
	Read(ctx context.Context, fn func(StoreTx) error) error
	Write(ctx context.Context, fn func(StoreTx) error) error
}

// StoreTx is what the watcher reads and writes in one transaction.
type StoreTx interface {
	// ChainTip returns the highest processed block, or ErrNotStored before
	// the first; ChainBlockAt the one at a height.
	ChainTip(ctx context.Context) (StoredBlock, error)
	ChainBlockAt(ctx context.Context, height int64) (StoredBlock, error)
	// InsertChainBlock records a processed block.
	InsertChainBlock(ctx context.Context, b StoredBlock) error
	// RollbackChainAbove undoes everything recorded for blocks above
	// height and returns how many blocks were removed.
	RollbackChainAbove(ctx context.Context, height int64) (int64, error)
	// InsertUTXO records a newly seen watched output; ErrConflict if it is.
	InsertUTXO(ctx context.Context, u StoredOutput) error
	// SpendUTXO marks a watched output spent; ErrNoChange if it is not
	// recorded unspent.
	SpendUTXO(ctx context.Context, txid string, vout uint32, spentTxID string, height int64, blockHash string) error
	// UnspentUTXOs lists every watched output not spent in a processed
	// block.
	UnspentUTXOs(ctx context.Context) ([]StoredOutput, error)
	// DescriptorNextIndex returns the first unused derivation index of a
	// descriptor (0 if never seen); SetDescriptorNextIndex raises it.
	DescriptorNextIndex(ctx context.Context, desc string) (int64, error)
	SetDescriptorNextIndex(ctx context.Context, desc string, next int64) error
}
