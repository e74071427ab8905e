// Package crash holds the error the payments service and its deposits
// return after a fault hook simulated a crash (docs/payments.md), so that
// both stop at the same sentinel.
package crash

import "errors"

// Err is returned after a fault hook simulated a crash.
var Err = errors.New("payments: simulated crash")
