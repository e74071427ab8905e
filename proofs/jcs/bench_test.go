package jcs

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// benchAttestation returns the signed attestation of the strict vector file:
// a real document of the kind a verifier checks with IsCanonical.
func benchAttestation(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile("../../testdata/strict/documents.json")
	if err != nil {
		b.Fatal(err)
	}
	var f struct {
		Attestation string `json:"attestation"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		b.Fatal(err)
	}
	return []byte(f.Attestation)
}

// benchMixed is a synthetic document of n objects mixing what the parser
// meets: escaped and non-ASCII names (some sorting differently by UTF-16
// code unit than by code point), numbers in several forms, escapes.
func benchMixed(n int) []byte {
	var sb strings.Builder
	sb.WriteString("[\n")
	for i := range n {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `  {"zeta": %d, "alpha": "a\tb\u00e9\ud83d\ude00 %d", "\ue000x": [1.5e3, -0.25, 1E-7, %d],`+
			` "😀y": {"nested": true, "n": null, "s": "\"quoted\" \/ text"}, "beta": "%064x", "Beta": false}`, i, i, i*7, i)
	}
	sb.WriteString("\n]")
	return []byte(sb.String())
}

func BenchmarkCanonicalize(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   []byte
	}{
		{"attestation", benchAttestation(b)},
		{"mixed-100", benchMixed(100)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Canonicalize(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIsCanonical is the verifier's check of a downloaded document.
func BenchmarkIsCanonical(b *testing.B) {
	in := benchAttestation(b)
	if !IsCanonical(in) {
		b.Fatal("the attestation is not canonical")
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		IsCanonical(in)
	}
}
