package attestor

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/proofs/verify"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// DocComposer composes attestation documents in the format of
// docs/proofs.md (package proofs/attest) from frozen inputs.
//
// What it lists, and why a verifier can recompute every figure (format
// version 2):
//   - every watched output of the chain source at or below the attested
//     block, with its confirmations at that block, its script and its
//     proof of control if it has one made at or before that block (the
//     proofs themselves in reserves.proofs): it counts only with a proof
//     within the proof age;
//   - every Lightning node's wallet outputs that the node verified
//     on-chain (counted or not: an unproven one is listed with no proof),
//     or that are not yet old enough to count, with confirmations at that
//     block, its script and proof;
//   - every channel of every node, counting its local balance less the
//     channel reserve only when the channel is active, its funding output
//     verified on-chain and old enough, and the node signed this very
//     document (lnd SignMessage). A node that cannot sign lists its channels
//     with nothing counted: an unsigned balance claim is not evidence. A
//     channel announced in the gossip graph says so, with its short channel
//     id; any other is a claim, counted only under the claimed rule;
//   - every positive balance of an account the issuer holds itself (the
//     payments escrow), by name, with its salt and inclusion proof, since
//     no holder checks it (docs/proofs.md 4.15).
type DocComposer struct {
	// Log receives one line per node that could not sign.
	Log *slog.Logger
}

var _ Composer = DocComposer{}

// Compose implements Composer.
func (c DocComposer) Compose(ctx context.Context, in Inputs, key *btcec.PrivateKey, nodes []NodeSigner) (Signed, error) {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	if key == nil {
		return Signed{}, fmt.Errorf("no issuer key")
	}
	a := &attest.Attestation{
		Version: attest.Version, Seq: in.Seq, Prev: in.PrevID,
		IssuerKey:     attest.IssuerKeyOf(key),
		Time:          in.Time.UTC().Format(attest.TimeLayout),
		JournalCutoff: attest.Amount(in.Ledger.CutoffSeq),
		Counting: attest.CountingRules{MinConfirmations: in.MinConf,
			Onchain:          attest.ClassRule{Counts: true},
			Lightning:        attest.ClassRule{Counts: true},
			LightningClaimed: &attest.ClassRule{Counts: in.CountClaimed},
			ProofMaxAge:      ptr(int64(proving.DefaultMaxAge))},
		Reserves:     attest.Reserves{Onchain: []attest.UTXO{}, Lightning: []attest.Node{}},
		Assets:       []attest.Asset{},
		StaleSources: []string{},
		Anchor:       in.Anchor,
	}
	height, hash, err := attestedBlock(in)
	if err != nil {
		return Signed{}, err
	}
	a.Block = attest.Block{Height: height, Hash: hash}
	confs := func(fundingHeight int64) int64 {
		if fundingHeight <= 0 || fundingHeight > height {
			return 0
		}
		return height - fundingHeight + 1
	}

	if in.Proofs != nil {
		*a.Counting.ProofMaxAge = in.Proofs.MaxAge()
	}
	proofs := proofLister{in: in, a: a, height: height, index: map[int64]int{}}
	seen := map[string]bool{}
	for _, u := range in.Chain.UTXOs {
		n := confs(u.Height)
		if n < 1 {
			continue // newer than the attested block
		}
		op := u.OutPoint.String()
		seen[op] = true
		a.Reserves.Onchain = append(a.Reserves.Onchain, attest.UTXO{Outpoint: op, Value: attest.Amount(u.Value),
			Confirmations: n, Descriptor: u.Descriptor, Source: "chain", Script: hex.EncodeToString(u.PkScript),
			Proof: proofs.of(op)})
	}
	for _, r := range in.Lightning {
		for _, w := range r.Wallet {
			n := confs(w.FundingHeight)
			if n < 1 || seen[w.Outpoint] {
				continue
			}
			if w.Class == "" && n >= in.MinConf {
				// Listed by the node only once verified on-chain; at the
				// attested block it would be old enough, so it must not be
				// listed unverified.
				continue
			}
			seen[w.Outpoint] = true
			a.Reserves.Onchain = append(a.Reserves.Onchain, attest.UTXO{Outpoint: w.Outpoint, Value: attest.Amount(w.Value),
				Confirmations: n, Address: w.Address, Source: r.Name, Script: hex.EncodeToString(w.PkScript),
				Proof: proofs.of(w.Outpoint)})
		}
		if r.PubKey == "" {
			continue // never heard from: nothing to list
		}
		node := attest.Node{Name: r.Name, PubKey: r.PubKey, Channels: []attest.Channel{}}
		for _, ch := range r.Channels {
			if seen[ch.ChannelPoint] {
				continue
			}
			seen[ch.ChannelPoint] = true
			n := confs(ch.FundingHeight)
			counted := ch.Counted
			if n < in.MinConf {
				counted = 0
			}
			local := min(ch.LocalBalance, ch.Capacity)
			c := attest.Channel{ChannelPoint: ch.ChannelPoint,
				Capacity: attest.Amount(ch.Capacity), Confirmations: n,
				LocalBalance: attest.Amount(local), Counted: attest.Amount(min(counted, local)),
				Evidence: attest.EvidenceClaimed}
			if ch.FundingHeight > 0 {
				c.ShortChannelID = ch.ShortChannelID
			}
			if ch.Announced && c.ShortChannelID != "" {
				c.Evidence = attest.EvidenceAnnounced
			}
			node.Channels = append(node.Channels, c)
		}
		a.Reserves.Lightning = append(a.Reserves.Lightning, node)
	}
	for _, s := range in.Reserves.Sources {
		if s.Stale {
			a.StaleSources = append(a.StaleSources, s.Name)
		}
	}

	for i, fa := range in.Ledger.Assets {
		root := in.Trees[i].Root()
		as := attest.Asset{Code: fa.Asset.Code, Decimals: int(fa.Asset.Decimals), Peg: attest.PegSat,
			MinCoverageBps: fa.Asset.MinCoverageBps,
			Liabilities: attest.Liabilities{Root: hex.EncodeToString(root.Hash[:]), Total: attest.Amount(root.Sum),
				Height: root.Height, Accounts: attest.Amount(root.Count), Shares: root.Shares, Window: &root.Window,
				TreeID: hex.EncodeToString(root.TreeID[:])}}
		if fa.Asset.Peg == ledger.PegFiat {
			as.Peg, as.Currency = attest.PegFiat, fa.Asset.Currency
			if p, ok := in.Prices[fa.Asset.Currency]; ok {
				as.Price = priceOf(p)
			} else {
				// No usable price: the attestation is published anyway,
				// marked stale, valuing the liabilities at the last attested
				// price, so that silence is never mistaken for health.
				name := "price:" + fa.Asset.Currency
				if !slices.Contains(a.StaleSources, name) {
					a.StaleSources = append(a.StaleSources, name)
				}
				as.Price = lastPrice(in.PrevDocument, fa.Asset.Currency)
				if fa.Total > 0 && as.Price == nil {
					return Signed{}, fmt.Errorf("asset %s has liabilities but no usable %s price (%v) and none was attested before: its coverage cannot be stated",
						fa.Asset.Code, fa.Asset.Currency, in.PriceErrs[fa.Asset.Currency])
				}
			}
		}
		a.Assets = append(a.Assets, as)
		if err := listIssuerAccounts(a, in, i); err != nil {
			return Signed{}, err
		}
	}
	if err := a.Fill(); err != nil {
		return Signed{}, fmt.Errorf("attestation figures: %w", err)
	}

	// Every node signs the document as it stands without signatures; a
	// node that cannot sign keeps its channels listed with nothing counted,
	// which changes the document, so signing repeats until it settles.
	signers := map[string]NodeSigner{}
	for _, n := range nodes {
		signers[n.Name()] = n
	}
	for round := 0; ; round++ {
		if round > len(a.Reserves.Lightning) {
			return Signed{}, fmt.Errorf("node signatures did not settle")
		}
		changed := false
		msg, err := a.NodeMessage()
		if err != nil {
			return Signed{}, err
		}
		for i := range a.Reserves.Lightning {
			node := &a.Reserves.Lightning[i]
			node.Signature = ""
			s := signers[node.Name]
			var why string
			dropped := false
			switch {
			case s == nil || !s.CanSign():
				why = "no signing macaroon is configured for it (signmacaroon=)"
			default:
				z, err := s.SignMessage(ctx, msg)
				if err != nil {
					why = err.Error()
				} else {
					node.Signature = z
				}
			}
			if node.Signature != "" {
				continue
			}
			for j := range node.Channels {
				if node.Channels[j].Counted != 0 {
					node.Channels[j].Counted = 0
					changed, dropped = true, true
				}
			}
			if dropped {
				log.Warn("Lightning node did not sign the attestation; its channels are listed but not counted",
					"node", node.Name, "reason", why)
			}
		}
		if !changed {
			break
		}
		for i := range a.Reserves.Lightning {
			a.Reserves.Lightning[i].Signature = ""
		}
		if err := a.Fill(); err != nil {
			return Signed{}, fmt.Errorf("attestation figures: %w", err)
		}
	}
	if err := a.Sign(key); err != nil {
		return Signed{}, err
	}
	if err := verify.Attestation(a); err != nil {
		return Signed{}, fmt.Errorf("the composed attestation does not verify (a bug; nothing was published): %w", err)
	}
	doc, err := a.Marshal()
	if err != nil {
		return Signed{}, err
	}
	id, err := a.ID()
	if err != nil {
		return Signed{}, err
	}
	return Signed{ID: id, Document: doc, Stale: a.Stale, Prices: statedPrices(a)}, nil
}

// listIssuerAccounts adds to a every positive balance of asset i held by
// an issuer-held account, with its salt, last journal sequence and
// share-set proof
// (docs/proofs.md 4.15). The tree was built from the frozen balances in
// their order, so the proof is found by index, without indexing every
// account id of the tree.
func listIssuerAccounts(a *attest.Attestation, in Inputs, i int) error {
	fa, tree := in.Ledger.Assets[i], in.Trees[i]
	for _, j := range fa.Issuer {
		b := fa.Balances[j]
		acc, ok := in.Ledger.IssuerAccount(b.AccountID)
		if !ok || b.Balance <= 0 {
			return fmt.Errorf("frozen balance %d of %s is marked issuer-held but is not (account %s, balance %d)", j, fa.Asset.Code, b.AccountID, b.Balance)
		}
		proof, salt, h, err := tree.ProofAt(j)
		if err != nil {
			return fmt.Errorf("share-set proof of issuer account %s in %s: %w", b.AccountID, fa.Asset.Code, err)
		}
		seq := int64(h.Seq)
		a.IssuerAccounts = append(a.IssuerAccounts, attest.IssuerAccount{Asset: fa.Asset.Code, Account: b.AccountID,
			Name: acc.Label, Balance: attest.Amount(b.Balance), Salt: salt, Seq: &seq, ShareProof: proof})
	}
	return nil
}

// statedPrices lists the prices an attestation states, one per currency,
// in currency order.
func statedPrices(a *attest.Attestation) []AttestedPrice {
	seen := map[string]bool{}
	var out []AttestedPrice
	for _, as := range a.Assets {
		if p := as.Price; p != nil && !seen[p.Currency] {
			seen[p.Currency] = true
			out = append(out, AttestedPrice{Currency: p.Currency, Coefficient: new(big.Int).Set(&p.Coefficient.Int),
				Scale: p.Scale})
		}
	}
	slices.SortFunc(out, func(x, y AttestedPrice) int { return strings.Compare(x.Currency, y.Currency) })
	return out
}

func ptr[T any](v T) *T { return &v }

// proofLister adds to the attestation the proofs of control its outputs
// name, each once.
type proofLister struct {
	in     Inputs
	a      *attest.Attestation
	height int64
	index  map[int64]int // proof id -> index in a.Reserves.Proofs
}

// of returns the index of outpoint's proof, listing it, or nil when the
// output has none made at or before the attested block (or its block left
// the best chain). A proof past the proof age is listed too: the output
// then counts 0, and the attestation shows why.
func (l *proofLister) of(outpoint string) *int {
	if l.in.Proofs == nil {
		return nil
	}
	st := l.in.Proofs.Status(outpoint, l.height)
	if st.Proof == nil || st.Proof.Challenge.Height > l.height {
		return nil
	}
	if i, ok := l.index[st.Proof.ID]; ok {
		return &i
	}
	txHex, err := control.Encode(st.Proof.Tx)
	if err != nil {
		return nil
	}
	pr := attest.Proof{Block: attest.Block{Height: st.Proof.Challenge.Height, Hash: st.Proof.Challenge.Hash}, Tx: txHex}
	for _, po := range st.Proof.PrevOuts {
		pr.Prevouts = append(pr.Prevouts, attest.Prevout{Value: attest.Amount(po.Value), Script: hex.EncodeToString(po.Script)})
	}
	l.a.Reserves.Proofs = append(l.a.Reserves.Proofs, pr)
	i := len(l.a.Reserves.Proofs) - 1
	l.index[st.Proof.ID] = i
	return &i
}

// lastPrice returns the price of currency in the previous attestation, if
// it has one.
func lastPrice(prev []byte, currency string) *attest.Price {
	if len(prev) == 0 {
		return nil
	}
	d, err := attest.Parse(prev)
	if err != nil {
		return nil
	}
	for _, as := range d.Assets {
		if as.Price != nil && as.Price.Currency == currency {
			p := *as.Price
			return &p
		}
	}
	return nil
}

// attestedBlock is the chain source's block, or, with no chain source, the
// best block of the first Lightning node heard from.
func attestedBlock(in Inputs) (int64, string, error) {
	if in.Chain.Hash != "" {
		return in.Chain.Height, in.Chain.Hash, nil
	}
	for _, r := range in.Lightning {
		if r.BlockHash != "" {
			return int64(r.BlockHeight), r.BlockHash, nil
		}
	}
	return 0, "", fmt.Errorf("no reserve source has reported a block yet: nothing to attest at")
}

func priceOf(p reserve.Price) *attest.Price {
	out := &attest.Price{Currency: p.Currency, Coefficient: attest.NewBigInt(new(big.Int).Set(p.Coefficient)),
		Scale: int(p.Scale), Time: p.Time.UTC().Format(attest.TimeLayout), Manual: p.Manual}
	if !p.Manual {
		out.SpreadBps = p.SpreadBps
		for _, s := range p.Sources {
			out.Sources = append(out.Sources, attest.PriceSource{Name: s.Name,
				Coefficient: attest.NewBigInt(new(big.Int).Set(s.Coefficient)), Scale: int(s.Scale),
				Time: s.Time.UTC().Format(attest.TimeLayout)})
		}
		slices.SortFunc(out.Sources, func(a, b attest.PriceSource) int { return strings.Compare(a.Name, b.Name) })
	}
	return out
}
