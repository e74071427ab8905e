package controltest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/kosh-reserve/kosh/proofs/control"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// TestMixed checks that Mixed makes a third of each kind, that every
// output's descriptor derives its script, and that a proof over all of
// them verifies input by input.
func TestMixed(t *testing.T) {
	outs := Mixed("controltest mixed", 9, 10_000)
	kinds := map[Kind]int{}
	seen := map[string]bool{}
	for _, o := range outs {
		kinds[o.Kind]++
		if seen[o.OutPoint.String()] || seen[string(o.Script)] {
			t.Fatalf("output %s repeats an outpoint or script", o.OutPoint)
		}
		seen[o.OutPoint.String()], seen[string(o.Script)] = true, true
		d, err := descriptor.Parse(o.Descriptor(), &chaincfg.RegressionNetParams)
		if err != nil {
			t.Fatalf("descriptor %s: %v", o.Descriptor(), err)
		}
		s, err := d.Script(0)
		if err != nil || !bytes.Equal(s, o.Script) {
			t.Errorf("descriptor %s derives %x (%v), not the output's script %x", o.Descriptor(), s, err, o.Script)
		}
	}
	if kinds[P2WPKH] != 3 || kinds[P2TR] != 3 || kinds[P2WSH] != 3 {
		t.Errorf("kinds %v, want 3 each of P2WPKH, P2TR, P2WSH", kinds)
	}
	ch := control.Challenge{IssuerKey: strings.Repeat("1f", 32), Height: 7, Hash: strings.Repeat("0e", 32)}
	p, err := Prove(ch, outs...)
	if err != nil {
		t.Fatal(err)
	}
	proven, errs := p.Verify()
	if len(errs) > 0 || len(proven) != len(outs) {
		t.Fatalf("proof over the mixed outputs: %d proven, errors %v", len(proven), errs)
	}
}
