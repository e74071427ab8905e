// Package amount holds the overflow-checked arithmetic on base-unit amounts
// that payments and its deposits share.
package amount

import (
	"fmt"

	"github.com/kosh-reserve/kosh/ledger"
)

// Add adds two non-negative amounts, refusing overflow.
func Add(a, b int64) (int64, error) {
	if a < 0 || b < 0 || a > (1<<63-1)-b {
		return 0, fmt.Errorf("%w: %d + %d overflows", ledger.ErrOverflow, a, b)
	}
	return a + b, nil
}

// Mul multiplies two non-negative amounts, refusing overflow.
func Mul(a, b int64) (int64, error) {
	if a < 0 || b < 0 || (a != 0 && b > (1<<63-1)/a) {
		return 0, fmt.Errorf("%w: %d * %d overflows", ledger.ErrOverflow, a, b)
	}
	return a * b, nil
}
