package attest_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// handmadeDir holds vectors derived by hand (testdata/attest/handmade/
// derive.py, plain Python from docs/proofs.md), not by this package. No test
// writes there, -update included.
const handmadeDir = vectorDir + "/handmade"

// verdictKinds maps the verdicts of the hand-made files to the sentinel a
// failure must carry.
var verdictKinds = map[string]error{
	"malformed":     attest.ErrMalformed,
	"not_canonical": attest.ErrNotCanonical,
	"signature":     attest.ErrSignature,
	"sum":           attest.ErrSum,
	"coverage":      attest.ErrCoverage,
}

func readHandmade(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(handmadeDir, name))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// checkVerdict fails unless err matches the hand-derived verdict.
func checkVerdict(t *testing.T, name, verdict string, err error) {
	t.Helper()
	if verdict == "valid" {
		if err != nil {
			t.Errorf("%s: hand-derived as valid, Go says %v", name, err)
		}
		return
	}
	kind, ok := verdictKinds[verdict]
	if !ok {
		t.Fatalf("%s: unknown verdict %q", name, verdict)
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: hand-derived as %s, Go says %v", name, verdict, err)
	}
}

// TestHandmadeReceipts checks receipts against outcomes derived by hand:
// each valid receipt's digest and signed digest, and the verdict (valid, or
// the class of the rule broken) of each broken one.
func TestHandmadeReceipts(t *testing.T) {
	var f struct {
		Comment string `json:"comment"`
		Cases   []struct {
			Name          string `json:"name"`
			Document      string `json:"document"`
			Issuer        string `json:"issuer"`
			Verdict       string `json:"verdict"`
			Why           string `json:"why"`
			ReceiptDigest string `json:"receipt_digest"`
			SignedDigest  string `json:"signed_digest"`
		} `json:"cases"`
	}
	readHandmade(t, "receipts.json", &f)
	seen := map[string]int{}
	for _, c := range f.Cases {
		seen[c.Verdict]++
		r, err := receipt.ParseReceipt([]byte(c.Document))
		if c.Verdict == "not_canonical" {
			checkVerdict(t, c.Name, c.Verdict, err)
			continue
		}
		if err != nil {
			t.Errorf("%s: ParseReceipt: %v", c.Name, err)
			continue
		}
		if c.ReceiptDigest != "" {
			h, err := r.Hash()
			if err != nil || hex.EncodeToString(h[:]) != c.ReceiptDigest {
				t.Errorf("%s: receipt digest %x (%v), hand-derived %s", c.Name, h, err, c.ReceiptDigest)
			}
		}
		if c.SignedDigest != "" {
			h, err := r.SignedDigest()
			if err != nil || hex.EncodeToString(h[:]) != c.SignedDigest {
				t.Errorf("%s: signed digest %x (%v), hand-derived %s", c.Name, h, err, c.SignedDigest)
			}
		}
		checkVerdict(t, c.Name, c.Verdict, r.Verify(c.Issuer))
	}
	// A truncated file must not pass.
	for verdict, min := range map[string]int{"valid": 9, "signature": 5, "malformed": 8, "not_canonical": 2} {
		if seen[verdict] < min {
			t.Errorf("receipts.json has %d %s cases, want at least %d", seen[verdict], verdict, min)
		}
	}
}

// TestHandmadeAttestations checks attestations against outcomes derived by
// hand: the valid document's id, node message and every derived figure
// (Fill must recompute exactly the hand-derived totals and coverage, and
// RequiredSats the exact need and worth), and the verdict of each broken
// one.
func TestHandmadeAttestations(t *testing.T) {
	var f struct {
		Comment string `json:"comment"`
		Cases   []struct {
			Name        string `json:"name"`
			Document    string `json:"document"`
			Verdict     string `json:"verdict"`
			Why         string `json:"why"`
			ID          string `json:"id"`
			NodeMessage string `json:"node_message"`
			Figures     *struct {
				Need     string          `json:"need"`
				Worth    string          `json:"worth"`
				Totals   attest.Totals   `json:"totals"`
				Coverage attest.Coverage `json:"coverage"`
			} `json:"figures"`
		} `json:"cases"`
	}
	readHandmade(t, "attestations.json", &f)
	seen := map[string]int{}
	for _, c := range f.Cases {
		seen[c.Verdict]++
		a, err := verify.Document([]byte(c.Document))
		checkVerdict(t, c.Name, c.Verdict, err)
		if c.Verdict != "valid" || err != nil {
			continue
		}
		if id, err := a.ID(); err != nil || id != c.ID {
			t.Errorf("%s: id %s (%v), hand-derived %s", c.Name, id, err, c.ID)
		}
		if msg, err := a.NodeMessage(); err != nil || string(msg) != c.NodeMessage {
			t.Errorf("%s: node message %s (%v), hand-derived %s", c.Name, msg, err, c.NodeMessage)
		}
		if c.Figures == nil {
			t.Errorf("%s: no hand-derived figures", c.Name)
			continue
		}
		// Recompute every derived figure from the listed items alone.
		b := clone(t, a)
		b.Reserves.Totals, b.Coverage = attest.Totals{}, attest.Coverage{}
		if err := b.Fill(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(b.Reserves.Totals, c.Figures.Totals) {
			t.Errorf("%s: Go's totals %+v, hand-derived %+v", c.Name, b.Reserves.Totals, c.Figures.Totals)
		}
		if !reflect.DeepEqual(b.Coverage, c.Figures.Coverage) {
			t.Errorf("%s: Go's coverage %+v, hand-derived %+v", c.Name, b.Coverage, c.Figures.Coverage)
		}
		need, worth := new(big.Rat), new(big.Rat)
		for i := range a.Assets {
			n, err := attest.RequiredSats(&a.Assets[i], a.Assets[i].MinCoverageBps)
			if err != nil {
				t.Fatal(err)
			}
			w, err := attest.RequiredSats(&a.Assets[i], attest.BasisPoints)
			if err != nil {
				t.Fatal(err)
			}
			need.Add(need, n)
			worth.Add(worth, w)
		}
		for _, x := range []struct {
			name string
			got  *big.Rat
			want string
		}{{"need", need, c.Figures.Need}, {"worth", worth, c.Figures.Worth}} {
			want, ok := new(big.Rat).SetString(x.want)
			if !ok || x.got.Cmp(want) != 0 {
				t.Errorf("%s: %s %s, hand-derived %s", c.Name, x.name, x.got.RatString(), x.want)
			}
		}
	}
	for verdict, min := range map[string]int{"valid": 1, "sum": 5, "coverage": 4, "malformed": 1, "signature": 3, "not_canonical": 1} {
		if seen[verdict] < min {
			t.Errorf("attestations.json has %d %s cases, want at least %d", seen[verdict], verdict, min)
		}
	}
}

// TestHandmadeNotRegenerated: the vectors -update rewrites are all outside
// the hand-made directory.
func TestHandmadeNotRegenerated(t *testing.T) {
	_, files := buildVectors(t)
	for name := range files {
		if strings.HasPrefix(filepath.ToSlash(name), "handmade") {
			t.Errorf("TestVectors -update would write %s into the hand-made vectors", name)
		}
	}
}
