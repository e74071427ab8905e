package proving

import (
	"context"
	"errors"
)

// StoredProof is a proof of control as stored.
type StoredProof struct {
	ID        int64
	Height    int64
	BlockHash string
	// Tx is the signed proof transaction, serialized with witnesses.
	Tx []byte
	// Prevouts are the outputs the reserve inputs spend (encodePrevouts).
	Prevouts []byte
	// Source says who made it: "import" for an operator's signed PSBT, or
	// an lnd node's name.
	Source    string
	CreatedAt int64
}

// StoredOutput names the proof of one outpoint.
type StoredOutput struct {
	Outpoint string
	ProofID  int64
	Height   int64
}

// Block is a block the chain watcher has processed.
type Block struct {
	Height int64
	Hash   string
}

// ErrNoBlocks is what Store.RecentBlocks returns (wrapped) when the chain
// watcher has processed no block yet.
var ErrNoBlocks = errors.New("no chain block processed yet")

// Store keeps proofs of control and reads the blocks a challenge may name.
// Every method is one transaction. store/provingdb implements it on the
// database.
type Store interface {
	// InsertControlProof stores a proof and makes it the proof of each of
	// outpoints unless that outpoint already has a proof from a later
	// block. It returns the proof with its id.
	InsertControlProof(ctx context.Context, p StoredProof, outpoints []string) (StoredProof, error)
	// ControlProofs returns every proof still naming an output, in id
	// order, and every proven output, in outpoint order.
	ControlProofs(ctx context.Context) ([]StoredProof, []StoredOutput, error)
	// RecentBlocks returns the processed blocks from depth below the tip
	// up to the tip, in height order, or ErrNoBlocks.
	RecentBlocks(ctx context.Context, depth int64) ([]Block, error)
}
