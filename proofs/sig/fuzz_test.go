package sig

import (
	"encoding/hex"
	"testing"
)

// FuzzVerifyNodeMessage feeds arbitrary signatures and node keys to the node
// signature decoder: it must never panic, and whenever it accepts, the key it
// recovers must be the listed node's.
func FuzzVerifyNodeMessage(f *testing.F) {
	f.Add([]byte(lnTypesMsg), lnTypesZbase, lnTypesNode)
	f.Add([]byte("x"), "yyyy", "02")
	f.Add([]byte{}, "", "")
	f.Fuzz(func(t *testing.T, msg []byte, zsig, node string) {
		if err := VerifyNodeMessage(msg, zsig, node); err != nil {
			return
		}
		pub, err := RecoverNodeKey(msg, zsig)
		if err != nil {
			t.Fatalf("accepted, but RecoverNodeKey fails: %v", err)
		}
		if got := hex.EncodeToString(pub.SerializeCompressed()); got != node {
			t.Fatalf("accepted a signature by %s for node %s", got, node)
		}
	})
}

// FuzzParse checks the hex decoders of keys and signatures never panic and
// round-trip what they accept.
func FuzzParse(f *testing.F) {
	f.Add("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseKey(s); err == nil && EncodeKey(k) != s {
			t.Fatalf("ParseKey(%q) does not round-trip", s)
		}
		if sg, err := ParseSignature(s); err == nil && EncodeSignature(sg) != s {
			t.Fatalf("ParseSignature(%q) does not round-trip", s)
		}
	})
}
