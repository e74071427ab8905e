package oracle

import (
	"fmt"
	"github.com/kosh-reserve/kosh/money"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestAggregateLiarsProperty draws honest prices within ±0.3% of a base and
// fewer liars than honest sources quoting anything, and checks the rules
// the package documentation promises for a 1% spread: never stale, the
// price lies between the lowest and highest honest price, it is one of
// the contributing prices and it is their lower median, every
// contributing price is within the spread of the median of all fresh
// prices, and every honest source contributes.
func TestAggregateLiarsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for iter := range 3000 {
		base := rng.Int64N(1_000_000_000_000) + 1_000_000 // coefficient at scale 4
		h := 1 + rng.IntN(6)
		l := rng.IntN(h)
		var prices []money.Price
		var names []string
		honest := map[int]bool{}
		lo, hi := money.Price{}, money.Price{}
		for i := range h {
			c := base + base*int64(rng.IntN(61)-30)/10_000
			p := money.Price{Coefficient: big.NewInt(c), Scale: 4}
			prices = append(prices, p)
			names = append(names, fmt.Sprintf("h%d", i))
			honest[len(prices)-1] = true
			if lo.IsZero() || p.Cmp(lo) < 0 {
				lo = p
			}
			if hi.IsZero() || p.Cmp(hi) > 0 {
				hi = p
			}
		}
		for i := range l {
			var c int64
			switch rng.IntN(3) {
			case 0: // anywhere
				c = rng.Int64N(1<<62) + 1
			case 1: // just inside or outside the spread
				c = base + base*int64(rng.IntN(401)-200)/10_000
			default: // extreme low
				c = 1 + rng.Int64N(10)
			}
			prices = append(prices, money.Price{Coefficient: big.NewInt(c), Scale: uint8(rng.IntN(5))})
			names = append(names, fmt.Sprintf("l%d", i))
		}
		rng.Shuffle(len(prices), func(i, j int) {
			prices[i], prices[j] = prices[j], prices[i]
			names[i], names[j] = names[j], names[i]
			hi, hj := honest[i], honest[j]
			honest[i], honest[j] = hj, hi
		})
		minSources := 1 + rng.IntN(h)
		price, agree, reason := aggregate(prices, names, minSources, 100)
		if reason != "" {
			t.Fatalf("iter %d: %d honest, %d liars, min %d: stale: %s", iter, h, l, minSources, reason)
		}
		if price.Cmp(lo) < 0 || price.Cmp(hi) > 0 {
			t.Fatalf("iter %d: price %s outside the honest range [%s, %s]", iter, price, lo, hi)
		}
		med := Median(prices)
		var contrib []money.Price
		for k, p := range prices {
			if honest[k] && !agree[k] {
				t.Fatalf("iter %d: honest %s excluded", iter, p)
			}
			if agree[k] {
				contrib = append(contrib, p)
				if !withinBps(p, med, 100) {
					t.Fatalf("iter %d: contributing %s beyond the spread of %s", iter, p, med)
				}
			}
		}
		if Median(contrib).Cmp(price) != 0 {
			t.Fatalf("iter %d: price %s is not the median of the contributing prices", iter, price)
		}
	}
}
