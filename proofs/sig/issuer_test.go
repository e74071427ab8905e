package sig

import (
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// bip340Vectors reads the official BIP-340 test vectors, header row first.
func bip340Vectors(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open("../../testdata/bip340/test-vectors.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 16 || rows[0][0] != "index" {
		t.Fatalf("unexpected vector file: %d rows", len(rows))
	}
	return rows
}

// TestBIP340Vectors runs the official BIP-340 test vectors: every
// verification result must match, and every vector with a secret key must be
// reproduced byte for byte by SignWithAux with the vector's aux_rand.
func TestBIP340Vectors(t *testing.T) {
	rows := bip340Vectors(t)
	var signed, verified int
	for _, r := range rows[1:] {
		idx, secHex, pubHex, auxHex, msgHex, sigHex, result, comment := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
		t.Run(idx, func(t *testing.T) {
			var pub [32]byte
			var digest [32]byte
			var want [64]byte
			copy(pub[:], mustHex(t, pubHex))
			copy(digest[:], mustHex(t, msgHex))
			copy(want[:], mustHex(t, sigHex))

			err := Verify(pub, digest, want)
			if valid := result == "TRUE"; valid != (err == nil) {
				t.Fatalf("Verify = %v, want valid=%v (%s)", err, valid, comment)
			}
			verified++
			if secHex == "" {
				return
			}
			priv, _ := btcec.PrivKeyFromBytes(mustHex(t, secHex))
			if got := XOnly(priv.PubKey()); got != pub {
				t.Fatalf("XOnly = %x, want %x", got, pub)
			}
			var aux [32]byte
			copy(aux[:], mustHex(t, auxHex))
			got, err := SignWithAux(priv, digest, aux)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("SignWithAux = %X\nwant          %X", got, want)
			}
			signed++
		})
	}
	if verified != 15 || signed != 4 {
		t.Fatalf("verified %d and signed %d vectors, want 15 and 4", verified, signed)
	}
}

func TestDigestDomainSeparation(t *testing.T) {
	doc := []byte(`{"a":"1"}`)
	att := Digest(taghash.TagAttestation, doc)
	if att != taghash.Sum(taghash.TagAttestation, doc) {
		t.Fatal("Digest differs from taghash.Sum")
	}
	if att == Digest(taghash.TagReceipt, doc) {
		t.Fatal("attestation and receipt digests of the same bytes are equal")
	}
	if att == Digest(taghash.TagAttestation, []byte(`{"a":"2"}`)) {
		t.Fatal("different documents have the same digest")
	}
}

func TestSignVerify(t *testing.T) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := btcec.NewPrivateKey()
	pub := XOnly(priv.PubKey())
	digest := Digest(taghash.TagAttestation, []byte(`{"total":"100"}`))
	s, err := Sign(priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Sign(priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	if s == s2 {
		t.Error("two Sign calls gave the same signature: aux randomness not used")
	}
	flip := func(b [64]byte, i int) [64]byte { b[i] ^= 1; return b }
	otherDigest := digest
	otherDigest[31] ^= 0x80

	tests := []struct {
		name    string
		pub     [32]byte
		digest  [32]byte
		sig     [64]byte
		wantErr error // nil: valid
		wantMsg string
	}{
		{"valid", pub, digest, s, nil, ""},
		{"valid second", pub, digest, s2, nil, ""},
		{"other digest", pub, otherDigest, s, ErrBadSignature, "signature does not verify under issuer key " + EncodeKey(pub)},
		{"flipped r", pub, digest, flip(s, 0), ErrBadSignature, "signature does not verify under issuer key"},
		{"flipped s", pub, digest, flip(s, 63), ErrBadSignature, "signature does not verify under issuer key"},
		{"other key", XOnly(other.PubKey()), digest, s, ErrBadSignature, "signature does not verify under issuer key " + EncodeKey(XOnly(other.PubKey()))},
		{"zero signature", pub, digest, [64]byte{}, ErrBadSignature, "signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pub, tt.digest, tt.sig)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not start with %q", err, tt.wantMsg)
			}
		})
	}

	// A key that is not on the curve is a different failure.
	var bad [32]byte
	copy(bad[:], mustHex(t, "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"))
	if err := Verify(bad, digest, s); err == nil || errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify with off-curve key = %v", err)
	}
	if _, err := SignWithAux(nil, digest, [32]byte{}); err == nil {
		t.Fatal("SignWithAux(nil) succeeded")
	}
}

func TestParseKeyAndSignature(t *testing.T) {
	const g = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	keyTests := []struct {
		in string
		ok bool
	}{
		{g, true},
		{strings.ToUpper(g), false},
		{g[:62], false},
		{g + "00", false},
		{"02" + g, false},
		{"eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34", false}, // not on the curve
		{"fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30", false}, // ≥ p
		{strings.Repeat("zz", 32), false},
	}
	for _, tt := range keyTests {
		k, err := ParseKey(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseKey(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if tt.ok && EncodeKey(k) != tt.in {
			t.Errorf("EncodeKey(ParseKey(%q)) = %q", tt.in, EncodeKey(k))
		}
	}
	sig := strings.Repeat("ab", 64)
	sigTests := []struct {
		in string
		ok bool
	}{
		{sig, true},
		{strings.ToUpper(sig), false},
		{sig[:126], false},
		{sig + "ab", false},
		{"", false},
		{strings.Repeat("g", 128), false},
	}
	for _, tt := range sigTests {
		s, err := ParseSignature(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseSignature(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if tt.ok && EncodeSignature(s) != tt.in {
			t.Errorf("EncodeSignature(ParseSignature(%q)) = %q", tt.in, EncodeSignature(s))
		}
	}
}

// TestSigner: a Signer's signatures verify under its key, use fresh
// randomness, and fail for another digest.
func TestSigner(t *testing.T) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	s := NewSigner(priv)
	if s.Key() != EncodeKey(XOnly(priv.PubKey())) {
		t.Fatalf("signer key %s", s.Key())
	}
	d := Digest("kosh/receipt", []byte(`{"a":1}`))
	a, err := s.Sign(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sign(d)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two signatures of one digest are equal: no fresh randomness")
	}
	for _, sg := range [][SignatureSize]byte{a, b} {
		if err := Verify(XOnly(priv.PubKey()), d, sg); err != nil {
			t.Errorf("signature does not verify: %v", err)
		}
	}
	if err := Verify(XOnly(priv.PubKey()), Digest("kosh/receipt", []byte(`{"a":2}`)), a); err == nil {
		t.Error("a signature verified for another digest")
	}
}

// TestSignerMatchesBIP340: the Signer's own BIP-340 signing gives, for the
// same auxiliary randomness, exactly the signature of btcec's schnorr.Sign
// (SignWithAux), for the official vectors' keys and for random keys of
// both Y parities, and each verifies.
func TestSignerMatchesBIP340(t *testing.T) {
	rows := bip340Vectors(t)
	type tc struct {
		priv       *btcec.PrivateKey
		digest     [32]byte
		aux        [32]byte
		want       [64]byte
		fromVector bool
	}
	var cases []tc
	for _, r := range rows[1:] {
		if r[1] == "" {
			continue
		}
		var c tc
		c.priv, _ = btcec.PrivKeyFromBytes(mustHex(t, r[1]))
		copy(c.aux[:], mustHex(t, r[3]))
		copy(c.digest[:], mustHex(t, r[4]))
		copy(c.want[:], mustHex(t, r[5]))
		c.fromVector = true
		cases = append(cases, c)
	}
	odd, even := 0, 0
	for i := 0; i < 200; i++ {
		var c tc
		c.priv, _ = btcec.NewPrivateKey()
		rand.Read(c.digest[:])
		rand.Read(c.aux[:])
		if c.priv.PubKey().SerializeCompressed()[0] == 3 {
			odd++
		} else {
			even++
		}
		cases = append(cases, c)
	}
	if odd == 0 || even == 0 {
		t.Fatalf("random keys of one parity only (%d odd, %d even)", odd, even)
	}
	for i, c := range cases {
		want := c.want
		if !c.fromVector {
			var err error
			if want, err = SignWithAux(c.priv, c.digest, c.aux); err != nil {
				t.Fatal(err)
			}
		}
		got, err := NewSigner(c.priv).signAux(c.digest, c.aux)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("case %d: Signer gives %x, want %x", i, got, want)
		}
		if err := Verify(XOnly(c.priv.PubKey()), c.digest, got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

// BenchmarkSigner compares the Signer with schnorr.Sign (SignWithAux) in
// the same run.
func BenchmarkSigner(b *testing.B) {
	priv, _ := btcec.NewPrivateKey()
	s := NewSigner(priv)
	var d, aux [32]byte
	b.Run("Signer", func(b *testing.B) {
		for b.Loop() {
			d[0]++
			if _, err := s.signAux(d, aux); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("schnorr.Sign", func(b *testing.B) {
		for b.Loop() {
			d[0]++
			if _, err := SignWithAux(priv, d, aux); err != nil {
				b.Fatal(err)
			}
		}
	})
}
