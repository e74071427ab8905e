package deposits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/payments/internal/amount"
	"github.com/kosh-reserve/kosh/payments/payrecord"
)

// scanOnchain credits on-chain deposit outputs that reached MinConf in the
// chain watcher's stored best chain, and flags credited outputs that a
// reorganisation removed from it. The watcher deletes the outputs of
// disconnected blocks in the same transaction that rolls its tip back, so
// an output reorged out before MinConf is never seen here with MinConf
// confirmations, and is never credited.
func (s *Service) scanOnchain(ctx context.Context) error {
	var (
		tip      payrecord.Block
		deposits []payrecord.Deposit
		credited []payrecord.Output
		reorged  []payrecord.Output
	)
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		if tip, err = tx.ChainTip(ctx); err != nil {
			return err
		}
		for _, st := range []string{Open, Credited} {
			ds, err := tx.DepositsInState(ctx, payrecord.MethodOnchain, st)
			if err != nil {
				return err
			}
			deposits = append(deposits, ds...)
		}
		if credited, err = tx.DepositOutputsInState(ctx, OutputCredited); err != nil {
			return err
		}
		reorged, err = tx.DepositOutputsInState(ctx, OutputReorged)
		return err
	})
	if errors.Is(err, payrecord.ErrNotFound) {
		return nil // the watcher has not stored a block yet
	}
	if err != nil {
		return err
	}
	// Outputs appear, confirm and disappear only with a new tip: rescan
	// then, while a credit waits for the coverage gate, and now and then.
	if tip.Hash == s.scanTip && !s.scanWaiting && time.Since(s.scanAt) < rescanEvery {
		return nil
	}
	waiting := false
	for _, d := range deposits {
		w, err := s.creditOutputs(ctx, tip, d)
		if err != nil {
			return err
		}
		waiting = waiting || w
	}

	// Credited outputs that left the stored best chain: flag them.
	for _, o := range credited {
		_, err := s.watchedOutput(ctx, o.TxID, o.Vout)
		if errors.Is(err, payrecord.ErrNotFound) {
			err = s.db.Write(ctx, func(tx payrecord.Tx) error {
				return tx.SetDepositOutputState(ctx, o.TxID, o.Vout, OutputReorged, s.now())
			})
			if err != nil {
				return err
			}
			s.reorged.Add(1)
			s.log.Error("CREDITED DEPOSIT REORGANISED OUT OF THE CHAIN: tokens exist that this output no longer backs; see ListFlaggedDeposits",
				"deposit", o.DepositID, "outpoint", fmt.Sprintf("%s:%d", o.TxID, o.Vout), "amount", o.Amount,
				"credited_height", o.Height, "tip", tip.Height)
			continue
		}
		if err != nil {
			return err
		}
	}
	// A flagged output that is back in the best chain with enough
	// confirmations is unflagged (its credit was never undone).
	for _, o := range reorged {
		u, err := s.watchedOutput(ctx, o.TxID, o.Vout)
		if errors.Is(err, payrecord.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if tip.Height-u.Height+1 >= s.cfg.MinConf {
			err = s.db.Write(ctx, func(tx payrecord.Tx) error {
				return tx.SetDepositOutputState(ctx, o.TxID, o.Vout, OutputCredited, 0)
			})
			if err != nil {
				return err
			}
			s.log.Warn("reorged deposit output is confirmed again; flag cleared", "deposit", o.DepositID,
				"outpoint", fmt.Sprintf("%s:%d", o.TxID, o.Vout), "height", u.Height)
		}
	}
	var n int64
	err = s.db.Read(ctx, func(tx payrecord.Tx) error {
		rs, err := tx.DepositOutputsInState(ctx, OutputReorged)
		n = int64(len(rs))
		return err
	})
	if err == nil {
		s.flagged.Store(n)
		s.scanTip, s.scanAt, s.scanWaiting = tip.Hash, time.Now(), waiting
		s.scanHeight.Store(tip.Height)
	}
	return err
}

func (s *Service) watchedOutput(ctx context.Context, txid string, vout uint32) (payrecord.WatchedOutput, error) {
	var u payrecord.WatchedOutput
	err := s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		u, err = tx.WatchedOutput(ctx, txid, vout)
		return err
	})
	return u, err
}

// creditOutputs mints each output paying d's address that has MinConf
// confirmations and is not yet credited. The mint comes first, keyed by the
// outpoint; a crash before the output row is written is repaired by the
// next pass, whose mint replays. waiting is true if a credit waits for the
// coverage gate.
func (s *Service) creditOutputs(ctx context.Context, tip payrecord.Block, d payrecord.Deposit) (waiting bool, err error) {
	var (
		outs []payrecord.WatchedOutput
		have []payrecord.Output
	)
	err = s.db.Read(ctx, func(tx payrecord.Tx) error {
		var err error
		if outs, err = tx.WatchedOutputsAt(ctx, d.Descriptor, d.Index); err != nil {
			return err
		}
		have, err = tx.DepositOutputs(ctx, d.ID)
		return err
	})
	if err != nil {
		return false, err
	}
	known := map[string]bool{}
	for _, o := range have {
		known[fmt.Sprintf("%s:%d", o.TxID, o.Vout)] = true
	}
	for _, u := range outs {
		op := fmt.Sprintf("%s:%d", u.TxID, u.Vout)
		if known[op] || tip.Height-u.Height+1 < s.cfg.MinConf {
			continue
		}
		e, err := s.ledger.Mint(ctx, ledger.Transfer{Scope: s.deps.Scope, IdempotencyKey: "chain:" + op, Asset: d.Asset,
			To: d.AccountID, Amount: u.Value, Memo: "on-chain deposit " + d.ID})
		if errors.Is(err, ledger.ErrMintRefused) {
			s.repeats.Log(slog.LevelInfo, "credit:"+op, "gate", "on-chain deposit credit waits for the reserves to count it",
				"deposit", d.ID, "outpoint", op, "reason", err)
			waiting = true
			continue
		}
		if err != nil {
			return waiting, fmt.Errorf("credit %s to deposit %s: %w", op, d.ID, err)
		}
		s.repeats.Clear("credit:"+op, "")
		if err := s.deps.Fault("deposit:after-mint"); err != nil {
			return waiting, err
		}
		err = s.db.Write(ctx, func(tx payrecord.Tx) error {
			if err := tx.InsertDepositOutput(ctx, payrecord.Output{TxID: u.TxID, Vout: u.Vout, DepositID: d.ID,
				Amount: u.Value, Height: u.Height, State: OutputCredited, CreditedAt: s.now()}); err != nil {
				return err
			}
			cur, err := tx.Deposit(ctx, d.ID)
			if err != nil {
				return err
			}
			total, err := amount.Add(cur.Credited, u.Value)
			if err != nil {
				return err
			}
			return tx.SetDepositState(ctx, d.ID, cur.State, Credited, total, s.now())
		})
		if err != nil {
			return waiting, err
		}
		s.credited.Add(1)
		s.log.Info("on-chain deposit credited", "deposit", d.ID, "account", d.AccountID, "asset", d.Asset,
			"outpoint", op, "amount", u.Value, "height", u.Height, "entry", e.Seq, "replayed", e.Replayed)
	}
	return waiting, nil
}
