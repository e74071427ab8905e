package payout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/kosh-reserve/kosh/payments/lndperm"
	"github.com/kosh-reserve/kosh/payments/payrecord"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc/status"
)

// labelPrefix labels on-chain payout transactions in lnd's wallet.
const labelPrefix = "kosh-redemption:"

// findLabeled looks for the wallet transaction labelled for a redemption.
func (p *Payer) findLabeled(ctx context.Context, id string) (*lnrpc.Transaction, error) {
	res, err := p.ln.GetTransactions(ctx, &lnrpc.GetTransactionsRequest{StartHeight: 0, EndHeight: -1})
	if err != nil {
		return nil, fmt.Errorf("%w: list wallet transactions: %w", lndperm.ErrUnavailable, err)
	}
	for _, t := range res.Transactions {
		if t.Label == labelPrefix+id {
			return t, nil
		}
	}
	return nil, nil
}

// sendOnchain pays an on-chain redemption, unless lnd's wallet already
// holds a transaction labelled with its id (a crash after sending).
func (p *Payer) sendOnchain(ctx context.Context, r payrecord.Redemption) (Result, error) {
	if t, err := p.findLabeled(ctx, r.ID); err != nil {
		return Result{}, err
	} else if t != nil {
		p.cfg.Log.Info("payout transaction already in lnd's wallet; following it", "redemption", r.ID, "txid", t.TxHash)
		return Result{Status: InFlight, TxID: t.TxHash}, nil
	}
	res, err := p.ln.SendCoins(ctx, &lnrpc.SendCoinsRequest{Addr: r.Address, Amount: r.Amount,
		SatPerVbyte: uint64(r.SatPerVbyte), Label: labelPrefix + r.ID, MinConfs: 1})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		t, lerr := p.findLabeled(ctx, r.ID)
		if lerr != nil {
			return Result{}, errors.Join(err, lerr)
		}
		if t != nil {
			return Result{Status: InFlight, TxID: t.TxHash}, nil
		}
		if lndperm.Unreachable(err) {
			return Result{}, fmt.Errorf("%w: send coins: %w", lndperm.ErrUnavailable, err)
		}
		return Result{Status: Failed, Failure: "lnd refused the payout: " + status.Convert(err).Message()}, nil
	}
	return Result{Status: InFlight, TxID: res.Txid, Sent: true}, nil
}

// confirmOnchain reports an on-chain payout paid once its transaction has a
// confirmation.
func (p *Payer) confirmOnchain(ctx context.Context, r payrecord.Redemption) (Result, error) {
	t, err := p.findLabeled(ctx, r.ID)
	if err != nil {
		return Result{}, err
	}
	if t == nil {
		p.cfg.Repeats.Log(slog.LevelWarn, "payout:"+r.ID, "missing", "on-chain payout not in lnd's wallet any more; still waiting",
			"redemption", r.ID, "txid", r.TxID)
		return Result{Status: InFlight}, nil
	}
	p.cfg.Repeats.Clear("payout:"+r.ID, "on-chain payout back in lnd's wallet", "redemption", r.ID, "txid", t.TxHash)
	if t.NumConfirmations < 1 {
		return Result{Status: InFlight}, nil
	}
	return Result{Status: Paid, TxID: t.TxHash, FeePaid: t.TotalFees}, nil
}
