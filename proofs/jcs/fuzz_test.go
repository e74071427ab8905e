package jcs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzCanonicalize checks, for arbitrary input, that Canonicalize never
// panics, that its output is a fixed point (canonical, and canonicalizing it
// again changes nothing), and that encoding/json reads the output as the same
// value as the input.
func FuzzCanonicalize(f *testing.F) {
	for _, dir := range []string{"input", "output"} {
		files, _ := filepath.Glob(filepath.Join(vectorDir, dir, "*.json"))
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"a":1,"a":2}`, `"\ud800"`, `"\ud83d\ude00"`, `1e309`, `-0`, `[1e-7,1e21,5e-324]`,
		"\"\xff\"", `{"amount_sat":"2100000000000000"}`, `[[[[{}]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		if err != nil {
			if IsCanonical(in) {
				t.Fatalf("IsCanonical true for rejected input %q", in)
			}
			return
		}
		again, err := Canonicalize(out)
		if err != nil {
			t.Fatalf("Canonicalize(output %q) failed: %v", out, err)
		}
		if string(again) != string(out) {
			t.Fatalf("not a fixed point:\n  once: %q\n twice: %q", out, again)
		}
		if !IsCanonical(out) {
			t.Fatalf("IsCanonical(%q) = false", out)
		}
		var vin, vout any
		if err := json.Unmarshal(in, &vin); err != nil {
			t.Fatalf("encoding/json rejects accepted input %q: %v", in, err)
		}
		if err := json.Unmarshal(out, &vout); err != nil {
			t.Fatalf("encoding/json rejects output %q: %v", out, err)
		}
		if !reflect.DeepEqual(vin, vout) {
			t.Fatalf("value changed:\n  in: %#v\n out: %#v", vin, vout)
		}
	})
}
