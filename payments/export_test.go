package payments

import (
	"github.com/kosh-reserve/kosh/payments/deposits"
	"github.com/kosh-reserve/kosh/payments/lndperm"
)

// cursorSettleIndex is the store cursor of the invoice settle index, which
// the tests read (it moved to package deposits).
const cursorSettleIndex = deposits.CursorSettleIndex

// lndCall and lndCalls are the lnd calls the service makes, as the tests
// read them (they moved to package lndperm).
type lndCall struct {
	method string
	perms  []string
	use    string
}

var lndCalls = func() []lndCall {
	var out []lndCall
	for _, c := range lndperm.Calls() {
		out = append(out, lndCall{c.Method, c.Perms, c.Use})
	}
	return out
}()
