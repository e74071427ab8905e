package descriptor

import (
	"testing"
)

// BenchmarkScript measures the cost of one output script of a ranged
// descriptor: one child derivation per key from the cached parent plus the
// script template. Reported as scripts/s.
func BenchmarkScript(b *testing.B) {
	for _, bm := range []struct{ name, desc string }{
		{"wpkh", "wpkh([d34db33f/84h/0h/0h]" + xpubC + "/0/*)"},
		{"tr", "tr([73c5da0a/86h/0h/0h]" + xpub86 + "/0/*)"},
		{"wsh-sortedmulti-2of3", "wsh(sortedmulti(2," + xpubA + "/0/*," + xpubB + "/0/*," + xpubC + "/0/*))"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			d, err := Parse(bm.desc, mainnet)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var i uint32
			for b.Loop() {
				if _, err := d.Script(i % 1_000_000); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "scripts/s")
		})
	}
}

// BenchmarkParse measures parsing a 2-of-3 ranged multisig descriptor with
// its checksum (each xpub decoded and derived to its fixed prefix).
func BenchmarkParse(b *testing.B) {
	desc := AddChecksum("wsh(sortedmulti(2," + xpubA + "/0/*," + xpubB + "/0/*," + xpubC + "/0/*))")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(desc, mainnet); err != nil {
			b.Fatal(err)
		}
	}
}
