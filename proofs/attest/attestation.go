package attest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/field"
	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/strictjson"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Version is the attestation format version this package writes. It reads
// every version from MinVersion to Version.
const Version = 3

// MinVersion is the oldest attestation format version this package reads:
// version 1 documents still verify, under version 1's rules.
const MinVersion = 1

// BasisPoints is 1.00 in basis points.
const BasisPoints = 10000

// MaxDocumentSize bounds the size of an attestation document, in bytes.
const MaxDocumentSize = 64 << 20

// TimeLayout is the layout of every time in the document (proofs/field).
const TimeLayout = field.TimeLayout

// Class names of the reserve classes.
const (
	// ClassOnchain is the class of listed on-chain outputs.
	ClassOnchain = "onchain"
	// ClassLightning is the class of Lightning channel balances with
	// third-party evidence that the channel is the node's (version 2:
	// EvidenceAnnounced; version 1: every channel).
	ClassLightning = "lightning"
	// ClassLightningClaimed is the class of channels with no such evidence
	// (version 2, EvidenceClaimed): counted only if the issuer's counting
	// policy says so, and shown apart as a claim.
	ClassLightningClaimed = "lightning_claimed"
)

// Channel evidence (version 2).
const (
	// EvidenceAnnounced: the channel is announced in the Lightning gossip
	// graph with the node as one of its two ends; a verifier's own lnd
	// checks it by short channel id.
	EvidenceAnnounced = "announced"
	// EvidenceClaimed: no third party can check that the channel is the
	// node's (a private or not yet announced channel); the node's word.
	EvidenceClaimed = "claimed"
)

// Peg names.
const (
	// PegSat is an asset of which one base unit is one sat of reserve.
	PegSat = "sat"
	// PegFiat is an asset pegged to a fiat currency, valued at a price.
	PegFiat = "fiat"
)

// Attestation is the attestation document. Field order here is irrelevant:
// the canonical form sorts members. See docs/proofs.md for every field.
type Attestation struct {
	// Version is 1, 2 or 3 (Version). Version 3 publishes version 2
	// liability trees (docs/proofs.md 3.15).
	Version int `json:"version"`
	// Seq numbers the attestations of one issuer from 1, one by one.
	Seq int64 `json:"seq"`
	// IssuerKey is the issuer's BIP-340 x-only key, 64 lower-case hex.
	IssuerKey string `json:"issuer_key"`
	// Time is the instant the inputs were frozen, TimeLayout.
	Time string `json:"time"`
	// Prev is the hash (id) of the previous attestation, hex; "" for the
	// first (Seq 1).
	Prev string `json:"prev"`
	// Block is the best block the reserves were read at.
	Block Block `json:"block"`
	// JournalCutoff is the last ledger journal sequence reflected in the
	// liabilities: every entry at or below it, none above.
	JournalCutoff Amount `json:"journal_cutoff"`
	// Counting is the counting rules a verifier recomputes the reserves with.
	Counting CountingRules `json:"counting"`
	// Reserves lists what backs the liabilities.
	Reserves Reserves `json:"reserves"`
	// Assets lists each asset's liabilities, peg, price and policy, sorted by
	// code.
	Assets []Asset `json:"assets"`
	// Coverage relates counted reserves to all assets' liabilities.
	Coverage Coverage `json:"coverage"`
	// Stale is true when some reserve source was past its max age.
	Stale bool `json:"stale"`
	// StaleSources names them, sorted; empty exactly when Stale is false.
	StaleSources []string `json:"stale_sources"`
	// Anchor is the newest confirmed anchor transaction when the document
	// was made (version 2, optional: absent before the issuer's first
	// anchor is confirmed; docs/proofs.md 4.14).
	Anchor *AnchorRef `json:"anchor,omitempty"`
	// IssuerAccounts are the balances of the accounts the issuer itself
	// holds (the payments escrow, fees, ...), each with what shows that
	// exactly that balance is in its asset's liability tree (version 2,
	// optional: absent when there are none; docs/proofs.md 4.15). Sorted
	// by asset, then account.
	IssuerAccounts []IssuerAccount `json:"issuer_accounts,omitempty"`
	// Signature is the issuer's BIP-340 signature over Hash, 128 hex.
	Signature string `json:"signature,omitempty"`
}

// AnchorRef names an anchor transaction: it commits to attestation Seq,
// whose id is ID, and is in block BlockHash at Height.
type AnchorRef struct {
	Seq       int64  `json:"seq"`
	ID        string `json:"id"`
	Txid      string `json:"txid"`
	Height    int64  `json:"height"`
	BlockHash string `json:"block_hash"`
}

// IssuerAccount is one positive balance of an account the issuer itself
// holds, published with the same data as a holder's inclusion bundle
// (docs/proofs.md 5): such an account has no holder to check it, and its
// own salt and position reveal nobody's identity.
type IssuerAccount struct {
	// Asset is the asset code; the attestation lists the asset.
	Asset string `json:"asset"`
	// Account is the account id the tree commits to.
	Account string `json:"account"`
	// Name is the issuer's name for the account (its ledger label), e.g.
	// "kosh payments escrow (redemptions in progress)"; not empty.
	Name string `json:"name"`
	// Balance is the balance counted in the asset's liabilities (> 0).
	Balance Amount `json:"balance"`
	// Salt is the account's salt in this attestation and asset.
	Salt sumtree.Salt `json:"salt"`
	// Seq is the journal sequence of the last entry applied to the account
	// at the cut-off (version 3).
	Seq *int64 `json:"seq,omitempty"`
	// Proof is the account's inclusion proof in the asset's tree (version
	// 2).
	Proof *sumtree.Proof `json:"proof,omitempty"`
	// ShareProof is the account's share-set proof in the asset's version 2
	// tree (version 3).
	ShareProof *sumtree.ShareProof `json:"share_proof,omitempty"`
}

// NewIssuerAccount lists accountID, an account the issuer holds, with its
// balance in tree, its salt and its inclusion proof, under name.
func NewIssuerAccount(tree *sumtree.Tree, accountID, name string) (IssuerAccount, error) {
	bal, ok := tree.Balance(accountID)
	if !ok {
		return IssuerAccount{}, fmt.Errorf("issuer account %s is not in the %s liability tree", accountID, tree.AssetCode())
	}
	proof, salt, err := tree.Proof(accountID)
	if err != nil {
		return IssuerAccount{}, fmt.Errorf("inclusion proof of issuer account %s in %s: %w", accountID, tree.AssetCode(), err)
	}
	return IssuerAccount{Asset: tree.AssetCode(), Account: accountID, Name: name, Balance: Amount(bal), Salt: salt, Proof: proof}, nil
}

// NewIssuerAccount2 lists accountID, an account the issuer holds, with its
// balance, last journal sequence, salt and share-set proof in a version 2
// tree, under name (attestation version 3).
func NewIssuerAccount2(tree *sumtree.ShareTree, accountID, name string) (IssuerAccount, error) {
	proof, salt, h, err := tree.Proof(accountID)
	if err != nil {
		return IssuerAccount{}, fmt.Errorf("issuer account %s in the %s liability tree: %w", accountID, tree.AssetCode(), err)
	}
	seq := int64(h.Seq)
	return IssuerAccount{Asset: tree.AssetCode(), Account: accountID, Name: name, Balance: Amount(h.Balance), Salt: salt,
		Seq: &seq, ShareProof: proof}, nil
}

// CompareIssuerAccounts orders issuer accounts by asset, then account (as
// bytes).
func CompareIssuerAccounts(x, y *IssuerAccount) int {
	if c := strings.Compare(x.Asset, y.Asset); c != 0 {
		return c
	}
	return strings.Compare(x.Account, y.Account)
}

// Block is a block of the best chain.
type Block struct {
	// Height of the block.
	Height int64 `json:"height"`
	// Hash in the usual (byte-reversed) hex form, as block explorers show it.
	Hash string `json:"hash"`
}

// CountingRules says how listed reserves count.
type CountingRules struct {
	// MinConfirmations is how many confirmations an on-chain output or a
	// channel funding output needs, at the attested block, to count.
	MinConfirmations int64 `json:"min_confirmations"`
	// Onchain and Lightning are the rules of each class.
	Onchain   ClassRule `json:"onchain"`
	Lightning ClassRule `json:"lightning"`
	// LightningClaimed is the rule of claimed channels (version 2).
	LightningClaimed *ClassRule `json:"lightning_claimed,omitempty"`
	// ProofMaxAge is how many blocks a proof of control made at block X
	// stays good for: an output counts at attested block Y only with a
	// proof with X ≤ Y ≤ X + ProofMaxAge (version 2).
	ProofMaxAge *int64 `json:"proof_max_age,omitempty"`
}

// ClassRule is the rule of one reserve class.
type ClassRule struct {
	// Counts says whether the class counts at all.
	Counts bool `json:"counts"`
	// HaircutBps is deducted from the class's eligible total, in basis
	// points (0..10000); the result is rounded down.
	HaircutBps int64 `json:"haircut_bps"`
}

// Reserves lists the reserves and their totals.
type Reserves struct {
	// Onchain lists unspent outputs, sorted by outpoint (txid, then vout).
	Onchain []UTXO `json:"onchain"`
	// Lightning lists the issuer's nodes, sorted by public key.
	Lightning []Node `json:"lightning"`
	// Proofs are the proofs of control the outputs name (version 2),
	// sorted by challenge height, then transaction; left out when none.
	Proofs []Proof `json:"proofs,omitempty"`
	// Totals are derived from the lists and the counting rules.
	Totals Totals `json:"totals"`
}

// Proof is a proof of control (version 2): a BIP-127 proof-of-reserves
// transaction over some of the listed outputs (docs/proofs.md 4.12).
type Proof struct {
	// Block is the challenge block the proof commits to.
	Block Block `json:"block"`
	// Tx is the signed proof transaction, hex, with witnesses.
	Tx string `json:"tx"`
	// Prevouts are the outputs the transaction's inputs spend, from its
	// second input on, in input order.
	Prevouts []Prevout `json:"prevouts"`
}

// Prevout is an output a proof's input spends.
type Prevout struct {
	// Value in sats.
	Value Amount `json:"value"`
	// Script is the output's scriptPubKey, hex.
	Script string `json:"script"`
}

// UTXO is one unspent on-chain output held as reserve.
type UTXO struct {
	// Outpoint is "txid:vout", txid in the usual hex form, vout decimal.
	Outpoint string `json:"outpoint"`
	// Value in sats.
	Value Amount `json:"value"`
	// Confirmations at the attested block (1 = in the attested block).
	Confirmations int64 `json:"confirmations"`
	// Descriptor that derives the output's script, if known.
	Descriptor string `json:"descriptor,omitempty"`
	// Address of the output, if it has one.
	Address string `json:"address,omitempty"`
	// Source names what reported it ("chain", or an lnd node's name for its
	// on-chain wallet).
	Source string `json:"source"`
	// Script is the output's scriptPubKey, hex (version 2).
	Script string `json:"script,omitempty"`
	// Proof is the index in Reserves.Proofs of the proof of control over
	// this output (version 2); nil when there is none, and then the output
	// does not count.
	Proof *int `json:"proof,omitempty"`
}

// Node is one of the issuer's Lightning nodes.
type Node struct {
	// Name is the operator's name for the node.
	Name string `json:"name"`
	// PubKey is the node's 33-byte identity key, 66 lower-case hex.
	PubKey string `json:"pubkey"`
	// Channels, sorted by channel point.
	Channels []Channel `json:"channels"`
	// Signature is the node's lnd SignMessage signature (zbase32) over
	// NodeMessage; "" when the node could not sign, and then none of its
	// channels may count.
	Signature string `json:"signature,omitempty"`
}

// Channel is one channel of a node.
type Channel struct {
	// ChannelPoint is the funding outpoint "txid:vout".
	ChannelPoint string `json:"channel_point"`
	// Capacity is the funding output's value: verifiable on-chain, an upper
	// bound on what the channel can hold.
	Capacity Amount `json:"capacity"`
	// Confirmations of the funding output at the attested block.
	Confirmations int64 `json:"confirmations"`
	// LocalBalance is the node's claim of its current balance (≤ Capacity).
	LocalBalance Amount `json:"local_balance"`
	// Counted is what the issuer counts from this channel before the class
	// haircut (≤ LocalBalance): the local balance less the channel reserve
	// for an active channel, 0 otherwise.
	Counted Amount `json:"counted"`
	// ShortChannelID is "block x tx x output" (e.g. "880123x45x1"), the
	// id a verifier's lnd finds an announced channel by (version 2; left
	// out while the funding output is unconfirmed).
	ShortChannelID string `json:"short_channel_id,omitempty"`
	// Evidence is EvidenceAnnounced or EvidenceClaimed (version 2).
	Evidence string `json:"evidence,omitempty"`
}

// Totals are the per-class totals and counted totals.
type Totals struct {
	Onchain   OnchainTotals   `json:"onchain"`
	Lightning LightningTotals `json:"lightning"`
	// LightningClaimed are the totals of claimed channels (version 2).
	LightningClaimed *ClaimedTotals `json:"lightning_claimed,omitempty"`
	// Counted is Onchain.Counted + Lightning.Counted (+
	// LightningClaimed.Counted in version 2).
	Counted Amount `json:"counted"`
}

// ClaimedTotals are the totals of claimed channels (version 2).
type ClaimedTotals struct {
	// Eligible is the sum of the claimed channels' Counted.
	Eligible Amount `json:"eligible"`
	// Counted is Eligible after the claimed class rule.
	Counted Amount `json:"counted"`
}

// OnchainTotals are the on-chain class totals.
type OnchainTotals struct {
	// Listed is the sum of every listed output's value.
	Listed Amount `json:"listed"`
	// Eligible is the sum over outputs with at least MinConfirmations
	// (and, in version 2, a proof of control within ProofMaxAge).
	Eligible Amount `json:"eligible"`
	// Counted is Eligible after the class rule (0 if the class does not
	// count, else Eligible less the haircut, rounded down).
	Counted Amount `json:"counted"`
}

// LightningTotals are the Lightning class totals.
type LightningTotals struct {
	// Capacity is the sum of channel capacities (the on-chain upper bound).
	Capacity Amount `json:"capacity"`
	// LocalBalance is the sum of the nodes' local balance claims.
	LocalBalance Amount `json:"local_balance"`
	// Eligible is the sum of the channels' Counted (version 2: of the
	// announced channels).
	Eligible Amount `json:"eligible"`
	// Counted is Eligible after the class rule.
	Counted Amount `json:"counted"`
}

// Asset is one asset's liabilities and policy.
type Asset struct {
	// Code of the asset, e.g. "SAT", "INR".
	Code string `json:"code"`
	// Decimals of the display unit (base units per unit = 10^Decimals).
	Decimals int `json:"decimals"`
	// Peg is PegSat or PegFiat.
	Peg string `json:"peg"`
	// Currency is the ISO 4217 code of a fiat peg, "" for PegSat.
	Currency string `json:"currency,omitempty"`
	// Price values reserves for a fiat peg; nil for PegSat, and for a fiat
	// asset with no liabilities and no usable price.
	Price *Price `json:"price,omitempty"`
	// MinCoverageBps is the policy minimum coverage (10000 = 1.00).
	MinCoverageBps int64 `json:"min_coverage_bps"`
	// Liabilities is the root of the asset's liability tree.
	Liabilities Liabilities `json:"liabilities"`
}

// Price is the price of one bitcoin: Coefficient / 10^Scale units of
// Currency.
type Price struct {
	Currency    string `json:"currency"`
	Coefficient BigInt `json:"coefficient"`
	Scale       int    `json:"scale"`
	// Time of the price, TimeLayout.
	Time string `json:"time"`
	// Manual is true when the issuer set the price by hand.
	Manual bool `json:"manual"`
	// SpreadBps is the largest deviation of a listed source's price from
	// this price, in basis points rounded up; left out when 0.
	SpreadBps int64 `json:"spread_bps,omitempty"`
	// Sources are the oracle sources this price is the lower median of,
	// sorted by name; left out for a manual price.
	Sources []PriceSource `json:"sources,omitempty"`
}

// PriceSource is one oracle source's quote that made a price.
type PriceSource struct {
	// Name is the operator's name for the source.
	Name string `json:"name"`
	// Coefficient / 10^Scale is the source's price of one bitcoin.
	Coefficient BigInt `json:"coefficient"`
	Scale       int    `json:"scale"`
	// Time of the quote, TimeLayout.
	Time string `json:"time"`
}

// Liabilities is what the attestation publishes of a liability tree.
type Liabilities struct {
	// Root is the tree's root hash, 64 hex.
	Root string `json:"root"`
	// Total is the root sum: every balance added up.
	Total Amount `json:"total"`
	// Height is the tree height (the length of every proof).
	Height int `json:"height"`
	// Accounts is the number of accounts (in version 3, each of Shares
	// leaves).
	Accounts Amount `json:"accounts"`
	// Shares is the number of shares every balance is split into: 1, 2 or
	// 4 (version 3).
	Shares int `json:"shares,omitempty"`
	// Window is the window exponent of the share layout, 0 to Height
	// (version 3; a pointer, since 0 is a value).
	Window *int `json:"window,omitempty"`
	// TreeID is the tree's public id, 64 hex (version 3): different for
	// every asset and every attestation.
	TreeID string `json:"tree_id,omitempty"`
}

// Coverage relates reserves to liabilities; all in sats except Bps.
type Coverage struct {
	// CountedReserves equals Reserves.Totals.Counted.
	CountedReserves Amount `json:"counted_reserves"`
	// Required is the sats every asset's liabilities need at its policy
	// minimum, summed exactly and rounded up.
	Required Amount `json:"required"`
	// Backing is the sats the liabilities are worth at 1.00, rounded up.
	Backing Amount `json:"backing"`
	// Bps is CountedReserves × 10000 over the exact worth of the
	// liabilities (not the rounded-up Backing), rounded down; 0 when
	// nothing is outstanding.
	Bps CoverageBps `json:"bps"`
	// Backed is CountedReserves ≥ Required.
	Backed bool `json:"backed"`
}

// Marshal returns the canonical (RFC 8785) bytes of the document, including
// its signature if set: the bytes to publish.
func (a *Attestation) Marshal() ([]byte, error) {
	b, err := jcs.Marshal(a.normalized())
	if err != nil {
		return nil, fmt.Errorf("marshal attestation: %w", err)
	}
	return b, nil
}

// normalized returns a shallow copy in which every nil list is empty, so a
// list is always encoded as [] and never as null.
func (a *Attestation) normalized() *Attestation {
	c := *a
	if c.Reserves.Onchain == nil {
		c.Reserves.Onchain = []UTXO{}
	}
	if c.Assets == nil {
		c.Assets = []Asset{}
	}
	if c.StaleSources == nil {
		c.StaleSources = []string{}
	}
	c.Reserves.Lightning = make([]Node, len(a.Reserves.Lightning))
	for i, n := range a.Reserves.Lightning {
		if n.Channels == nil {
			n.Channels = []Channel{}
		}
		c.Reserves.Lightning[i] = n
	}
	if a.Reserves.Proofs != nil {
		c.Reserves.Proofs = make([]Proof, len(a.Reserves.Proofs))
		for i, pr := range a.Reserves.Proofs {
			if pr.Prevouts == nil {
				pr.Prevouts = []Prevout{}
			}
			c.Reserves.Proofs[i] = pr
		}
	}
	return &c
}

// Unsigned returns the canonical bytes of the document without its
// signature member: what Hash hashes.
func (a *Attestation) Unsigned() ([]byte, error) {
	c := *a
	c.Signature = ""
	return c.Marshal()
}

// Hash returns the attestation's hash: TaggedHash("kosh/attestation",
// canonical bytes of the document without its "signature" member). It is
// the digest the issuer signs and the attestation's id.
func (a *Attestation) Hash() ([32]byte, error) {
	b, err := a.Unsigned()
	if err != nil {
		return [32]byte{}, err
	}
	return sig.Digest(taghash.TagAttestation, b), nil
}

// ID returns hex(Hash()).
func (a *Attestation) ID() (string, error) {
	h, err := a.Hash()
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h[:]), nil
}

// NodeDigest returns the digest the Lightning nodes sign: TaggedHash(
// "kosh/attestation", canonical bytes of the document without the
// top-level "signature" member and without the "signature" member of every
// node).
func (a *Attestation) NodeDigest() ([32]byte, error) {
	c := *a
	c.Signature = ""
	c.Reserves.Lightning = make([]Node, len(a.Reserves.Lightning))
	for i, n := range a.Reserves.Lightning {
		n.Signature = ""
		c.Reserves.Lightning[i] = n
	}
	b, err := c.Marshal()
	if err != nil {
		return [32]byte{}, err
	}
	return sig.Digest(taghash.TagAttestation, b), nil
}

// NodeMessagePrefix starts the message each Lightning node signs.
const NodeMessagePrefix = "kosh/attestation:"

// NodeMessage returns the message each Lightning node signs with lnd's
// SignMessage: the ASCII bytes "kosh/attestation:" followed by the 64
// lower-case hex digits of NodeDigest. Set every field except the node
// signatures and the issuer signature (and call Fill) before asking for it.
func (a *Attestation) NodeMessage() ([]byte, error) {
	if a.IssuerKey == "" {
		return nil, fmt.Errorf("node message: set the issuer key before the nodes sign")
	}
	d, err := a.NodeDigest()
	if err != nil {
		return nil, err
	}
	return []byte(NodeMessagePrefix + hex.EncodeToString(d[:])), nil
}

// Sign sets Signature to a BIP-340 signature over Hash with key. IssuerKey
// must be empty (Sign sets it) or already name key (as it must before the
// nodes sign: see NodeMessage). Set everything else, node signatures
// included, first.
func (a *Attestation) Sign(key *btcec.PrivateKey) error {
	return a.sign(key, nil)
}

// SignWithAux is Sign with caller-given BIP-340 auxiliary randomness, for
// reproducible test vectors only.
func (a *Attestation) SignWithAux(key *btcec.PrivateKey, aux [32]byte) error {
	return a.sign(key, &aux)
}

func (a *Attestation) sign(key *btcec.PrivateKey, aux *[32]byte) error {
	if key == nil {
		return fmt.Errorf("sign attestation: no issuer key")
	}
	pub := sig.EncodeKey(sig.XOnly(key.PubKey()))
	if a.IssuerKey != "" && a.IssuerKey != pub {
		return fmt.Errorf("sign attestation: the document names issuer key %s but the signing key is %s", a.IssuerKey, pub)
	}
	a.IssuerKey = pub
	h, err := a.Hash()
	if err != nil {
		return err
	}
	if a.Signature, err = sig.SignEncoded(key, h, aux); err != nil {
		return fmt.Errorf("sign attestation: %w", err)
	}
	return nil
}

// IssuerKeyOf returns the x-only hex form of key, the value of IssuerKey.
func IssuerKeyOf(key *btcec.PrivateKey) string { return sig.EncodeKey(sig.XOnly(key.PubKey())) }

// Parse decodes a published attestation. It accepts only strict JSON of
// the attestation's shape (strictjson: no unknown, repeated, case-variant
// or missing member, no null, no wrong type, no empty optional member) whose
// bytes are exactly the canonical form of the document they decode to:
// RFC 8785 canonical JSON (no whitespace, sorted members).
// It does not check sums or signatures; proofs/verify does.
func Parse(b []byte) (*Attestation, error) {
	if len(b) > MaxDocumentSize {
		return nil, fail(ErrMalformed, "the document is %d bytes, more than the limit of %d", len(b), MaxDocumentSize)
	}
	if err := strictjson.Check(b, attestationShape); err != nil {
		if errors.Is(err, strictjson.ErrSyntax) {
			return nil, wrap(ErrMalformed, err, "the document is not valid JSON (%v)", err)
		}
		return nil, wrap(ErrMalformed, err, "the document does not have the attestation shape (%v)", err)
	}
	c, err := jcs.Canonicalize(b)
	if err != nil {
		return nil, wrap(ErrMalformed, err, "the document is not valid JSON (%v)", err)
	}
	if !bytes.Equal(c, b) {
		return nil, fail(ErrNotCanonical, "the document is not in RFC 8785 canonical form, so its hash would differ from the signed one")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var a Attestation
	if err := d.Decode(&a); err != nil {
		return nil, wrap(ErrMalformed, err, "the document does not have the attestation shape (%v)", err)
	}
	again, err := a.Marshal()
	if err != nil {
		return nil, wrap(ErrMalformed, err, "the document cannot be re-encoded (%v)", err)
	}
	if !bytes.Equal(again, b) {
		return nil, fail(ErrNotCanonical, "the document is canonical JSON but not the canonical encoding of its fields (a member is missing, null, empty where it must be left out, or of the wrong type)")
	}
	if a.Version < MinVersion || a.Version > Version {
		return nil, fail(ErrMalformed, "the attestation has version %d, but this verifier reads versions %d to %d", a.Version, MinVersion, Version)
	}
	return &a, nil
}
