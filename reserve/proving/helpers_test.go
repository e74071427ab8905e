package proving_test

import "github.com/btcsuite/btcd/btcutil"

func hash160(b []byte) []byte { return btcutil.Hash160(b) }
