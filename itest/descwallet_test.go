package itest

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/itest/harness"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// descWallet is a test's own HD key whose xpub koshd watches through a
// descriptor; the test derives addresses and signs spends itself, so
// koshd's derivation is checked against keys it never saw.
type descWallet struct {
	t      testing.TB
	h      *harness.Harness
	master *hdkeychain.ExtendedKey
	xpub   string
}

func newDescWallet(t testing.TB, h *harness.Harness) *descWallet {
	t.Helper()
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		t.Fatal(err)
	}
	master, err := hdkeychain.NewMaster(seed, h.Params())
	if err != nil {
		t.Fatal(err)
	}
	pub, err := master.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	return &descWallet{t: t, h: h, master: master, xpub: pub.String()}
}

// descriptor returns "<kind>(xpub/<branch>/*)#checksum", e.g. kind "wpkh".
func (w *descWallet) descriptor(kind string, branch uint32) string {
	return descriptor.AddChecksum(fmt.Sprintf("%s(%s/%d/*)", kind, w.xpub, branch))
}

// key derives the private key at branch/index.
func (w *descWallet) key(branch, index uint32) *hdkeychain.ExtendedKey {
	w.t.Helper()
	b, err := w.master.Derive(branch)
	if err != nil {
		w.t.Fatal(err)
	}
	k, err := b.Derive(index)
	if err != nil {
		w.t.Fatal(err)
	}
	return k
}

// p2wpkh returns the P2WPKH address at branch/index, derived here from the
// private key, independently of koshd's descriptor code.
func (w *descWallet) p2wpkh(branch, index uint32) string {
	w.t.Helper()
	pub, err := w.key(branch, index).ECPubKey()
	if err != nil {
		w.t.Fatal(err)
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), w.h.Params())
	if err != nil {
		w.t.Fatal(err)
	}
	return addr.EncodeAddress()
}

// p2tr returns the BIP-86 key-path taproot address at branch/index.
func (w *descWallet) p2tr(branch, index uint32) string {
	w.t.Helper()
	pub, err := w.key(branch, index).ECPubKey()
	if err != nil {
		w.t.Fatal(err)
	}
	out := txscript.ComputeTaprootKeyNoScript(pub)
	addr, err := btcutil.NewAddressTaproot(out.SerializeCompressed()[1:], w.h.Params())
	if err != nil {
		w.t.Fatal(err)
	}
	return addr.EncodeAddress()
}

// spendP2WPKH spends the output op (value sats, paying the P2WPKH key at
// branch/index) to addr, minus a fee of 1,000 sats, signed here, and
// broadcasts it. It returns the spending txid.
func (w *descWallet) spendP2WPKH(op wire.OutPoint, value int64, branch, index uint32, addr string) *chainhash.Hash {
	w.t.Helper()
	priv, err := w.key(branch, index).ECPrivKey()
	if err != nil {
		w.t.Fatal(err)
	}
	from, err := btcutil.DecodeAddress(w.p2wpkh(branch, index), w.h.Params())
	if err != nil {
		w.t.Fatal(err)
	}
	pkScript, err := txscript.PayToAddrScript(from)
	if err != nil {
		w.t.Fatal(err)
	}
	to, err := btcutil.DecodeAddress(addr, w.h.Params())
	if err != nil {
		w.t.Fatal(err)
	}
	toScript, err := txscript.PayToAddrScript(to)
	if err != nil {
		w.t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(value-1000, toScript))
	fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, value)
	wit, err := txscript.WitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, value, pkScript,
		txscript.SigHashAll, priv, true)
	if err != nil {
		w.t.Fatal(err)
	}
	tx.TxIn[0].Witness = wit
	txid, err := w.h.Client().SendRawTransaction(tx, false)
	if err != nil {
		w.t.Fatalf("broadcast spend of %s: %v", op, err)
	}
	return txid
}
