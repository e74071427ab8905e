package money_test

import (
	"fmt"

	"github.com/kosh-reserve/kosh/money"
)

// Converting at a price, always rounding against the issuer.
func ExampleSatsToUnits() {
	price, _ := money.ParsePrice("6543210.12") // INR per BTC
	// Reserves of 50 sats are worth 327.160506 paise: valued down.
	paise, _ := money.SatsToUnits(50, price, 2, money.Floor)
	// A liability of 100 paise (1 rupee) needs 15.28... sats: rounded up.
	sats, _ := money.UnitsToSats(100, price, 2, money.Ceil)
	fmt.Println(paise, sats)
	// Output: 327 16
}
