package attest

import (
	sj "github.com/kosh-reserve/kosh/proofs/strictjson"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
)

// The attestation's shape (strictjson), member for member the JSON tags of
// Attestation and its parts: every member, no others; Optional marks the
// members left out when empty (omitempty). Version 2 members are optional
// here; verify's shape rules require them in version 2 and refuse them in
// version 1. web/static/verify.js has the same shape (SCHEMA).
var (
	classRuleShape = sj.Object{
		{Name: "counts", Shape: sj.Bool},
		{Name: "haircut_bps", Shape: sj.Int},
	}
	blockShape = sj.Object{
		{Name: "height", Shape: sj.Int},
		{Name: "hash", Shape: sj.String},
	}
	utxoShape = sj.Object{
		{Name: "outpoint", Shape: sj.String},
		{Name: "value", Shape: sj.String},
		{Name: "confirmations", Shape: sj.Int},
		{Name: "descriptor", Shape: sj.String, Optional: true},
		{Name: "address", Shape: sj.String, Optional: true},
		{Name: "source", Shape: sj.String},
		{Name: "script", Shape: sj.String, Optional: true},
		{Name: "proof", Shape: sj.Int, Optional: true},
	}
	channelShape = sj.Object{
		{Name: "channel_point", Shape: sj.String},
		{Name: "capacity", Shape: sj.String},
		{Name: "confirmations", Shape: sj.Int},
		{Name: "local_balance", Shape: sj.String},
		{Name: "counted", Shape: sj.String},
		{Name: "short_channel_id", Shape: sj.String, Optional: true},
		{Name: "evidence", Shape: sj.String, Optional: true},
	}
	nodeShape = sj.Object{
		{Name: "name", Shape: sj.String},
		{Name: "pubkey", Shape: sj.String},
		{Name: "channels", Shape: sj.Array{Elem: channelShape}},
		{Name: "signature", Shape: sj.String, Optional: true},
	}
	proofShape = sj.Object{
		{Name: "block", Shape: blockShape},
		{Name: "tx", Shape: sj.String},
		{Name: "prevouts", Shape: sj.Array{Elem: sj.Object{
			{Name: "value", Shape: sj.String},
			{Name: "script", Shape: sj.String},
		}}},
	}
	totalsShape = sj.Object{
		{Name: "onchain", Shape: sj.Object{
			{Name: "listed", Shape: sj.String},
			{Name: "eligible", Shape: sj.String},
			{Name: "counted", Shape: sj.String},
		}},
		{Name: "lightning", Shape: sj.Object{
			{Name: "capacity", Shape: sj.String},
			{Name: "local_balance", Shape: sj.String},
			{Name: "eligible", Shape: sj.String},
			{Name: "counted", Shape: sj.String},
		}},
		{Name: "lightning_claimed", Shape: sj.Object{
			{Name: "eligible", Shape: sj.String},
			{Name: "counted", Shape: sj.String},
		}, Optional: true},
		{Name: "counted", Shape: sj.String},
	}
	priceShape = sj.Object{
		{Name: "currency", Shape: sj.String},
		{Name: "coefficient", Shape: sj.String},
		{Name: "scale", Shape: sj.Int},
		{Name: "time", Shape: sj.String},
		{Name: "manual", Shape: sj.Bool},
		{Name: "spread_bps", Shape: sj.Int, Optional: true},
		{Name: "sources", Shape: sj.Array{Elem: sj.Object{
			{Name: "name", Shape: sj.String},
			{Name: "coefficient", Shape: sj.String},
			{Name: "scale", Shape: sj.Int},
			{Name: "time", Shape: sj.String},
		}}, Optional: true},
	}
	assetShape = sj.Object{
		{Name: "code", Shape: sj.String},
		{Name: "decimals", Shape: sj.Int},
		{Name: "peg", Shape: sj.String},
		{Name: "currency", Shape: sj.String, Optional: true},
		{Name: "price", Shape: priceShape, Optional: true},
		{Name: "min_coverage_bps", Shape: sj.Int},
		{Name: "liabilities", Shape: sj.Object{
			{Name: "root", Shape: sj.String},
			{Name: "total", Shape: sj.String},
			{Name: "height", Shape: sj.Int},
			{Name: "accounts", Shape: sj.String},
			{Name: "shares", Shape: sj.Int, Optional: true},
			{Name: "window", Shape: sj.Int, Optional: true},
			{Name: "tree_id", Shape: sj.String, Optional: true},
		}},
	}
	attestationShape = sj.Object{
		{Name: "version", Shape: sj.Int},
		{Name: "seq", Shape: sj.Int},
		{Name: "issuer_key", Shape: sj.String},
		{Name: "time", Shape: sj.String},
		{Name: "prev", Shape: sj.String},
		{Name: "block", Shape: blockShape},
		{Name: "journal_cutoff", Shape: sj.String},
		{Name: "counting", Shape: sj.Object{
			{Name: "min_confirmations", Shape: sj.Int},
			{Name: "onchain", Shape: classRuleShape},
			{Name: "lightning", Shape: classRuleShape},
			{Name: "lightning_claimed", Shape: classRuleShape, Optional: true},
			{Name: "proof_max_age", Shape: sj.Int, Optional: true},
		}},
		{Name: "reserves", Shape: sj.Object{
			{Name: "onchain", Shape: sj.Array{Elem: utxoShape}},
			{Name: "lightning", Shape: sj.Array{Elem: nodeShape}},
			{Name: "proofs", Shape: sj.Array{Elem: proofShape}, Optional: true},
			{Name: "totals", Shape: totalsShape},
		}},
		{Name: "assets", Shape: sj.Array{Elem: assetShape}},
		{Name: "coverage", Shape: sj.Object{
			{Name: "counted_reserves", Shape: sj.String},
			{Name: "required", Shape: sj.String},
			{Name: "backing", Shape: sj.String},
			{Name: "bps", Shape: sj.String},
			{Name: "backed", Shape: sj.Bool},
		}},
		{Name: "stale", Shape: sj.Bool},
		{Name: "stale_sources", Shape: sj.Array{Elem: sj.String}},
		{Name: "anchor", Shape: sj.Object{
			{Name: "seq", Shape: sj.Int},
			{Name: "id", Shape: sj.String},
			{Name: "txid", Shape: sj.String},
			{Name: "height", Shape: sj.Int},
			{Name: "block_hash", Shape: sj.String},
		}, Optional: true},
		{Name: "issuer_accounts", Shape: sj.Array{Elem: issuerAccountShape}, Optional: true},
		{Name: "signature", Shape: sj.String, Optional: true},
	}
)

// issuerAccountShape is an issuer-held account's entry: an inclusion
// bundle's data without the attestation id, with a name.
var issuerAccountShape = sj.Object{
	{Name: "asset", Shape: sj.String},
	{Name: "account", Shape: sj.String},
	{Name: "name", Shape: sj.String},
	{Name: "balance", Shape: sj.String},
	{Name: "salt", Shape: sj.String},
	{Name: "seq", Shape: sj.Int, Optional: true},
	{Name: "proof", Shape: sumtree.ProofShape, Optional: true},
	{Name: "share_proof", Shape: sumtree.ShareProofShape, Optional: true},
}
