package oracle

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// FuzzParsePrice checks ParsePrice against math/big's decimal parser: an
// accepted text is a positive value equal to big.Rat's reading of it, within
// the limits, and its String form parses back to the same value and scale.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"6543210.12", "6.54321012e6", "1E+3", "0.0001", "1e-18", "0", "-1", "NaN", "Infinity", "01", "1e101", "123456789012345678901234567890", "1.", ".5", "1e-19", "100e-20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrice(s)
		if err != nil {
			if p.Coefficient != nil {
				t.Fatalf("error %v with a price", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePrice(%q) = %v, invalid: %v", s, p, err)
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("ParsePrice accepted %q which big.Rat rejects", s)
		}
		if r.Cmp(p.Rat()) != 0 {
			t.Fatalf("ParsePrice(%q) = %s, big.Rat says %s", s, p, r.FloatString(20))
		}
		q, err := ParsePrice(p.String())
		if err != nil || q.Cmp(p) != 0 || q.Scale != p.Scale {
			t.Fatalf("round trip of %q via %q: %v, %v", s, p.String(), q, err)
		}
		if b, err := p.MarshalJSON(); err == nil {
			if q, err := ParsePriceJSON(b); err != nil || q.Cmp(p) != 0 {
				t.Fatalf("JSON round trip of %q: %v, %v", s, q, err)
			}
		}
		// Conversions must never panic and must bracket each other.
		fl, e1 := SatsToUnits(123456789, p, 2, Floor)
		ce, e2 := SatsToUnits(123456789, p, 2, Ceil)
		if e1 == nil && e2 == nil && (ce < fl || ce-fl > 1) {
			t.Fatalf("floor %d ceil %d", fl, ce)
		}
		_, _ = UnitsToSats(123456789, p, 2, Ceil)
	})
}

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
