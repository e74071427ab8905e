package ledger

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/kosh-reserve/kosh/ledger/journalchain"
	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// FrozenAsset is one asset's liabilities at an instant.
type FrozenAsset struct {
	Asset Asset
	// Balances are every non-zero holding, in account id order.
	Balances []FrozenBalance
	// Total is the sum of Balances; it equals Asset.Supply.
	Total int64
	// Issuer are the indexes in Balances of the issuer-held accounts'
	// balances (Frozen.IssuerAccounts), in Balances order.
	Issuer []int
}

// FrozenBalance is one account's balance.
type FrozenBalance = journalchain.Balance

// Frozen is the whole ledger at one instant: what an attestation attests.
type Frozen struct {
	// CutoffSeq is the last journal sequence included: every entry with a
	// sequence at or below it is reflected, none above.
	CutoffSeq int64
	Assets    []FrozenAsset
	// IssuerAccounts are the accounts the issuer itself holds
	// (CreateIssuerAccount), in id order (bytes), whatever their
	// balances: an attestation publishes each one's non-zero balances.
	IssuerAccounts []IssuerAccount
}

// IssuerAccount is an account the issuer itself holds.
type IssuerAccount struct {
	// ID is the account id.
	ID string
	// Label is its name, published in attestations.
	Label string
}

// IssuerAccount returns the issuer-held account id, if it is one.
func (f *Frozen) IssuerAccount(id string) (IssuerAccount, bool) {
	i, ok := slices.BinarySearchFunc(f.IssuerAccounts, id, func(a IssuerAccount, id string) int { return strings.Compare(a.ID, id) })
	if !ok {
		return IssuerAccount{}, false
	}
	return f.IssuerAccounts[i], true
}

// Freeze reads every asset's supply and balances and the last journal
// sequence in one read transaction, so the figures are one consistent
// instant of the ledger. It fails if an asset's balances do not add up to
// its supply (the invariant the ledger keeps; a failure means corruption
// and must stop an attestation rather than publish it), or if the journal
// up to the cut-off does not verify against its hash chain or does not
// replay to those balances and supplies (ErrJournalTampered).
func (l *Ledger) Freeze(ctx context.Context) (Frozen, error) {
	var f Frozen
	err := l.db.Read(ctx, func(tx ledgerrec.Tx) error {
		f = Frozen{}
		seq, err := tx.LastJournalSeq(ctx)
		if err != nil {
			return err
		}
		f.CutoffSeq = seq
		held, err := tx.IssuerAccounts(ctx)
		if err != nil {
			return err
		}
		isHeld := make(map[string]bool, len(held))
		for _, a := range held {
			f.IssuerAccounts = append(f.IssuerAccounts, IssuerAccount{ID: a.ID, Label: a.Label})
			isHeld[a.ID] = true
		}
		slices.SortFunc(f.IssuerAccounts, func(x, y IssuerAccount) int { return strings.Compare(x.ID, y.ID) })
		rows, err := tx.Assets(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			fa := FrozenAsset{Asset: assetFromRow(r)}
			err := tx.AssetBalances(ctx, r.ID, func(id string, bal int64) error {
				if bal == 0 {
					return nil
				}
				if bal < 0 || fa.Total > math.MaxInt64-bal {
					return fmt.Errorf("%w: balances of %s overflow or go negative", ErrOverflow, r.Code)
				}
				fa.Total += bal
				if isHeld[id] {
					fa.Issuer = append(fa.Issuer, len(fa.Balances))
				}
				fa.Balances = append(fa.Balances, FrozenBalance{AccountID: id, Balance: bal})
				return nil
			})
			if err != nil {
				return err
			}
			if fa.Total != fa.Asset.Supply {
				return fmt.Errorf("ledger invariant broken: balances of %s add up to %d but its supply is %d",
					r.Code, fa.Total, fa.Asset.Supply)
			}
			f.Assets = append(f.Assets, fa)
		}
		// The figures must be what the journal's hash chain replays to:
		// an attestation never signs a history edited outside koshd.
		figures := make([]journalchain.Figures, len(f.Assets))
		for i, fa := range f.Assets {
			figures[i] = journalchain.Figures{Code: fa.Asset.Code, Supply: fa.Asset.Supply, Balances: fa.Balances}
		}
		return journalchain.Verify(ctx, tx, f.CutoffSeq, figures)
	})
	if err != nil {
		return Frozen{}, fmt.Errorf("freeze the ledger: %w", err)
	}
	return f, nil
}
