package policy

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/ledger"
)

// TestFor: an asset's own policy, else the default; the minimum is at
// least 1 either way.
func TestFor(t *testing.T) {
	per := map[string]Policy{"KSH": {Max: 50}}
	if p := For(per, Policy{Min: 5, Daily: 9}, "KSH"); p != (Policy{Min: 1, Max: 50}) {
		t.Errorf("KSH: %+v", p)
	}
	if p := For(per, Policy{Min: 5, Daily: 9}, "INR"); p != (Policy{Min: 5, Daily: 9}) {
		t.Errorf("INR: %+v", p)
	}
}

// TestCheckAmount: below the minimum is an invalid argument; above the
// maximum is a limit naming what fits.
func TestCheckAmount(t *testing.T) {
	p := Policy{Min: 10, Max: 100}
	if err := p.CheckAmount("a deposit", 9); !errors.Is(err, ledger.ErrInvalidArgument) {
		t.Errorf("9: %v", err)
	}
	if err := p.CheckAmount("a deposit", 101); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "ask for 100 sats or less") {
		t.Errorf("101: %v", err)
	}
	for _, a := range []int64{10, 100} {
		if err := p.CheckAmount("a deposit", a); err != nil {
			t.Errorf("%d: %v", a, err)
		}
	}
}

// TestCheckDaily: the sum plus the amount may reach the limit, not pass
// it, even where the sum would overflow; no limit refuses nothing.
func TestCheckDaily(t *testing.T) {
	p := Policy{Daily: 1_000}
	if err := p.CheckDaily("deposits", "KSH", 600, 400); err != nil {
		t.Errorf("600 + 400: %v", err)
	}
	err := p.CheckDaily("deposits", "KSH", 600, 401)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "deposits of KSH") || !strings.Contains(err.Error(), "at most 400 more") {
		t.Errorf("600 + 401: %v", err)
	}
	if err := p.CheckDaily("redemptions", "KSH", 1_200, 1); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "at most 0 more") {
		t.Errorf("over already: %v", err)
	}
	if err := p.CheckDaily("redemptions", "KSH", math.MaxInt64, math.MaxInt64); !errors.Is(err, ErrLimit) {
		t.Errorf("overflowing sum: %v", err)
	}
	if err := (Policy{}).CheckDaily("deposits", "KSH", math.MaxInt64, 5); err != nil {
		t.Errorf("no limit: %v", err)
	}
}
