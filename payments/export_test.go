package payments

import "github.com/kosh-reserve/kosh/payments/deposits"

// cursorSettleIndex is the store cursor of the invoice settle index, which
// the tests read (it moved to package deposits).
const cursorSettleIndex = deposits.CursorSettleIndex
