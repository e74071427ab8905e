package strictjson

import (
	"fmt"
	"strings"
	"testing"
)

// benchDoc is a document of testShape with n items, such as a bundle with a
// long proof, written with whitespace and an escape or two.
func benchDoc(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"version": 1, "name": "holder \u00e9\ud83d\ude00", "ok": true, "note": "n", "tags": ["a", "b"], "index": 42, "items": [`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "\n  {\"hash\": \"%064x\", \"sum\": \"%d\"}", i*7919, i*1000003)
	}
	sb.WriteString("\n]}")
	return []byte(sb.String())
}

func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{4, 100} {
		in := benchDoc(n)
		b.Run(fmt.Sprintf("items-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(in, testShape); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
