package oracle

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPointer checks that ParsePointer and String round-trip, that
// evaluation never panics on any document, and that evaluating the pointer
// built from the path to a value finds that value.
func FuzzPointer(f *testing.F) {
	f.Add("/foo/0", rfc6901Doc)
	f.Add("/a~1b", rfc6901Doc)
	f.Add("/m~0n", rfc6901Doc)
	f.Add("/", rfc6901Doc)
	f.Add("", `1`)
	f.Add("/~2", `{}`)
	f.Add("/0/1/-", `[[1,2]]`)
	f.Add("/x/01", `{"x":[1,2]}`)
	f.Add("/bitcoin/inr", `{"bitcoin":{"inr":6543210.12}}`)
	f.Fuzz(func(t *testing.T, ptr, doc string) {
		p, err := ParsePointer(ptr)
		if err != nil {
			return
		}
		if p.String() != ptr {
			t.Fatalf("ParsePointer(%q).String() = %q", ptr, p.String())
		}
		q, err := ParsePointer(NewPointer(p.Tokens()...).String())
		if err != nil || q.String() != ptr {
			t.Fatalf("rebuild of %q: %q, %v", ptr, q.String(), err)
		}
		v, err := decodeJSON([]byte(doc))
		if err != nil {
			return
		}
		_, _ = p.Eval(v)
		// Walk to the first leaf and check the pointer to it finds it.
		var tokens []string
		cur := v
		for {
			switch c := cur.(type) {
			case map[string]any:
				var key string
				found := false
				for k := range c {
					if !found || k < key {
						key, found = k, true
					}
				}
				if !found {
					goto done
				}
				tokens = append(tokens, key)
				cur = c[key]
				continue
			case []any:
				if len(c) == 0 {
					goto done
				}
				tokens = append(tokens, "0")
				cur = c[0]
				continue
			}
			break
		}
	done:
		got, err := NewPointer(tokens...).Eval(v)
		if err != nil {
			t.Fatalf("pointer %q to an existing value: %v", NewPointer(tokens...), err)
		}
		if strings.Contains(jsonKind(got), "object") || strings.Contains(jsonKind(got), "array") {
			return
		}
		if jsonKind(got) != jsonKind(cur) {
			t.Fatalf("pointer %q found %s, want %s", NewPointer(tokens...), jsonKind(got), jsonKind(cur))
		}
	})
}

// FuzzDecodeJSON checks the strict source decoder against encoding/json:
// whatever it accepts is valid JSON that encoding/json decodes to the same
// value.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{rfc6901Doc, `{"a":1,"a":2}`, `[1,[2,[3]]]`, `{"p":"6543210.12","t":1795392000}`, `1e400`, `"\u00e9"`, `{"a":1}x`, ``, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeJSON(b)
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var w any
		if err := dec.Decode(&w); err != nil {
			t.Fatalf("encoding/json rejects %q: %v", b, err)
		}
		got, _ := json.Marshal(v)
		want, _ := json.Marshal(w)
		if !bytes.Equal(got, want) {
			t.Fatalf("decoded %s, encoding/json %s", got, want)
		}
	})
}
