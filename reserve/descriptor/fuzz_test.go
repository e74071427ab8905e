package descriptor

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
)

// FuzzParse checks that Parse never panics and that every descriptor it
// accepts round-trips: String parses back to the same String, with a
// checksum, and the same scripts. The seed corpus is in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"wpkh(" + pubL4 + ")",
		"wpkh([ffffffff/13']" + xpubC + "/1/2/*)",
		"tr(" + xonlyL4 + ")",
		"tr([73c5da0a/86h/0h/0h]" + xpub86 + "/0/*)",
		"wsh(sortedmulti(2," + xpubA + "/*," + xpubB + "/0/0/*))",
		"addr(3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j)",
		"raw(deadbeef)#89f8spxm",
	} {
		f.Add(s, false)
		f.Add(AddChecksum(s), false)
	}
	f.Add("tr("+tpub86+"/0/*)", true)
	f.Fuzz(func(t *testing.T, s string, testnet bool) {
		net := &chaincfg.MainNetParams
		if testnet {
			net = &chaincfg.TestNet3Params
		}
		d, err := Parse(s, net)
		if err != nil {
			if d != nil {
				t.Fatalf("Parse returned a descriptor and an error: %v", err)
			}
			return
		}
		d2, err := Parse(d.String(), net)
		if err != nil {
			t.Fatalf("Parse(%q) accepted, but its String %q fails: %v", s, d.String(), err)
		}
		if d2.String() != d.String() || !d2.HasChecksum() || d2.IsRanged() != d.IsRanged() || d2.Type() != d.Type() {
			t.Fatalf("round trip changed %q to %q", d.String(), d2.String())
		}
		for _, idx := range []uint32{0, 1, 1 << 31} {
			a, err1 := d.Script(idx)
			b, err2 := d2.Script(idx)
			if (err1 == nil) != (err2 == nil) || !bytes.Equal(a, b) {
				t.Fatalf("Script(%d) differs after round trip: %x %v / %x %v", idx, a, err1, b, err2)
			}
			if err1 == nil && len(a) == 0 {
				t.Fatalf("Script(%d) is empty", idx)
			}
			if _, err := d.Address(idx); (err == nil) != (err1 == nil) {
				t.Fatalf("Address(%d) error %v, Script error %v", idx, err, err1)
			}
		}
	})
}
