package anchor

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/wire"
)

// TipNode is a Node that also answers what Forward needs: the height of
// its best block and whether an output is unspent there.
type TipNode interface {
	Node
	BestHeight(ctx context.Context) (int64, error)
	Unspent(ctx context.Context, op wire.OutPoint) (bool, error)
}

// Forward finds the anchors made after from: while the newest one's seal
// is spent, it scans the blocks from that anchor's height up (at most
// maxScan blocks past it) for the transaction spending it, which must be
// an anchor naming that height as prev_height and committing to a higher
// seq. It returns them oldest first; none when from's seal is unspent. An
// attestation that lists an anchor older than the newest cannot hide the
// newer ones: Check them against the history too.
func Forward(ctx context.Context, node TipNode, from Anchor, maxScan int64) ([]Anchor, error) {
	tip, err := node.BestHeight(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the tip: %w", err)
	}
	var out []Anchor
	cur := from
	for {
		unspent, err := node.Unspent(ctx, wire.OutPoint{Hash: cur.Txid, Index: SealOutput})
		if err != nil {
			return out, fmt.Errorf("is the seal of anchor %s spent: %w", cur.Txid, err)
		}
		if unspent {
			return out, nil
		}
		next, err := spender(ctx, node, cur, tip, maxScan)
		if err != nil {
			return out, err
		}
		out = append(out, next)
		cur = next
	}
}

// spender finds the anchor spending cur's seal in the blocks cur.Height to
// tip.
func spender(ctx context.Context, node Node, cur Anchor, tip, maxScan int64) (Anchor, error) {
	for h := cur.Height; h <= tip; h++ {
		if h > cur.Height+maxScan {
			return Anchor{}, fmt.Errorf("the seal of anchor %s (block %d) is spent, but not within the %d blocks after it scanned (raise the scan limit)",
				cur.Txid, cur.Height, maxScan)
		}
		hash, err := node.BlockHash(ctx, h)
		if err != nil {
			return Anchor{}, fmt.Errorf("block at height %d: %w", h, err)
		}
		b, err := node.Block(ctx, hash)
		if err != nil {
			return Anchor{}, fmt.Errorf("read block %s: %w", hash, err)
		}
		for _, tx := range b.Transactions {
			if !SpendsSeal(tx, cur.Txid) {
				continue
			}
			p, err := FromTx(tx)
			if err != nil {
				return Anchor{}, fmt.Errorf("the seal of anchor %s is spent by %s, which is not an anchor (%v): the issuer's anchor chain ends at %s",
					cur.Txid, tx.TxHash(), err, cur.Txid)
			}
			if int64(p.PrevHeight) != cur.Height || p.Seq <= cur.Seq {
				return Anchor{}, fmt.Errorf("anchor %s spends the seal of anchor %s but names prev_height %d and seq %d (want %d and above %d)",
					tx.TxHash(), cur.Txid, p.PrevHeight, p.Seq, cur.Height, cur.Seq)
			}
			return Anchor{Payload: p, Txid: tx.TxHash(), Height: h, BlockHash: *hash}, nil
		}
	}
	return Anchor{}, fmt.Errorf("the seal of anchor %s is spent, but no block up to the tip (%d) holds the spend", cur.Txid, tip)
}
