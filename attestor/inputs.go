package attestor

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// Inputs is everything one attestation states, frozen at one instant.
type Inputs struct {
	// Seq numbers the attestation; PrevID is its predecessor's id ("" for
	// the first).
	Seq    int64
	PrevID string
	// PrevDocument is the previous attestation (nil for the first): a
	// price that is stale now is carried over from it, marked stale.
	PrevDocument []byte
	Time         time.Time

	// Reserves: the monitor's snapshot (per-source classes, staleness),
	// the chain watcher's UTXO set and each lnd node's last report.
	Reserves  reserve.Snapshot
	Chain     chain.Snapshot
	Lightning []lightning.Report
	MinConf   int64
	// Proofs keeps the proofs of control over the listed outputs (nil:
	// none, so no output counts); CountClaimed says whether claimed
	// channels count.
	Proofs       *proving.Book
	CountClaimed bool

	// Ledger is the frozen ledger; Trees holds each asset's liability
	// tree, in the order of Ledger.Assets.
	Ledger ledger.Frozen
	Trees  []*sumtree.ShareTree
	Seed   [32]byte

	// Anchor is the newest confirmed bitcoin anchor (nil: none yet).
	Anchor *attest.AnchorRef

	// Prices holds, per currency of a fiat-pegged asset, the price read
	// as the ledger is frozen, or PriceErrs the reason there is none.
	Prices    map[string]reserve.Price
	PriceErrs map[string]error
}

// ReserveSource gives the attestor the live reserve picture.
type ReserveSource interface {
	Snapshot() reserve.Snapshot
	Details() (chain.Snapshot, []lightning.Report)
	// Prices is the price oracle (nil: none configured).
	Prices() reserve.Prices
	// Proofs keeps the proofs of control (nil: none kept).
	Proofs() *proving.Book
}

// Freezer gives the attestor the ledger at one instant.
type Freezer interface {
	Freeze(ctx context.Context) (ledger.Frozen, error)
}

// gather freezes the reserves and the ledger and builds every asset's tree
// with a fresh secret seed.
func gather(ctx context.Context, res ReserveSource, led Freezer, shape TreeShape, now time.Time) (Inputs, error) {
	in := Inputs{Time: now.UTC()}
	// The reserve picture first, then the ledger: a mint committed in
	// between is in the liabilities and was allowed against a snapshot at
	// least as old as this one, so the attested coverage is never flattered.
	in.Reserves = res.Snapshot()
	in.Chain, in.Lightning = res.Details()
	in.MinConf = in.Chain.MinConf
	in.Proofs = res.Proofs()
	frozen, err := led.Freeze(ctx)
	if err != nil {
		return in, err
	}
	in.Ledger = frozen
	in.Prices, in.PriceErrs = map[string]reserve.Price{}, map[string]error{}
	for _, fa := range frozen.Assets {
		cur := fa.Asset.Currency
		if fa.Asset.Peg != ledger.PegFiat || cur == "" {
			continue
		}
		if _, done := in.Prices[cur]; done {
			continue
		}
		if _, done := in.PriceErrs[cur]; done {
			continue
		}
		book := res.Prices()
		if book == nil {
			in.PriceErrs[cur] = reserve.ErrNoOracle
			continue
		}
		p, err := book.Price(cur)
		if err != nil {
			in.PriceErrs[cur] = err
			continue
		}
		in.Prices[cur] = p
	}
	if _, err := rand.Read(in.Seed[:]); err != nil {
		return in, fmt.Errorf("attestation seed: %w", err)
	}
	for _, fa := range frozen.Assets {
		tree, err := buildTree(ctx, fa.Asset.Code, in.Seed, fa.Balances, shape)
		if err != nil {
			return in, err
		}
		if root := tree.Root(); root.Sum != uint64(fa.Total) || root.Count != uint64(len(fa.Balances)) {
			return in, fmt.Errorf("liability tree of %s sums to %d over %d accounts, but the ledger holds %d over %d",
				fa.Asset.Code, root.Sum, root.Count, fa.Total, len(fa.Balances))
		}
		in.Trees = append(in.Trees, tree)
	}
	return in, nil
}

// TreeShape is how the liability trees are built (docs/proofs.md 3.15).
type TreeShape struct {
	// Height fixes the tree height (0: the smallest that holds every
	// share).
	Height int
	// Shares is the number of shares each balance is split into (1, 2 or
	// 4; 0: sumtree.DefaultShares).
	Shares int
	// Window is the window exponent (0: sumtree.DefaultWindow).
	Window int
}

// buildTree builds the version 2 liability tree of one asset from its
// frozen balances (in their order, so that holdings[i] is balances[i]).
func buildTree(ctx context.Context, code string, seed [32]byte, balances []ledger.FrozenBalance, shape TreeShape) (*sumtree.ShareTree, error) {
	hs := make([]sumtree.Holding, len(balances))
	for i, b := range balances {
		hs[i] = sumtree.Holding{ID: b.AccountID, Balance: uint64(b.Balance), Seq: uint64(b.LastSeq)}
	}
	var opts []sumtree.ShareOption
	if shape.Height > 0 {
		opts = append(opts, sumtree.WithShareHeight(shape.Height))
	}
	if shape.Shares > 0 {
		opts = append(opts, sumtree.WithShares(shape.Shares))
	}
	if shape.Window > 0 {
		opts = append(opts, sumtree.WithWindow(shape.Window))
	}
	tree, err := sumtree.Build2(ctx, code, seed, hs, opts...)
	if err != nil {
		return nil, fmt.Errorf("liability tree of %s: %w", code, err)
	}
	return tree, nil
}
