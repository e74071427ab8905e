package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/kosh-reserve/kosh/deploy/regtest/demo/demoinfo"
	"github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/reserve/proving"
)

// wallet is the reserve wallet koshd watches: a fresh HD seed whose
// extended public key goes into wpkh(tpub.../0/*). Its private keys never
// leave <run>/wallet.json; koshd gets only the descriptor.
type wallet struct {
	Seed       string                `json:"seed_hex"`
	Xprv       string                `json:"tprv"`
	Xpub       string                `json:"tpub"`
	Descriptor string                `json:"descriptor"`
	Funded     []demoinfo.FundedAddr `json:"funded"`

	master *hdkeychain.ExtendedKey
	params *chaincfg.Params
}

func newWallet(params *chaincfg.Params) (*wallet, error) {
	seed := make([]byte, hdkeychain.RecommendedSeedLen)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	master, err := hdkeychain.NewMaster(seed, params)
	if err != nil {
		return nil, fmt.Errorf("hd master key: %w", err)
	}
	pub, err := master.Neuter()
	if err != nil {
		return nil, err
	}
	return &wallet{
		Seed:       hex.EncodeToString(seed),
		Xprv:       master.String(),
		Xpub:       pub.String(),
		Descriptor: descriptor.AddChecksum(fmt.Sprintf("wpkh(%s/0/*)", pub.String())),
		master:     master,
		params:     params,
	}, nil
}

// address derives the P2WPKH address at 0/index from the private key,
// independently of koshd's descriptor code.
func (w *wallet) address(index uint32) (string, error) {
	branch, err := w.master.Derive(0)
	if err != nil {
		return "", err
	}
	k, err := branch.Derive(index)
	if err != nil {
		return "", err
	}
	pub, err := k.ECPubKey()
	if err != nil {
		return "", err
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), w.params)
	if err != nil {
		return "", err
	}
	return addr.EncodeAddress(), nil
}

func (w *wallet) save(path string) error { return writeJSON(path, w) }

func (w *wallet) walletInfo(file string) demoinfo.Wallet {
	return demoinfo.Wallet{Descriptor: w.Descriptor, File: file, Funded: w.Funded}
}

// signPSBT signs a proof PSBT (base64) with the wallet's master key, from
// the PSBT's own derivation fields, as a hardware wallet would.
func (w *wallet) signPSBT(b64 string) (string, error) {
	p, err := proving.DecodePSBT([]byte(b64))
	if err != nil {
		return "", err
	}
	n, err := controltest.SignPSBT(p, txscript.SigHashAll, w.master)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", fmt.Errorf("the wallet holds none of the keys the PSBT asks for")
	}
	return proving.Encode(p)
}
