package sig_test

import (
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/sig"
	"github.com/kosh-reserve/kosh/proofs/taghash"
)

func Example() {
	secret := sha256.Sum256([]byte("example only"))
	priv, _ := btcec.PrivKeyFromBytes(secret[:])

	canonical, _ := jcs.Canonicalize([]byte(`{"total": "100", "asset": "SAT"}`))
	digest := sig.Digest(taghash.TagAttestation, canonical)
	signature, err := sig.Sign(priv, digest)
	if err != nil {
		fmt.Println(err)
		return
	}

	// A verifier holds the published key and signature as hex.
	key, _ := sig.ParseKey(sig.EncodeKey(sig.XOnly(priv.PubKey())))
	s, _ := sig.ParseSignature(sig.EncodeSignature(signature))
	fmt.Println(sig.Verify(key, digest, s))

	tampered, _ := jcs.Canonicalize([]byte(`{"total": "99", "asset": "SAT"}`))
	err = sig.Verify(key, sig.Digest(taghash.TagAttestation, tampered), s)
	fmt.Println(err != nil)
	// Output:
	// <nil>
	// true
}

func ExampleVerifyNodeMessage() {
	err := sig.VerifyNodeMessage(
		[]byte("I am the author of `ln-types` Rust crate."),
		"dhwz1uc4pjrgodh5tiojxjsa7hqi36qhr9gzpgwgmdmjeyyhnkhp41pxfxfywjga6tpdsxg8o9aroaddrx4njqieb7xqcbm3o8tn15ap",
		"029ef8ee0ba895e2807ac1df1987a7888116c468e70f42e7b089e06811b0e45482",
	)
	fmt.Println(err)
	// Output:
	// <nil>
}
