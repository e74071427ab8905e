package descriptor

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

// TestChildPubMatchesHDKeychain checks the cached CKDpub against btcd's
// hdkeychain for random keys, paths and indexes.
func TestChildPubMatchesHDKeychain(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 20; i++ {
		seed := make([]byte, 32)
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		xpub, err := master.Neuter()
		if err != nil {
			t.Fatal(err)
		}
		branch := rng.Uint32N(hardened)
		d, err := Parse(AddChecksum("wpkh("+xpub.String()+"/"+strconv.FormatUint(uint64(branch), 10)+"/*)"), &chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		parent, err := xpub.Derive(branch)
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range []uint32{0, 1, 2, rng.Uint32N(hardened), hardened - 1} {
			got, err := d.keys[0].pubKey(idx)
			if err != nil {
				t.Fatal(err)
			}
			child, err := parent.Derive(idx)
			if err != nil {
				t.Fatal(err)
			}
			want, err := child.ECPubKey()
			if err != nil {
				t.Fatal(err)
			}
			if !got.IsEqual(want) {
				t.Fatalf("key %d branch %d index %d: got %x, want %x", i, branch, idx,
					got.SerializeCompressed(), want.SerializeCompressed())
			}
		}
	}
}
