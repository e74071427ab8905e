package reserve

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// ErrNoProofs means proofs of control are not kept (no chain source).
var ErrNoProofs = errors.New("proofs of control need a chain source (--chain.backend): they commit to its blocks")

// ExportProof builds the proof PSBT over the watched on-chain outputs at
// outpoints, or, with none given, over every one without a good proof at
// the chain watcher's tip or whose proof is half way to its age (all: every
// one). It commits to the issuer and the tip.
func (s *Service) ExportProof(outpoints []string, all bool) (*psbt.Packet, control.Challenge, []proving.Output, error) {
	if s.watcher == nil || s.cfg.Proofs == nil {
		return nil, control.Challenge{}, nil, ErrNoProofs
	}
	snap, _ := s.Details()
	if snap.Hash == "" {
		return nil, control.Challenge{}, nil, fmt.Errorf("%w: the chain watcher has not synced a block yet", ErrNoProofs)
	}
	ch := control.Challenge{IssuerKey: s.cfg.Proofs.IssuerKey(), Height: snap.Height, Hash: snap.Hash}
	want := map[string]bool{}
	for _, op := range outpoints {
		want[op] = true
	}
	var outs []proving.Output
	for _, u := range snap.UTXOs {
		op := u.OutPoint.String()
		switch {
		case len(outpoints) > 0:
			if !want[op] {
				continue
			}
			delete(want, op)
		case !all:
			st := s.cfg.Proofs.Status(op, snap.Height)
			if st.Counts && snap.Height-st.Proof.Challenge.Height <= s.cfg.Proofs.MaxAge()/2 {
				continue
			}
		}
		outs = append(outs, s.proofOutput(u.OutPoint, u.Value, u.PkScript, u.Descriptor, u.Index))
	}
	for op := range want {
		return nil, ch, nil, fmt.Errorf("%w: %s is not an output the chain watcher watches", proving.ErrRefused, op)
	}
	if len(outs) == 0 {
		return nil, ch, nil, fmt.Errorf("%w: every watched output has a good proof of control (ask for all, or name outpoints)", proving.ErrRefused)
	}
	p, err := proving.Unsigned(ch, outs)
	return p, ch, outs, err
}

func (s *Service) proofOutput(op wire.OutPoint, value int64, script []byte, desc string, index int64) proving.Output {
	o := proving.Output{OutPoint: op, Value: value, PkScript: script}
	if d := s.watcher.Descriptor(desc); d != nil && index >= 0 && index < 1<<31 {
		o.Descriptor, o.Index = d, uint32(index)
	}
	return o
}

// Watched looks up an output the sources watch as reserves: the chain
// watcher's, or an lnd node's wallet output.
func (s *Service) Watched(outpoint string) (proving.Output, bool) {
	snap, reps := s.Details()
	for _, u := range snap.UTXOs {
		if u.OutPoint.String() == outpoint {
			return s.proofOutput(u.OutPoint, u.Value, u.PkScript, u.Descriptor, u.Index), true
		}
	}
	for _, r := range reps {
		for _, w := range r.Wallet {
			if w.Outpoint != outpoint || len(w.PkScript) == 0 {
				continue
			}
			op, err := wire.NewOutPointFromString(outpoint)
			if err != nil {
				return proving.Output{}, false
			}
			return proving.Output{OutPoint: *op, Value: w.Value, PkScript: w.PkScript}, true
		}
	}
	return proving.Output{}, false
}

// ImportProof checks and stores a signed proof (its copies, one per
// cosigner).
func (s *Service) ImportProof(ctx context.Context, packets []*psbt.Packet) (proving.ImportResult, error) {
	if s.watcher == nil || s.cfg.Proofs == nil {
		return proving.ImportResult{}, ErrNoProofs
	}
	return s.cfg.Proofs.Import(ctx, packets, s.Watched, "import")
}

// Proofs returns the proof book (nil without a chain source).
func (s *Service) Proofs() *proving.Book { return s.cfg.Proofs }
