package sig_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/lightningnetwork/lnd/keychain"
	"github.com/tv42/zbase32"
)

// lndSignMessage reproduces lnd's rpcServer.SignMessage (rpcserver.go,
// lnd v0.21.3-beta) around lnd's own node signer: prefix the message, sign
// it compactly over its double SHA-256 with keychain.PrivKeyMessageSigner
// (the signer behind netann.NodeSigner), zbase32-encode.
func lndSignMessage(t *testing.T, priv *btcec.PrivateKey, msg []byte) string {
	t.Helper()
	signer := keychain.NewPrivKeyMessageSigner(priv, keychain.KeyLocator{Family: keychain.KeyFamilyNodeKey})
	in := append([]byte("Lightning Signed Message:"), msg...)
	compact, err := signer.SignMessageCompact(in, true)
	if err != nil {
		t.Fatal(err)
	}
	return zbase32.EncodeToString(compact)
}

// TestAgainstLndSigner checks that signatures made by lnd's code verify here
// and that SignNodeMessage produces the same bytes as lnd.
func TestAgainstLndSigner(t *testing.T) {
	msgs := [][]byte{
		nil,
		[]byte("kosh"),
		[]byte(`{"attestation":"00","node":"02"}`),
		make([]byte, 4096),
		[]byte("ünïcödé \x00 bytes"),
	}
	for i := range 8 {
		secret := sha256.Sum256([]byte{byte(i)})
		priv, _ := btcec.PrivKeyFromBytes(secret[:])
		node := hex.EncodeToString(priv.PubKey().SerializeCompressed())
		for _, msg := range msgs {
			lndSig := lndSignMessage(t, priv, msg)
			if err := sig.VerifyNodeMessage(msg, lndSig, node); err != nil {
				t.Fatalf("lnd signature by %s over %q: %v", node, msg, err)
			}
			ours, err := sig.SignNodeMessage(priv, msg)
			if err != nil {
				t.Fatal(err)
			}
			if ours != lndSig {
				t.Fatalf("SignNodeMessage = %s, lnd = %s", ours, lndSig)
			}
		}
	}
}
