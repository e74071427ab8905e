package proving_test

import (
	"github.com/btcsuite/btcd/btcutil"
	"github.com/kosh-reserve/kosh/proofs/control"
)

type control_Challenge = control.Challenge

func hash160(b []byte) []byte { return btcutil.Hash160(b) }
