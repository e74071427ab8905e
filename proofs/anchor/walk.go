package anchor

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Node is what Walk reads from the verifier's own bitcoin node: its main
// chain (btcd's or bitcoind's getblockhash and getblock).
type Node interface {
	BlockHash(ctx context.Context, height int64) (*chainhash.Hash, error)
	Block(ctx context.Context, hash *chainhash.Hash) (*wire.MsgBlock, error)
}

// Ref names an anchor as an attestation lists it.
type Ref struct {
	// Seq and ID are the attestation the anchor commits to.
	Seq uint64
	ID  [32]byte
	// Txid, Height and BlockHash locate the anchor transaction.
	Txid      chainhash.Hash
	Height    int64
	BlockHash chainhash.Hash
}

// Anchor is one anchor found on the chain.
type Anchor struct {
	Payload
	Txid      chainhash.Hash
	Height    int64
	BlockHash chainhash.Hash
}

// Genesis reports whether the anchor is the issuer's first.
func (a Anchor) Genesis() bool { return a.PrevHeight == 0 }

// ErrNotOnChain means an anchor is not where it is said to be on the
// verifier's main chain.
var ErrNotOnChain = errors.New("anchor not on the main chain")

// Walk verifies the anchor ref names and every anchor before it, back to
// the genesis anchor, against node: each is in a block of the main chain,
// carries a payload in output 0, and spends the seal (output 1) of the
// one before it, which is at the height its payload names; the seqs they
// commit to fall strictly going back. The newest anchor's commitment must
// be Commit(issuerKey, ref.Seq, ref.ID); the earlier ones are checked
// against a history by Check. It reads at most limit anchors (0: no bound)
// and returns them newest first.
func Walk(ctx context.Context, node Node, issuerKey [32]byte, ref Ref, limit int) ([]Anchor, error) {
	hash, err := node.BlockHash(ctx, ref.Height)
	if err != nil {
		return nil, fmt.Errorf("anchor %s: block at height %d: %w", ref.Txid, ref.Height, err)
	}
	if *hash != ref.BlockHash {
		return nil, fmt.Errorf("%w: anchor %s is said to be in block %s at height %d, but your node's block there is %s",
			ErrNotOnChain, ref.Txid, ref.BlockHash, ref.Height, hash)
	}
	cur, curTx, err := find(ctx, node, hash, ref.Height, func(tx *wire.MsgTx) bool { return tx.TxHash() == ref.Txid })
	if err != nil {
		return nil, fmt.Errorf("%w: anchor %s: %w", ErrNotOnChain, ref.Txid, err)
	}
	if cur.Seq != ref.Seq {
		return nil, fmt.Errorf("anchor %s commits to seq %d, not the seq %d it is listed with", ref.Txid, cur.Seq, ref.Seq)
	}
	if cur.Commitment != Commit(issuerKey, ref.Seq, ref.ID) {
		return nil, fmt.Errorf("anchor %s does not commit to attestation %x at seq %d under this issuer key", ref.Txid, ref.ID, ref.Seq)
	}
	out := []Anchor{cur}
	for !cur.Genesis() {
		if limit > 0 && len(out) >= limit {
			return out, fmt.Errorf("more than %d anchors: stopped at %s (height %d)", limit, cur.Txid, cur.Height)
		}
		if int64(cur.PrevHeight) > cur.Height {
			return nil, fmt.Errorf("anchor %s at height %d names a previous anchor above it (height %d)", cur.Txid, cur.Height, cur.PrevHeight)
		}
		child, childTx := cur, curTx
		ph, err := node.BlockHash(ctx, int64(child.PrevHeight))
		if err != nil {
			return nil, fmt.Errorf("anchor %s: previous anchor's block at height %d: %w", child.Txid, child.PrevHeight, err)
		}
		cur, curTx, err = find(ctx, node, ph, int64(child.PrevHeight), func(tx *wire.MsgTx) bool { return SpendsSeal(childTx, tx.TxHash()) })
		if err != nil {
			return nil, fmt.Errorf("%w: anchor %s spends no anchor's seal in block %d: %w", ErrNotOnChain, child.Txid, child.PrevHeight, err)
		}
		if cur.Seq >= child.Seq {
			return nil, fmt.Errorf("anchor %s commits to seq %d, not below the seq %d of the anchor after it", cur.Txid, cur.Seq, child.Seq)
		}
		out = append(out, cur)
	}
	return out, nil
}

// find returns the anchor in the block at hash whose transaction match
// selects, with its transaction (the next step back reads its inputs).
func find(ctx context.Context, node Node, hash *chainhash.Hash, height int64, match func(*wire.MsgTx) bool) (Anchor, *wire.MsgTx, error) {
	b, err := node.Block(ctx, hash)
	if err != nil {
		return Anchor{}, nil, fmt.Errorf("read block %s: %w", hash, err)
	}
	for _, tx := range b.Transactions {
		if !match(tx) {
			continue
		}
		p, err := FromTx(tx)
		if err != nil {
			return Anchor{}, nil, fmt.Errorf("transaction %s: %w", tx.TxHash(), err)
		}
		return Anchor{Payload: p, Txid: tx.TxHash(), Height: height, BlockHash: *hash}, tx, nil
	}
	return Anchor{}, nil, fmt.Errorf("no such transaction in block %s (height %d)", hash, height)
}

// Divergence is Check's failure: the history given is not the anchored
// one.
type Divergence struct {
	// Seq is the anchored seq at which the history differs; Agrees is the
	// highest anchored seq below it that matches (0: none).
	Seq, Agrees uint64
	// Anchor is the transaction committing to the other attestation.
	Anchor Anchor
}

func (d *Divergence) Error() string {
	agree := "no earlier anchored attestation agrees"
	if d.Agrees > 0 {
		agree = fmt.Sprintf("the anchored history agrees up to seq %d", d.Agrees)
	}
	return fmt.Sprintf("the history diverges from the anchored one at or before seq %d: anchor %s (block %d) commits to another attestation at seq %d; %s",
		d.Seq, d.Anchor.Txid, d.Anchor.Height, d.Seq, agree)
}

// Check compares anchors (as Walk returns them) with a history: ids maps
// the seqs the verifier holds to their attestation ids. Each anchor whose
// seq is in ids must commit to that id; the first (lowest seq) that does
// not is returned as a *Divergence. It returns how many anchors it could
// check (the others commit to seqs the history does not hold).
func Check(issuerKey [32]byte, anchors []Anchor, ids map[uint64][32]byte) (int, error) {
	checked := 0
	var agrees uint64
	var first *Divergence
	for i := len(anchors) - 1; i >= 0; i-- { // oldest first
		a := anchors[i]
		id, ok := ids[a.Seq]
		if !ok {
			continue
		}
		checked++
		if a.Commitment != Commit(issuerKey, a.Seq, id) {
			if first == nil {
				first = &Divergence{Seq: a.Seq, Agrees: agrees, Anchor: a}
			}
			continue
		}
		if first == nil {
			agrees = a.Seq
		}
	}
	if first != nil {
		return checked, first
	}
	return checked, nil
}
