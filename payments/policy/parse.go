package policy

import (
	"fmt"
	"math"
	"strings"

	"github.com/kosh-reserve/kosh/kvopt"
	"github.com/kosh-reserve/kosh/ledger"
)

// Parse parses --payments.policy values, ASSET:min=SATS,max=SATS,daily=SATS
// with * as ASSET for the default, into per-asset policies and the
// default.
func Parse(specs []string) (map[string]Policy, Policy, error) {
	const flag = "--payments.policy"
	out := map[string]Policy{}
	var def Policy
	for _, spec := range specs {
		asset, rest, ok := strings.Cut(spec, ":")
		if !ok {
			return nil, def, fmt.Errorf("%s %q: want ASSET:min=SATS,max=SATS,daily=SATS", flag, spec)
		}
		if asset != "*" {
			if err := ledger.ValidateAssetCode(asset); err != nil {
				return nil, def, fmt.Errorf("%s %q: %w", flag, spec, err)
			}
		}
		f, err := kvopt.Parse(flag+" "+asset+":", rest, "min", "max", "daily")
		if err != nil {
			return nil, def, err
		}
		var p Policy
		for _, k := range []struct {
			key string
			to  *int64
		}{{"min", &p.Min}, {"max", &p.Max}, {"daily", &p.Daily}} {
			if *k.to, err = f.Int(k.key, 0, 0, math.MaxInt64); err != nil {
				return nil, def, err
			}
		}
		if p.Max > 0 && p.Min > p.Max {
			return nil, def, fmt.Errorf("%s %q: min %d is above max %d", flag, spec, p.Min, p.Max)
		}
		if asset == "*" {
			def = p
		} else {
			out[asset] = p
		}
	}
	return out, def, nil
}
