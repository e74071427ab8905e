package sig

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/tv42/zbase32"
)

// Public vector from the ln-types Rust crate (NodePubkey::verify_lightning_message
// doc test): a signature by node 029ef8ee… in the lnd/Eclair format.
const (
	lnTypesNode = "029ef8ee0ba895e2807ac1df1987a7888116c468e70f42e7b089e06811b0e45482"
	lnTypesMsg  = "I am the author of `ln-types` Rust crate."
	lnTypesSig  = "1f29794d9a6a48680f9b8d6097a6d8ef1d5cf9dc27cd769a8658d694001c12b8dd49af2bca0a24d8f45a3b3cc787f048606323f424baa80f5ee6057981e2296f0d"
	// The same signature in zbase32, as lnd's SignMessage would print it.
	lnTypesZbase = "dhwz1uc4pjrgodh5tiojxjsa7hqi36qhr9gzpgwgmdmjeyyhnkhp41pxfxfywjga6tpdsxg8o9aroaddrx4njqieb7xqcbm3o8tn15ap"
)

func TestNodeMessagePublicVector(t *testing.T) {
	raw, _ := hex.DecodeString(lnTypesSig)
	if got := zbase32.EncodeToString(raw); got != lnTypesZbase {
		t.Fatalf("zbase32 = %s, want %s", got, lnTypesZbase)
	}
	if err := VerifyNodeMessage([]byte(lnTypesMsg), lnTypesZbase, lnTypesNode); err != nil {
		t.Fatal(err)
	}
}

// TestZbase32CoreLightning checks the zbase32 codec against Core Lightning's
// signmessage documentation example, which prints a signature both as hex
// (with its recovery id) and as lnd-compatible zbase32.
func TestZbase32CoreLightning(t *testing.T) {
	const (
		hexSig = "ddd47bc1398327e98775b27cc575fce1df2464c382549eacebc7233c1cbc4b430f8ee4d654719a1bc281f51b030ba9fa8bf95032c26abfe6e56bb282a9065332"
		recid  = 1
		zbase  = "rdq7e66b8gb1x4c8qs383tmi9uo76jdraqbfj8ic7xd1gxyhztfwgdhqhumfehc4dxbed7e5ycf4u6wm9fedfoukz9uqk471okwocw31"
	)
	raw, _ := hex.DecodeString(hexSig)
	compact := append([]byte{31 + recid}, raw...)
	if got := zbase32.EncodeToString(compact); got != zbase {
		t.Fatalf("zbase32 = %s, want %s", got, zbase)
	}
	dec, err := zbase32.DecodeString(zbase)
	if err != nil || hex.EncodeToString(dec) != hex.EncodeToString(compact) {
		t.Fatalf("DecodeString = %x, %v", dec, err)
	}
	// It is a well-formed recoverable signature over its message.
	if _, err := RecoverNodeKey([]byte("MyMessageToSign"), zbase); err != nil {
		t.Fatal(err)
	}
}

func TestNodeMessageDigest(t *testing.T) {
	msg := []byte("hello")
	first := sha256.Sum256([]byte("Lightning Signed Message:hello"))
	want := sha256.Sum256(first[:])
	if got := NodeMessageDigest(msg); got != want {
		t.Fatalf("NodeMessageDigest = %x, want %x", got, want)
	}
}

func TestVerifyNodeMessage(t *testing.T) {
	secret := sha256.Sum256([]byte("kosh node test key"))
	node, _ := btcec.PrivKeyFromBytes(secret[:])
	nodeHex := hex.EncodeToString(node.PubKey().SerializeCompressed())
	otherSecret := sha256.Sum256([]byte("kosh other node"))
	other, _ := btcec.PrivKeyFromBytes(otherSecret[:])
	otherHex := hex.EncodeToString(other.PubKey().SerializeCompressed())

	msg := []byte(`{"issuer_key":"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}`)
	good, err := SignNodeMessage(node, msg)
	if err != nil {
		t.Fatal(err)
	}
	byOther, _ := SignNodeMessage(other, msg)
	raw, _ := zbase32.DecodeString(good)
	withHeader := func(h byte) string {
		b := append([]byte(nil), raw...)
		b[0] = h
		return zbase32.EncodeToString(b)
	}
	uncompressedHeader := withHeader(raw[0] - 4) // same point, "uncompressed" flag

	tests := []struct {
		name    string
		msg     []byte
		sig     string
		node    string
		wantErr error  // errors.Is target, if any
		wantMsg string // prefix of the error; "" means valid
	}{
		{"valid", msg, good, nodeHex, nil, ""},
		{"valid with uncompressed-key header", msg, uncompressedHeader, nodeHex, nil, ""},
		{"signed by another node", msg, byOther, nodeHex, ErrWrongNode,
			"node signature was made by " + otherHex + ", not by the listed node " + nodeHex},
		{"listed node differs", msg, good, otherHex, ErrWrongNode,
			"node signature was made by " + nodeHex + ", not by the listed node " + otherHex},
		{"tampered message", append([]byte("x"), msg...), good, nodeHex, ErrWrongNode, "node signature was made by "},
		{"not zbase32", msg, "0OlI" + good[4:], nodeHex, nil, "node signature \"0OlI"},
		{"too short", msg, good[:100], nodeHex, nil, "node signature"},
		{"empty", msg, "", nodeHex, nil, "node signature \"\" decodes to 0 bytes instead of 65"},
		{"bad header byte", msg, withHeader(0x10), nodeHex, nil, "node signature"},
		{"node key upper case", msg, good, strings.ToUpper(nodeHex), nil, "node key"},
		{"node key x-only", msg, good, nodeHex[2:], nil, "node key"},
		{"node key not on curve", msg, good, "02eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34", nil,
			"node key 02eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34 is not a valid compressed secp256k1 public key"},
		{"node key uncompressed prefix", msg, good, "04" + nodeHex[2:], nil, "node key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyNodeMessage(tt.msg, tt.sig, tt.node)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("VerifyNodeMessage: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("VerifyNodeMessage accepted an invalid signature")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v is not %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && errors.Is(err, ErrWrongNode) {
				t.Fatalf("malformed input reported as a wrong node: %v", err)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not start with %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q spans lines", err)
			}
		})
	}
	var wn *WrongNodeError
	if err := VerifyNodeMessage(msg, byOther, nodeHex); !errors.As(err, &wn) || wn.Signer != otherHex || wn.Listed != nodeHex {
		t.Fatalf("errors.As WrongNodeError: %v %+v", err, wn)
	}
	if _, err := SignNodeMessage(nil, msg); err == nil {
		t.Fatal("SignNodeMessage(nil) succeeded")
	}
}
