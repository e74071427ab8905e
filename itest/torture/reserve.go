package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// reserveValue is what the run's reserve output holds: far more than every
// mint of a run needs.
const reserveValue = 50 * btcutil.SatoshiPerBitcoin

// reserveWallet is the run's reserve: one P2WPKH output of a key the run
// holds, watched by koshd through its descriptor and, since reserves count
// only with a proof of control, proven by signing what koshd exports. This
// is a test chain, not a deployment.
type reserveWallet struct {
	master *hdkeychain.ExtendedKey
	desc   string // wpkh(<xpub>/0/*)#checksum
}

// newReserveWallet derives the wallet from a fixed seed.
func newReserveWallet(params *chaincfg.Params) (*reserveWallet, error) {
	seed := sha256.Sum256([]byte("kosh torture reserve wallet"))
	master, err := hdkeychain.NewMaster(seed[:], params)
	if err != nil {
		return nil, fmt.Errorf("reserve wallet: %w", err)
	}
	pub, err := master.Neuter()
	if err != nil {
		return nil, fmt.Errorf("reserve wallet: %w", err)
	}
	return &reserveWallet{master: master, desc: descriptor.AddChecksum(fmt.Sprintf("wpkh(%s/0/*)", pub))}, nil
}

// fund pays reserveValue to the wallet's first address and mines a block.
func (w *reserveWallet) fund(ctx context.Context, h *harness.Harness) error {
	k, err := w.master.Derive(0)
	if err == nil {
		k, err = k.Derive(0)
	}
	if err != nil {
		return fmt.Errorf("derive the reserve key: %w", err)
	}
	pub, err := k.ECPubKey()
	if err != nil {
		return fmt.Errorf("derive the reserve key: %w", err)
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), h.Params())
	if err != nil {
		return fmt.Errorf("reserve address: %w", err)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return fmt.Errorf("reserve address: %w", err)
	}
	if _, err := h.SendOutputsContext(ctx, []*wire.TxOut{wire.NewTxOut(reserveValue, script)}); err != nil {
		return fmt.Errorf("fund the reserve: %w", err)
	}
	if _, err := h.MineContext(ctx, 1); err != nil {
		return fmt.Errorf("confirm the reserve: %w", err)
	}
	return nil
}

// prove exports the proof PSBT for the outputs koshd has found unproven
// (waiting until it has found some), signs it with the wallet's key and
// imports it.
func (w *reserveWallet) prove(ctx context.Context, issuer koshv1.IssuerServiceClient) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		exp, err := issuer.ExportControlProof(cctx, &koshv1.ExportControlProofRequest{})
		cancel()
		if err == nil && len(exp.GetOutpoints()) > 0 {
			p, err := proving.DecodePSBT([]byte(exp.Psbt))
			if err != nil {
				return fmt.Errorf("exported proof: %w", err)
			}
			if n, err := controltest.SignPSBT(p, txscript.SigHashAll, w.master); err != nil || n == 0 {
				return fmt.Errorf("sign the proof (%d inputs signed): %w", n, err)
			}
			signed, err := proving.Encode(p)
			if err != nil {
				return fmt.Errorf("encode the signed proof: %w", err)
			}
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			if _, err := issuer.ImportControlProof(cctx, &koshv1.ImportControlProofRequest{Psbts: []string{signed}}); err != nil {
				return fmt.Errorf("import the proof: %w", err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("no output to prove")
			}
			return fmt.Errorf("export a proof of control %s after start: %w", readyTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
