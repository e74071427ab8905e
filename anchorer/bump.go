package anchorer

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/anchor"
	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
)

// BumpPolicy is how an anchor stuck unconfirmed gets its fee raised: after
// After without confirming (and again every After), lnd's sweeper spends
// the anchor's change output in a child transaction paying SatPerVbyte,
// spending at most Budget sats in fees (child pays for parent). The seal
// is never spent to do it.
type BumpPolicy struct {
	After       time.Duration
	SatPerVbyte uint64
	Budget      int64
}

// changeOutput is the index of lnd's change output in an anchor: the
// first output after the seal.
const changeOutput = anchor.SealOutput + 1

// bump raises the fee of the published, unconfirmed anchor r when it has
// waited Bump.After since it was published or last bumped, and returns r
// with UpdatedAt moved to now.
func (a *Anchorer) bump(ctx context.Context, r Record, now int64) (Record, error) {
	p := a.cfg.Bump
	if p.After <= 0 || r.State != StatePublished || now-r.UpdatedAt < p.After.Milliseconds() {
		return r, nil
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(r.RawTx)); err != nil {
		return r, fmt.Errorf("decode anchor %d: %w", r.Seq, err)
	}
	if len(tx.TxOut) <= changeOutput {
		return r, fmt.Errorf("anchor %d has no change output to pay a child's fee from", r.Seq)
	}
	_, err := a.cfg.Wallet.BumpFee(ctx, &walletrpc.BumpFeeRequest{
		Outpoint:    &lnrpc.OutPoint{TxidStr: r.Txid, OutputIndex: changeOutput},
		SatPerVbyte: p.SatPerVbyte, Immediate: true, Budget: uint64(p.Budget)})
	if err != nil {
		return r, fmt.Errorf("lnd BumpFee of %s:%d: %w", r.Txid, changeOutput, err)
	}
	next := r
	next.UpdatedAt = now
	if err := a.cfg.Store.Move(ctx, r.Seq, StatePublished, next); err != nil {
		return r, err
	}
	a.cfg.Log.Info("anchor stuck unconfirmed: fee bumped by a child transaction", "anchor", r.Seq, "txid", r.Txid,
		"waited", time.Duration(now-r.UpdatedAt)*time.Millisecond, "sat_per_vbyte", p.SatPerVbyte, "budget", p.Budget)
	return next, nil
}
