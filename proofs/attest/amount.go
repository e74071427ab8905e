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

// CoverageBps is a coverage in basis points, a canonical decimal string of
// at most 111 digits in JSON (proofs/field).
type CoverageBps = field.CoverageBps

// NewCoverageBps returns a CoverageBps holding v.
func NewCoverageBps(v *big.Int) CoverageBps { return field.NewCoverageBps(v) }

// ParseTime parses a time in TimeLayout; see proofs/field.
func ParseTime(s string) (time.Time, error) { return field.ParseTime(s) }
