package attest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

func addVectorSeeds(f *testing.F) {
	for _, dir := range []string{"chain", "chain-issuer", "invalid"} {
		names, _ := filepath.Glob(filepath.Join(vectorDir, dir, "*.json"))
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil {
				f.Add(b)
			}
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts re-encodes to the
// same bytes and hashes.
func FuzzParse(f *testing.F) {
	addVectorSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := attest.Parse(b)
		if err != nil {
			return
		}
		again, err := a.Marshal()
		if err != nil {
			t.Fatalf("accepted document does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted document re-encodes differently")
		}
		if _, err := a.Hash(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzVerify checks, for arbitrary bytes b, that VerifyDocument never
// panics and that every failure it reports is one sentence of a known kind;
// and, for a document that verifies:
//   - its bytes are their own RFC 8785 canonical form and what Marshal gives;
//   - the issuer's signature verifies, by btcec's BIP-340 directly, over
//     TaggedHash("kosh/attestation", canonical bytes without "signature"),
//     computed here with crypto/sha256 from the document's JSON (docs/proofs.md
//     4.7), and that digest is the document's id;
//   - changing the byte at pos to x (or, if it already is x, to x^1) makes
//     it fail: every byte is covered by the signature.
func FuzzVerify(f *testing.F) {
	for i, b := range vectorSeeds(f) {
		for _, pos := range []uint16{0, 1, uint16(37 * i), uint16(len(b) / 2), uint16(len(b) - 10)} {
			f.Add(b, pos, byte('1'))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, pos uint16, x byte) {
		a, err := verify.Document(b)
		if err != nil {
			checkClassified(t, err)
			return
		}
		if c, err := jcs.Canonicalize(b); err != nil || !bytes.Equal(c, b) {
			t.Fatalf("a verified document is not canonical (%v)", err)
		}
		again, err := a.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("a verified document re-encodes differently (%v)", err)
		}
		id, err := a.Hash()
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		sigHex, _ := doc["signature"].(string)
		keyHex, _ := doc["issuer_key"].(string)
		delete(doc, "signature")
		unsigned, err := jcs.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		digest := taggedHash("kosh/attestation", unsigned)
		if digest != id {
			t.Fatalf("id %x, but TaggedHash of the unsigned bytes is %x", id, digest)
		}
		if !schnorrVerifies(keyHex, sigHex, digest) {
			t.Fatalf("VerifyDocument accepted a document whose signature does not cover its bytes")
		}
		i := int(pos) % len(b)
		changed := bytes.Clone(b)
		if changed[i] == x {
			x ^= 1
		}
		changed[i] = x
		if _, err := verify.Document(changed); err == nil {
			t.Fatalf("byte %d changed from %q to %q and the document still verifies", i, b[i], x)
		} else {
			checkClassified(t, err)
		}
	})
}

// vectorSeeds returns the committed documents: the chain and the tampered
// ones.
func vectorSeeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, dir := range []string{"chain", "chain-issuer", "invalid"} {
		names, _ := filepath.Glob(filepath.Join(vectorDir, dir, "*.json"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) < 3 {
		f.Fatalf("only %d vector documents found", len(out))
	}
	return out
}

// knownKinds are the sentinels a verification failure may carry.
var knownKinds = []error{attest.ErrMalformed, attest.ErrNotCanonical, attest.ErrSignature, attest.ErrSum, attest.ErrCoverage, attest.ErrOverflow, attest.ErrChain,
	attest.ErrInclusion, attest.ErrReceiptConflict, attest.ErrReceiptNotApplicable, attest.ErrControl}

// checkClassified fails unless err is an *Error or Problems whose every
// failure has a known kind and a sentence.
func checkClassified(t *testing.T, err error) {
	t.Helper()
	var list []*attest.Error
	switch e := err.(type) {
	case attest.Problems:
		list = e
	case *attest.Error:
		list = []*attest.Error{e}
	default:
		t.Fatalf("failure %q (%T) is neither *Error nor Problems", err, err)
	}
	if len(list) == 0 {
		t.Fatal("an empty Problems returned as an error")
	}
	for _, e := range list {
		if e.Msg == "" {
			t.Fatalf("failure of kind %v without a sentence", e.Kind)
		}
		if !slices.ContainsFunc(knownKinds, func(k error) bool { return e.Kind == k }) {
			t.Fatalf("failure %q has unknown kind %v", e.Msg, e.Kind)
		}
	}
}

// taggedHash is BIP-340's TaggedHash, written here with crypto/sha256 so
// that the fuzz properties do not lean on package taghash.
func taggedHash(tag string, msg ...[]byte) [32]byte {
	th := sha256.Sum256([]byte(tag))
	h := sha256.New()
	h.Write(th[:])
	h.Write(th[:])
	for _, m := range msg {
		h.Write(m)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// schnorrVerifies checks a BIP-340 signature with btcec directly (not
// through package sig).
func schnorrVerifies(keyHex, sigHex string, digest [32]byte) bool {
	kb, err := hex.DecodeString(keyHex)
	if err != nil || keyHex != strings.ToLower(keyHex) {
		return false
	}
	sb, err := hex.DecodeString(sigHex)
	if err != nil || sigHex != strings.ToLower(sigHex) {
		return false
	}
	key, err := schnorr.ParsePubKey(kb)
	if err != nil {
		return false
	}
	sg, err := schnorr.ParseSignature(sb)
	if err != nil {
		return false
	}
	return sg.Verify(digest[:], key)
}

// FuzzBundle: bundle parsing and verification against a fixed attestation
// never panic, and a bundle that verifies is the holder's own.
func FuzzBundle(f *testing.F) {
	for _, n := range []string{"bundle.json"} {
		if b, err := os.ReadFile(filepath.Join(vectorDir, n)); err == nil {
			f.Add(b)
		}
	}
	latest, err := os.ReadFile(filepath.Join(vectorDir, "latest.json"))
	if err != nil {
		f.Fatal(err)
	}
	a, err := attest.Parse(latest)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := attest.ParseBundle(b)
		if err != nil {
			return
		}
		if verify.Bundle(a, x) == nil {
			// Only real leaves verify: the account must be one of the
			// fixture's, at its balance.
			found := false
			for _, acct := range fixtureAccounts[x.Asset] {
				if acct.ID == x.Account && int64(acct.Balance) == int64(x.Balance) {
					found = true
				}
			}
			if !found {
				t.Fatalf("bundle for %s/%s with balance %d verifies", x.Asset, x.Account, x.Balance)
			}
		}
	})
}

// FuzzReceipt checks, for arbitrary bytes, that ParseReceipt and Verify
// never panic and classify every failure, and these properties of every
// receipt that parses:
//   - it re-marshals to exactly the parsed bytes;
//   - Verify accepts it only if its signature, checked by btcec directly,
//     covers the signed digest computed here from its JSON by docs/proofs.md
//     section 6 (TaggedHash("kosh/receipt", canonical bytes without
//     "signature" and "batch"); for version 2, the RFC 9162 root of that
//     digest and the batch path, bound to the batch size); and Verify never
//     blames the signature when it does cover that digest;
//   - signed again with a test key, it verifies if and only if its fields
//     are well-formed (a refusal is then ErrMalformed, never ErrSignature),
//     survives Marshal and ParseReceipt, and then fails after any single
//     change of a signed field, of the key or of the signature.
func FuzzReceipt(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join(vectorDir, "receipt*.json"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var v vectorFile
	vb, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(vb, &v); err != nil {
		f.Fatal(err)
	}
	for _, r := range v.Receipts {
		f.Add([]byte(r.Document))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := receipt.ParseReceipt(b)
		if err != nil {
			checkClassified(t, err)
			return
		}
		again, err := r.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("a parsed receipt re-marshals differently (%v)", err)
		}
		covered := receiptSignatureCovers(b)
		err = r.Verify("")
		if err == nil && !covered {
			t.Fatal("Verify accepted a receipt whose signature does not cover its signed digest")
		}
		if err != nil {
			checkClassified(t, err)
			if covered && errors.Is(err, attest.ErrSignature) {
				t.Fatalf("the signature covers the signed digest, but Verify says %q", err)
			}
		}

		// Sign it again with our key and break it one field at a time; and
		// the same as a version 2 receipt in a batch of one.
		checkResigned(t, cloneReceipt(r))
		one := cloneReceipt(r)
		one.Version, one.Batch = receipt.ReceiptVersion, nil
		if one.Nonce == "" {
			one.Nonce = strings.Repeat("5a", receipt.NonceSize)
		}
		checkResigned(t, one)
	})
}

// checkResigned signs c with a test key: it must then verify unless its
// fields are malformed, survive Marshal and ParseReceipt, carry a signature
// that covers the documented digest, and fail after any single change.
func checkResigned(t *testing.T, c *receipt.Receipt) {
	t.Helper()
	ours := attest.IssuerKeyOf(otherKey)
	if err := c.SignWithAux(otherKey, [32]byte{7}); err != nil {
		return // fields the canonical encoder refuses
	}
	if err := c.Verify(ours); err != nil {
		checkClassified(t, err)
		if !errors.Is(err, attest.ErrMalformed) {
			t.Fatalf("a freshly signed receipt fails with %q, not as malformed", err)
		}
		return
	}
	sb, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !receiptSignatureCovers(sb) {
		t.Fatalf("a freshly signed receipt's signature does not cover its signed digest: %s", sb)
	}
	p, err := receipt.ParseReceipt(sb)
	if err != nil || p.Verify(ours) != nil {
		t.Fatalf("a signed receipt does not survive Marshal and ParseReceipt: %v", err)
	}
	for _, ch := range receiptChanges(c) {
		d := cloneReceipt(c)
		ch.edit(d)
		if err := d.Verify(ours); err == nil {
			t.Fatalf("%s: the receipt still verifies", ch.name)
		} else {
			checkClassified(t, err)
		}
	}
}

func cloneReceipt(r *receipt.Receipt) *receipt.Receipt {
	c := *r
	if r.Batch != nil {
		b := *r.Batch
		b.Path = slices.Clone(r.Batch.Path)
		c.Batch = &b
	}
	return &c
}

// flipHex changes the hex digit at i of s to another hex digit.
func flipHex(s string, i int) string {
	if i >= len(s) {
		return s + "0"
	}
	b := []byte(s)
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}

type receiptChange struct {
	name string
	edit func(r *receipt.Receipt)
}

// receiptChanges are single changes of what a receipt's signature covers.
func receiptChanges(r *receipt.Receipt) []receiptChange {
	out := []receiptChange{
		{"balance", func(r *receipt.Receipt) { r.Balance ^= 1 }},
		{"seq", func(r *receipt.Receipt) { r.Seq ^= 1 }},
		{"account", func(r *receipt.Receipt) { r.Account += "x" }},
		{"asset", func(r *receipt.Receipt) { r.Asset += "X" }},
		{"time", func(r *receipt.Receipt) {
			tm, _ := time.Parse(attest.TimeLayout, r.Time)
			r.Time = tm.Add(time.Second).Format(attest.TimeLayout)
		}},
		{"issuer key", func(r *receipt.Receipt) { r.IssuerKey = attest.IssuerKeyOf(issuerKey) }},
		{"signature", func(r *receipt.Receipt) { r.Signature = flipHex(r.Signature, 17) }},
		{"version", func(r *receipt.Receipt) { r.Version = 3 - r.Version }},
	}
	if r.Version == receipt.ReceiptVersion {
		out = append(out,
			receiptChange{"nonce", func(r *receipt.Receipt) { r.Nonce = flipHex(r.Nonce, 3) }},
			receiptChange{"batch size", func(r *receipt.Receipt) { r.Batch.Size++ }},
			receiptChange{"batch index", func(r *receipt.Receipt) {
				if r.Batch.Index+1 < r.Batch.Size {
					r.Batch.Index++
				} else if r.Batch.Index > 0 {
					r.Batch.Index--
				} else {
					r.Batch.Index = r.Batch.Size // out of range
				}
			}},
			receiptChange{"batch path", func(r *receipt.Receipt) {
				if len(r.Batch.Path) == 0 {
					r.Batch.Path = []string{strings.Repeat("00", 32)}
				} else {
					r.Batch.Path[0] = flipHex(r.Batch.Path[0], 9)
				}
			}})
	}
	return out
}

// receiptSignatureCovers recomputes, from a receipt's JSON alone, the
// digest docs/proofs.md section 6 says the issuer signs, and checks the
// receipt's signature over it with btcec.
func receiptSignatureCovers(b []byte) bool {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return false
	}
	sigHex, _ := doc["signature"].(string)
	keyHex, _ := doc["issuer_key"].(string)
	batch, hasBatch := doc["batch"].(map[string]any)
	delete(doc, "signature")
	delete(doc, "batch")
	body, err := jcs.Marshal(doc)
	if err != nil {
		return false
	}
	digest := taggedHash("kosh/receipt", body)
	if hasBatch {
		index, ok1 := batch["index"].(float64)
		size, ok2 := batch["size"].(float64)
		path, ok3 := batch["path"].([]any)
		if !ok1 || !ok2 || !ok3 || size < 1 || size > receipt.MaxReceiptBatch || index < 0 || index >= size ||
			index != float64(int64(index)) || size != float64(int64(size)) {
			return false
		}
		fn, sn := uint64(index), uint64(size)-1
		root := digest
		for _, p := range path {
			ps, _ := p.(string)
			pb, err := hex.DecodeString(ps)
			if err != nil || len(pb) != 32 || ps != strings.ToLower(ps) || sn == 0 {
				return false
			}
			if fn&1 == 1 || fn == sn { // RFC 9162 section 2.1.3.2
				root = taggedHash("kosh/receipt-node", pb, root[:])
				for fn&1 == 0 && fn != 0 {
					fn, sn = fn>>1, sn>>1
				}
			} else {
				root = taggedHash("kosh/receipt-node", root[:], pb)
			}
			fn, sn = fn>>1, sn>>1
		}
		if sn != 0 {
			return false
		}
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(size))
		digest = taggedHash("kosh/receipt-batch", n[:], root[:])
	}
	return schnorrVerifies(keyHex, sigHex, digest)
}
