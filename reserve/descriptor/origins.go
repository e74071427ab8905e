package descriptor

import (
	"encoding/binary"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
)

// DerivedKey is one key of a descriptor at a child index, with what a PSBT
// signer needs to find its private key (BIP-174 PSBT_IN_BIP32_DERIVATION,
// BIP-371 PSBT_IN_TAP_BIP32_DERIVATION).
type DerivedKey struct {
	// PubKey is the child public key.
	PubKey *btcec.PublicKey
	// Fingerprint is the master key fingerprint, as BIP-174 stores it (the
	// four bytes read little-endian): the key origin's, or, without an
	// origin, the extended (or plain) key's own, so a signer restored from
	// that key matches it.
	Fingerprint uint32
	// Path is the derivation path from that master key to PubKey.
	Path []uint32
}

// Keys returns the descriptor's keys at child index (none for addr()), in
// the order they are written.
func (d *Descriptor) Keys(index uint32) ([]DerivedKey, error) {
	out := make([]DerivedKey, 0, len(d.keys))
	for _, k := range d.keys {
		pub, err := k.pubKey(index)
		if err != nil {
			return nil, err
		}
		dk := DerivedKey{PubKey: pub}
		var fp [4]byte
		switch {
		case k.origin != nil:
			fp = k.origin.fingerprint
			dk.Path = append(dk.Path, k.origin.path...)
		case k.ext != nil:
			epub, err := k.ext.ECPubKey()
			if err != nil {
				return nil, err
			}
			copy(fp[:], btcutil.Hash160(epub.SerializeCompressed())[:4])
		default:
			copy(fp[:], btcutil.Hash160(pub.SerializeCompressed())[:4])
		}
		if k.ext != nil {
			dk.Path = append(dk.Path, k.path...)
			if k.ranged {
				dk.Path = append(dk.Path, index)
			}
		}
		dk.Fingerprint = binary.LittleEndian.Uint32(fp[:])
		out = append(out, dk)
	}
	return out, nil
}
