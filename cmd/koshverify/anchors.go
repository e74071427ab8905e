package main

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/kosh-reserve/kosh/proofs/attest"
)

// checkAnchors follows the bitcoin anchors a lists (docs/proofs.md 4.14)
// with the verifier's node: the newest and every one before it, back to
// the issuer's genesis anchor, must be on the main chain and commit to the
// attestations of history (a's chain as far as it was followed; at least
// a itself). genesis, if given, is the txid of the issuer's genesis anchor
// the holder recorded before.
func (r *runner) checkAnchors(a *attest.Attestation, c chainClient, history []*attest.Attestation, genesis string, maxScan int64) {
	if a.Anchor == nil {
		r.warnf("attestation %d lists no bitcoin anchor: nothing on the bitcoin chain shows that this is the issuer's one history (a fork or a restart would verify too)", a.Seq)
		return
	}
	key, err := hex.DecodeString(a.IssuerKey)
	if err != nil || len(key) != 32 {
		r.fail(fmt.Sprintf("the issuer key %q cannot be read", a.IssuerKey))
		return
	}
	ref, err := anchorRef(a.Anchor)
	if err != nil {
		r.fail(err.Error())
		return
	}
	walked, err := anchor.Walk(r.ctx, c, [32]byte(key), ref, 0)
	if err != nil {
		r.fail(fmt.Sprintf("bitcoin anchor: %v", err))
		return
	}
	// Anchors made after the one listed: a fork cannot hide behind an
	// older anchor once the issuer has anchored past it.
	later, err := anchor.Forward(r.ctx, c, walked[0], maxScan)
	if err != nil {
		r.fail(fmt.Sprintf("bitcoin anchor: %v", err))
		return
	}
	if len(later) > 0 {
		r.notef("%d anchor(s) on your node's chain are newer than the one attestation %d lists; the newest commits to attestation %d",
			len(later), a.Seq, later[len(later)-1].Seq)
		for i, j := 0, len(later)-1; i < j; i, j = i+1, j-1 {
			later[i], later[j] = later[j], later[i]
		}
		walked = append(later, walked...)
	}
	ids := map[uint64][32]byte{}
	for _, h := range append(history, a) {
		id, err := h.Hash()
		if err == nil {
			ids[uint64(h.Seq)] = id
		}
	}
	checked, err := anchor.Check([32]byte(key), walked, ids)
	var d *anchor.Divergence
	if errors.As(err, &d) {
		r.fail(d.Error())
		return
	}
	g := walked[len(walked)-1]
	if genesis != "" && g.Txid.String() != genesis {
		r.fail(fmt.Sprintf("the anchors lead back to genesis anchor %s (block %d), not to the issuer's genesis %s you gave: this is another, or a restarted, history",
			g.Txid, g.Height, genesis))
		return
	}
	tip, err := c.BestHeight(r.ctx)
	if err != nil {
		r.fail(fmt.Sprintf("read your node's tip: %v", err))
		return
	}
	r.okf("anchored in bitcoin: %d anchor(s) on your node's chain back to the genesis anchor %s (block %d); the newest, %s in block %d with %d confirmation(s), commits to attestation %d; %d of them checked against the attestations given",
		len(walked), g.Txid, g.Height, walked[0].Txid, walked[0].Height, tip-walked[0].Height+1, walked[0].Seq, checked)
	if checked < len(walked) {
		r.notef("%d anchor(s) commit to attestations not given (use --chain to check the whole history against them)", len(walked)-checked)
	}
	if genesis == "" {
		r.notef("record the genesis anchor %s: with --anchor-genesis it tells this history from a restarted one", g.Txid)
	}
}

// anchorRef reads the anchor an attestation lists.
func anchorRef(r *attest.AnchorRef) (anchor.Ref, error) {
	id, err := hex.DecodeString(r.ID)
	if err != nil || len(id) != 32 {
		return anchor.Ref{}, fmt.Errorf("the anchor's attestation id %q cannot be read", r.ID)
	}
	txid, err := chainhash.NewHashFromStr(r.Txid)
	if err != nil {
		return anchor.Ref{}, fmt.Errorf("the anchor's txid %q cannot be read", r.Txid)
	}
	bh, err := chainhash.NewHashFromStr(r.BlockHash)
	if err != nil {
		return anchor.Ref{}, fmt.Errorf("the anchor's block hash %q cannot be read", r.BlockHash)
	}
	return anchor.Ref{Seq: uint64(r.Seq), ID: [32]byte(id), Txid: *txid, Height: r.Height, BlockHash: *bh}, nil
}

// warnf prints a warning: something a holder must know that is not a
// failure of the document.
func (r *runner) warnf(format string, args ...any) {
	fmt.Fprintf(r.out, "WARNING: "+format+"\n", args...)
}
