package attest

import (
	"math/big"
	"time"

	"github.com/kosh-reserve/kosh/proofs/field"
)

// Amount is a non-negative amount in base units, a canonical decimal string
// in JSON (proofs/field).
type Amount = field.Amount

// BigInt is a non-negative integer of any size, a canonical decimal string
// in JSON (proofs/field).
type BigInt = field.BigInt

// NewBigInt returns a BigInt holding v.
func NewBigInt(v *big.Int) BigInt { return field.NewBigInt(v) }

// ParseTime parses a time in TimeLayout; see proofs/field.
func ParseTime(s string) (time.Time, error) { return field.ParseTime(s) }
