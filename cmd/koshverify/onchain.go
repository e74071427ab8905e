package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/cmd/koshverify/nodeclient"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/kosh-reserve/kosh/proofs/attest"
)

// chainClient is what the on-chain and anchor checks ask of btcd or
// bitcoind (a *nodeclient.Client).
type chainClient interface {
	anchor.TipNode
	// TxOuts is gettxout (without the mempool) for many outputs: one
	// result per outpoint, nil for an output not in the UTXO set.
	TxOuts(ctx context.Context, ops []wire.OutPoint) ([]*btcjson.GetTxOutResult, error)
	Close()
}

// dial connects to btcd (a websocket, TLS with its rpc.cert) or bitcoind
// (HTTP POST, connections kept alive).
func dial(ctx context.Context, nf nodeFlags) (chainClient, error) {
	cfg := nodeclient.Config{User: nf.user, Pass: nf.pass, Btcd: nf.btcd, Bitcoind: nf.bitcoind}
	host := nf.bitcoind
	if nf.btcd != "" {
		if nf.cert == "" {
			return nil, usageError{"--btcd needs --rpccert (btcd's rpc.cert)"}
		}
		cert, err := os.ReadFile(nf.cert)
		if err != nil {
			return nil, fmt.Errorf("cannot read the btcd certificate %s: %w", nf.cert, err)
		}
		cfg.Cert, host = cert, nf.btcd
	}
	c, err := nodeclient.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the node at %s: %w", host, err)
	}
	return c, nil
}

// outputClaim is one output the attestation says existed unspent at its
// block: a reserve UTXO or a channel funding output.
type outputClaim struct {
	what     string // "on-chain output" or "channel point"
	outpoint wire.OutPoint
	text     string
	value    int64
	script   string // hex scriptPubKey the attestation states ("" for a channel point or version 1)
	conf     int64
	created  int64 // height of the block that created it, from conf
}

// checkOnChain checks the attestation against the user's node:
//
//  1. the attested block is in the node's best chain at the attested height;
//  2. for every output (UTXO or channel point) with c confirmations at the
//     attested height H, it was created at height H−c+1 of that chain and
//     holds the stated value: from gettxout at the tip (value, and
//     confirmations equal to tip−(H−c+1)+1) when it is still unspent;
//     otherwise from the block at H−c+1 itself;
//  3. it was unspent at block H: certain when gettxout still finds it at
//     the tip; otherwise the blocks H+1..tip are scanned for the spending
//     transaction, which must be found (up to maxScan blocks).
func (r *runner) checkOnChain(a *attest.Attestation, c chainClient, maxScan int64) {
	before := r.failures
	h, err := c.BlockHash(r.ctx, a.Block.Height)
	if err != nil {
		r.fail(fmt.Sprintf("your node cannot give the block at the attested height %d: %v", a.Block.Height, err))
		return
	}
	if h.String() != a.Block.Hash {
		r.fail(fmt.Sprintf("the attested block %s is not in your node's best chain, which has %s at height %d", a.Block.Hash, h, a.Block.Height))
		return
	}
	tip, err := c.BestHeight(r.ctx)
	if err != nil {
		r.fail(fmt.Sprintf("your node cannot give its block count: %v", err))
		return
	}

	var claims []outputClaim
	add := func(what, op string, value, conf int64, script string) {
		txid, vout, _ := strings.Cut(op, ":")
		hash, err := chainhash.NewHashFromStr(txid)
		n, err2 := strconv.ParseUint(vout, 10, 32)
		if err != nil || err2 != nil {
			r.fail(fmt.Sprintf("%s %s is not a valid outpoint", what, op))
			return
		}
		claims = append(claims, outputClaim{what: what, outpoint: wire.OutPoint{Hash: *hash, Index: uint32(n)},
			text: op, value: value, script: script, conf: conf, created: a.Block.Height - conf + 1})
	}
	for _, u := range a.Reserves.Onchain {
		add("on-chain output", u.Outpoint, int64(u.Value), u.Confirmations, u.Script)
	}
	for _, n := range a.Reserves.Lightning {
		for _, ch := range n.Channels {
			if ch.Confirmations == 0 {
				if ch.Counted > 0 {
					// Nothing on-chain backs a claim on an unconfirmed funding output.
					r.fail(fmt.Sprintf("channel %s counts %d sats although its funding output was unconfirmed at the attested block", ch.ChannelPoint, ch.Counted))
					continue
				}
				r.notef("channel point %s was unconfirmed at the attested block and is not checked on-chain", ch.ChannelPoint)
				continue
			}
			add("channel point", ch.ChannelPoint, int64(ch.Capacity), ch.Confirmations, "")
		}
	}

	ops := make([]wire.OutPoint, len(claims))
	for i, cl := range claims {
		ops[i] = cl.outpoint
	}
	results, err := c.TxOuts(r.ctx, ops)
	if err != nil {
		r.fail(fmt.Sprintf("your node cannot look up the %d outputs and channel points: %v", len(claims), err))
		return
	}
	tipHash, err := c.BlockHash(r.ctx, tip)
	if err != nil {
		r.fail(fmt.Sprintf("your node cannot give its tip block %d: %v", tip, err))
		return
	}
	var spent []outputClaim // not in the UTXO set at the tip
	for i, cl := range claims {
		res := results[i]
		if res == nil {
			spent = append(spent, cl)
			continue
		}
		sats, err := btcutil.NewAmount(res.Value)
		if err != nil || int64(sats) != cl.value {
			r.fail(fmt.Sprintf("%s %s holds %d sats on-chain, not the %d sats attested", cl.what, cl.text, int64(sats), cl.value))
		}
		if cl.script != "" && res.ScriptPubKey.Hex != cl.script {
			r.fail(fmt.Sprintf("%s %s has script %s on-chain, not the %s attested (and proven)", cl.what, cl.text, res.ScriptPubKey.Hex, cl.script))
		}
		bestHeight := tip
		if bh, err := chainhash.NewHashFromStr(res.BestBlock); err == nil && *bh != *tipHash {
			// A block arrived in between: ask again for the height (and
			// remember the new tip for the outputs after this one).
			if t2, err := c.BestHeight(r.ctx); err == nil {
				if th, err := c.BlockHash(r.ctx, t2); err == nil && *th == *bh {
					bestHeight, tip, tipHash = t2, t2, th
				} else {
					bestHeight = t2
				}
			}
		}
		if created := bestHeight - res.Confirmations + 1; created != cl.created {
			r.fail(fmt.Sprintf("%s %s was created at height %d of your node's best chain, not at height %d as its %d confirmations at the attested block say",
				cl.what, cl.text, created, cl.created, cl.conf))
		}
	}

	if len(spent) > 0 {
		r.warnMoved(a, r.checkSpent(a, c, spent, tip, maxScan), tip)
	}
	// Each proof of control commits to a block of the best chain.
	for i, p := range a.Reserves.Proofs {
		h, err := c.BlockHash(r.ctx, p.Block.Height)
		switch {
		case err != nil:
			r.fail(fmt.Sprintf("your node cannot give block %d, the challenge of proof %d: %v", p.Block.Height, i, err))
		case h.String() != p.Block.Hash:
			r.fail(fmt.Sprintf("proof %d commits to block %s at height %d, but your node's best chain has %s there: the proof proves nothing",
				i, p.Block.Hash, p.Block.Height, h))
		}
	}
	if r.failures == before {
		r.okf("%d outputs and channel points existed unspent at block %d %s with the attested values, per your node (tip %d)", len(claims), a.Block.Height, a.Block.Hash, tip)
		if a.Version >= 2 {
			r.okf("every output's script is the one on the chain, and the %d proofs' challenge blocks are in your node's best chain", len(a.Reserves.Proofs))
		}
	}
}

// warnMoved says loudly how much of the listed reserves was spent after
// the attested block, by the tip of the holder's node: the attestation
// still shows it (on-chain outputs moved, channels closed).
func (r *runner) warnMoved(a *attest.Attestation, later []outputClaim, tip int64) {
	var outs, chans, sats, capacity int64
	for _, cl := range later {
		if cl.what == "channel point" {
			chans++
			capacity += cl.value
		} else {
			outs++
			sats += cl.value
		}
	}
	if outs > 0 {
		fmt.Fprintf(r.out, "WARNING: Moved since the attested block %d: %d sats in %s, spent by your node's tip %d; the attestation still counts them as reserves.\n",
			a.Block.Height, sats, plural(outs, "output", "outputs"), tip)
	}
	if chans > 0 {
		fmt.Fprintf(r.out, "WARNING: Closed since the attested block %d: %s (%d sats of capacity), funding outputs spent by your node's tip %d.\n",
			a.Block.Height, plural(chans, "channel", "channels"), capacity, tip)
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// checkSpent handles outputs no longer unspent at the tip: each must be in
// the block that created it, with the attested value, and be spent by a
// block after the attested one. It returns those found spent after the
// attested block.
func (r *runner) checkSpent(a *attest.Attestation, c chainClient, spent []outputClaim, tip, maxScan int64) []outputClaim {
	var pending []outputClaim
	for _, cl := range spent {
		if cl.created < 0 || cl.created > a.Block.Height {
			r.fail(fmt.Sprintf("%s %s claims %d confirmations, impossible at height %d", cl.what, cl.text, cl.conf, a.Block.Height))
			continue
		}
		blk, err := blockAt(r.ctx, c, cl.created)
		if err != nil {
			r.fail(fmt.Sprintf("your node cannot give block %d to check %s %s: %v", cl.created, cl.what, cl.text, err))
			continue
		}
		found := false
		for _, tx := range blk.Transactions {
			if tx.TxHash() != cl.outpoint.Hash {
				continue
			}
			found = true
			if int(cl.outpoint.Index) >= len(tx.TxOut) {
				r.fail(fmt.Sprintf("%s %s does not exist: its transaction has only %d outputs", cl.what, cl.text, len(tx.TxOut)))
			} else if v := tx.TxOut[cl.outpoint.Index].Value; v != cl.value {
				r.fail(fmt.Sprintf("%s %s holds %d sats on-chain, not the %d sats attested", cl.what, cl.text, v, cl.value))
			} else if pk := hex.EncodeToString(tx.TxOut[cl.outpoint.Index].PkScript); cl.script != "" && pk != cl.script {
				r.fail(fmt.Sprintf("%s %s has script %s on-chain, not the %s attested (and proven)", cl.what, cl.text, pk, cl.script))
			} else {
				pending = append(pending, cl)
			}
		}
		if !found {
			r.fail(fmt.Sprintf("%s %s is not unspent at your node's tip and its transaction is not in block %d, where its %d confirmations at the attested block put it",
				cl.what, cl.text, cl.created, cl.conf))
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if tip-a.Block.Height > maxScan {
		for _, cl := range pending {
			r.fail(fmt.Sprintf("%s %s has been spent since it was created; checking that the spend came after the attested block needs a scan of %d blocks, more than --maxscan %d",
				cl.what, cl.text, tip-a.Block.Height, maxScan))
		}
		return nil
	}
	var later []outputClaim
	want := map[wire.OutPoint]*outputClaim{}
	for i := range pending {
		want[pending[i].outpoint] = &pending[i]
	}
	for h := a.Block.Height + 1; h <= tip && len(want) > 0; h++ {
		blk, err := blockAt(r.ctx, c, h)
		if err != nil {
			r.fail(fmt.Sprintf("your node cannot give block %d to look for spends: %v", h, err))
			return later
		}
		for _, tx := range blk.Transactions {
			for _, in := range tx.TxIn {
				if cl, ok := want[in.PreviousOutPoint]; ok {
					r.notef("%s %s was spent later, in block %d; it was unspent at the attested block", cl.what, cl.text, h)
					later = append(later, *cl)
					delete(want, in.PreviousOutPoint)
				}
			}
		}
	}
	for _, cl := range want {
		r.fail(fmt.Sprintf("%s %s was already spent at the attested block %d", cl.what, cl.text, a.Block.Height))
	}
	return later
}

func blockAt(ctx context.Context, c chainClient, height int64) (*wire.MsgBlock, error) {
	h, err := c.BlockHash(ctx, height)
	if err != nil {
		return nil, err
	}
	return c.Block(ctx, h)
}
