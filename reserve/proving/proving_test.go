package proving_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
	ct "github.com/kosh-reserve/kosh/proofs/control/controltest"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/kosh-reserve/kosh/store"
	"github.com/kosh-reserve/kosh/store/chaindb"
	"github.com/kosh-reserve/kosh/store/provingdb"
	"github.com/kosh-reserve/kosh/store/storetest"
)

var issuer = strings.Repeat("ab", 32)

// master returns a test master key from a label.
func master(t *testing.T, label string) *hdkeychain.ExtendedKey {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	m, err := hdkeychain.NewMaster(seed[:], &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func xpub(t *testing.T, m *hdkeychain.ExtendedKey) string {
	t.Helper()
	p, err := m.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

// env is a book over a store whose chain watcher has seen blocks 1..tip,
// and reserve outputs of three descriptors: wpkh (alice), tr (alice) and
// wsh(sortedmulti(2, a, b, c)).
type env struct {
	book            *proving.Book
	db              *store.DB
	tip             int64
	alice, a, b, c  *hdkeychain.ExtendedKey
	outs            map[string]proving.Output
	wpkh, tr, multi proving.Output
}

func blockHash(h int64) string {
	s := sha256.Sum256([]byte(fmt.Sprintf("block %d", h)))
	return fmt.Sprintf("%x", s)
}

func newEnv(t *testing.T, backend store.Backend) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{db: storetest.Open(t, backend), tip: 300, outs: map[string]proving.Output{},
		alice: master(t, "alice"), a: master(t, "a"), b: master(t, "b"), c: master(t, "c")}
	err := chaindb.New(e.db).Write(ctx, func(tx chain.StoreTx) error {
		for h := int64(1); h <= e.tip; h++ {
			if err := tx.InsertChainBlock(ctx, chain.StoredBlock{Height: h, Hash: blockHash(h)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.book, err = proving.New(ctx, proving.Config{DB: provingdb.New(e.db), IssuerKey: issuer, MaxAge: 100}); err != nil {
		t.Fatal(err)
	}
	out := func(desc string, idx uint32, value int64, label string) proving.Output {
		d, err := descriptor.Parse(descriptor.AddChecksum(desc), &chaincfg.RegressionNetParams)
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.Script(idx)
		if err != nil {
			t.Fatal(err)
		}
		o := proving.Output{OutPoint: wire.OutPoint{Hash: chainhash.Hash(sha256.Sum256([]byte(label))), Index: 1}, Value: value,
			PkScript: s, Descriptor: d, Index: idx}
		e.outs[o.OutPoint.String()] = o
		return o
	}
	e.wpkh = out(fmt.Sprintf("wpkh(%s/0/*)", xpub(t, e.alice)), 3, 50_000, "wpkh")
	e.tr = out(fmt.Sprintf("tr(%s/1/*)", xpub(t, e.alice)), 0, 70_000, "tr")
	e.multi = out(fmt.Sprintf("wsh(sortedmulti(2,%s/0/*,%s/0/*,%s/0/*))", xpub(t, e.a), xpub(t, e.b), xpub(t, e.c)), 7, 1_000_000, "multi")
	return e
}

func (e *env) watched(op string) (proving.Output, bool) { o, ok := e.outs[op]; return o, ok }

func (e *env) challenge(height int64) control.Challenge {
	return control.Challenge{IssuerKey: issuer, Height: height, Hash: blockHash(height)}
}

// export builds the PSBT at block height over outs.
func (e *env) export(t *testing.T, height int64, outs ...proving.Output) *psbt.Packet {
	t.Helper()
	p, err := proving.Unsigned(e.challenge(height), outs)
	if err != nil {
		t.Fatal(err)
	}
	// Through base64 and back, as an operator's signer gets it.
	b64, err := proving.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := proving.DecodePSBT([]byte(b64))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func sign(t *testing.T, p *psbt.Packet, keys ...*hdkeychain.ExtendedKey) *psbt.Packet {
	t.Helper()
	if _, err := ct.SignPSBT(p, txscript.SigHashAll, keys...); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportAndCount: a PSBT exported over a wpkh, a tr and a 2-of-3 wsh
// output, signed by a PSBT signer from its fields alone (two cosigners
// signing separate copies), is imported; each output then counts from the
// challenge block for MaxAge blocks, not before, not after.
func TestImportAndCount(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			e := newEnv(t, backend)
			at := int64(290)
			p := e.export(t, at, e.wpkh, e.tr, e.multi)
			first := sign(t, p, e.alice, e.a)
			second := sign(t, e.export(t, at, e.wpkh, e.tr, e.multi), e.c)
			res, err := e.book.Import(context.Background(), []*psbt.Packet{first, second}, e.watched, "import")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Outputs) != 3 {
				t.Fatalf("proven %v", res.Outputs)
			}
			for _, o := range []proving.Output{e.wpkh, e.tr, e.multi} {
				op := o.OutPoint.String()
				if s := e.book.Status(op, at); !s.Counts {
					t.Errorf("%s at the challenge block: %+v", op, s)
				}
				if s := e.book.Status(op, at+100); !s.Counts {
					t.Errorf("%s at the last block of the proof age: %+v", op, s)
				}
				if s := e.book.Status(op, at+101); s.Counts || !strings.Contains(s.Why, "older than 100 blocks") {
					t.Errorf("%s past the proof age: %+v", op, s)
				}
				if s := e.book.Status(op, at-1); s.Counts || !strings.Contains(s.Why, "after block") {
					t.Errorf("%s before the challenge block: %+v", op, s)
				}
			}
			// A new book loads what was stored.
			again, err := proving.New(context.Background(), proving.Config{DB: provingdb.New(e.db), IssuerKey: issuer, MaxAge: 100})
			if err != nil {
				t.Fatal(err)
			}
			if s := again.Status(e.multi.OutPoint.String(), at); !s.Counts {
				t.Errorf("after reload: %+v", s)
			}
			// A reorganisation that replaces the challenge block: the
			// outputs stop counting, and count again when it is back.
			e.book.Refresh(func(h int64) string {
				if h == at {
					return strings.Repeat("00", 32)
				}
				return blockHash(h)
			})
			if s := e.book.Status(e.wpkh.OutPoint.String(), at); s.Counts || !strings.Contains(s.Why, "no longer in the best chain") {
				t.Errorf("after the challenge block was reorganised away: %+v", s)
			}
			e.book.Refresh(blockHash)
			if s := e.book.Status(e.wpkh.OutPoint.String(), at); !s.Counts {
				t.Errorf("after the block came back: %+v", s)
			}
		})
	}
}

// TestImportRefuses: each wrong, partial or foreign proof is refused,
// naming the output and why, and nothing is stored.
func TestImportRefuses(t *testing.T) {
	e := newEnv(t, store.SQLite)
	somebody := master(t, "somebody else")
	foreign := proving.Output{OutPoint: wire.OutPoint{Hash: chainhash.Hash(sha256.Sum256([]byte("miner"))), Index: 0}, Value: 5_000_000_000,
		PkScript: e.wpkh.PkScript}
	cases := []struct {
		name string
		psbt func() []*psbt.Packet
		want []string
	}{
		{"an output koshd does not watch", func() []*psbt.Packet {
			return []*psbt.Packet{sign(t, e.export(t, 290, e.wpkh, foreign), e.alice)}
		}, []string{foreign.OutPoint.String(), "not a reserve output koshd watches"}},
		{"signed by a key not in the descriptor", func() []*psbt.Packet {
			// A confused or malicious signer signs with its own key.
			p := e.export(t, 290, e.wpkh)
			k, _ := somebody.Derive(0)
			priv, _ := k.ECPrivKey()
			pub := priv.PubKey().SerializeCompressed()
			script, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).AddData(hash160(pub)).
				AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
			f := txscript.NewMultiPrevOutFetcher(nil)
			for i, in := range p.UnsignedTx.TxIn {
				f.AddPrevOut(in.PreviousOutPoint, p.Inputs[i].WitnessUtxo)
			}
			sig, err := txscript.RawTxInWitnessSignature(p.UnsignedTx, txscript.NewTxSigHashes(p.UnsignedTx, f), 1,
				e.wpkh.Value, script, txscript.SigHashAll, priv)
			if err != nil {
				t.Fatal(err)
			}
			p.Inputs[1].PartialSigs = append(p.Inputs[1].PartialSigs, &psbt.PartialSig{PubKey: pub, Signature: sig})
			return []*psbt.Packet{p}
		}, []string{e.wpkh.OutPoint.String(), "does not verify against its script", "signed by a key of this output's script"}},
		{"one signature of two", func() []*psbt.Packet {
			return []*psbt.Packet{sign(t, e.export(t, 290, e.multi), e.b)}
		}, []string{e.multi.OutPoint.String(), "has 1 of the 2 signatures its 2-of-3 multisig needs"}},
		{"not signed", func() []*psbt.Packet { return []*psbt.Packet{e.export(t, 290, e.wpkh)} },
			[]string{e.wpkh.OutPoint.String(), "is not signed"}},
		{"a challenge older than the proof age", func() []*psbt.Packet {
			return []*psbt.Packet{sign(t, e.export(t, e.tip-101, e.wpkh), e.alice)}
		}, []string{"commits to no challenge", "last 100 blocks"}},
		{"another issuer's challenge", func() []*psbt.Packet {
			p, err := proving.Unsigned(control.Challenge{IssuerKey: strings.Repeat("cd", 32), Height: 290, Hash: blockHash(290)}, []proving.Output{e.wpkh})
			if err != nil {
				t.Fatal(err)
			}
			return []*psbt.Packet{sign(t, p, e.alice)}
		}, []string{"commits to no challenge for this issuer"}},
		{"a block that is not in the chain", func() []*psbt.Packet {
			p, err := proving.Unsigned(control.Challenge{IssuerKey: issuer, Height: 290, Hash: strings.Repeat("11", 32)}, []proving.Output{e.wpkh})
			if err != nil {
				t.Fatal(err)
			}
			return []*psbt.Packet{sign(t, p, e.alice)}
		}, []string{"commits to no challenge"}},
		{"ANYONECANPAY", func() []*psbt.Packet {
			p := e.export(t, 290, e.wpkh)
			p.Inputs[1].SighashType = txscript.SigHashAll | txscript.SigHashAnyOneCanPay
			if _, err := ct.SignPSBT(p, txscript.SigHashAll|txscript.SigHashAnyOneCanPay, e.alice); err != nil {
				t.Fatal(err)
			}
			return []*psbt.Packet{p}
		}, []string{e.wpkh.OutPoint.String(), "does not commit to the challenge"}},
		{"copies of different exports", func() []*psbt.Packet {
			return []*psbt.Packet{sign(t, e.export(t, 290, e.multi), e.a), sign(t, e.export(t, 289, e.multi), e.b)}
		}, []string{"another transaction"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.book.Import(context.Background(), c.psbt(), e.watched, "import")
			if !errors.Is(err, proving.ErrRefused) {
				t.Fatalf("import: %v; want ErrRefused", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not contain %q", err, w)
				}
			}
		})
	}
	if got := e.book.Proven(); len(got) != 0 {
		t.Fatalf("refused imports stored proofs: %v", got)
	}
}
