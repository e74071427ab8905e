package receipts

import (
	"fmt"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
)

// Of names one receipt: Account's balance after ledger entry Entry.
type Of struct {
	Entry   ledger.Entry
	Account string
}

// After names a receipt of each account's balance after entry e, skipping
// empty account ids (the missing side of a mint or a burn).
func After(e ledger.Entry, accounts ...string) []Of {
	out := make([]Of, 0, len(accounts))
	for _, acct := range accounts {
		if acct != "" {
			out = append(out, Of{Entry: e, Account: acct})
		}
	}
	return out
}

// Signed is a signed receipt and its canonical document, as the holder
// receives it.
type Signed struct {
	*receipt.Receipt
	// Document is the receipt's canonical JSON, what a verifier checks.
	Document []byte
}

// Compose builds the receipt each item names from its stored entry (the
// balance of the account the item names after it), signs them together
// (one batch, or more shared with concurrent calls; see Sign) and returns
// them in order. Receipts are derived from the stored entry, so a replayed
// request gets a receipt of the same figures, freshly signed. An item whose
// entry does not touch its account is an error.
func (s *Signer) Compose(items ...Of) ([]Signed, error) {
	if len(items) == 0 {
		return nil, nil
	}
	rs := make([]*receipt.Receipt, len(items))
	for i, it := range items {
		r, err := unsigned(it)
		if err != nil {
			return nil, err
		}
		rs[i] = r
	}
	if err := s.Sign(rs...); err != nil {
		return nil, fmt.Errorf("sign receipts: %w", err)
	}
	out := make([]Signed, len(rs))
	for i, r := range rs {
		doc, err := r.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encode the receipt of %s after entry %d: %w", r.Account, r.Seq, err)
		}
		out[i] = Signed{Receipt: r, Document: doc}
	}
	return out, nil
}

// unsigned is the receipt it names, before signing: the asset, the
// account, its balance after the entry, the entry's sequence and time.
func unsigned(it Of) (*receipt.Receipt, error) {
	var bal int64
	switch it.Account {
	case it.Entry.CreditAccountID:
		bal = it.Entry.CreditBalanceAfter
	case it.Entry.DebitAccountID:
		bal = it.Entry.DebitBalanceAfter
	default:
		return nil, fmt.Errorf("receipt for %s: entry %d does not touch it", it.Account, it.Entry.Seq)
	}
	return &receipt.Receipt{Asset: it.Entry.Asset, Account: it.Account, Balance: attest.Amount(bal),
		Seq: attest.Amount(it.Entry.Seq), Time: it.Entry.CreatedAt.UTC().Format(attest.TimeLayout)}, nil
}
