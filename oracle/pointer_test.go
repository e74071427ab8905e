package oracle

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// rfc6901Doc is the example document of RFC 6901, section 5.
const rfc6901Doc = `{
  "foo": ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  "k\"l": 6,
  " ": 7,
  "m~n": 8
}`

func mustDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPointerRFC6901(t *testing.T) {
	doc := mustDecode(t, rfc6901Doc)
	tests := map[string]string{
		"":       "", // whole document, checked separately
		"/foo":   `["bar","baz"]`,
		"/foo/0": `"bar"`,
		"/":      `0`,
		"/a~1b":  `1`,
		"/c%d":   `2`,
		"/e^f":   `3`,
		"/g|h":   `4`,
		"/i\\j":  `5`,
		"/k\"l":  `6`,
		"/ ":     `7`,
		"/m~0n":  `8`,
	}
	for ptr, want := range tests {
		p, err := ParsePointer(ptr)
		if err != nil {
			t.Fatalf("ParsePointer(%q): %v", ptr, err)
		}
		if p.String() != ptr {
			t.Errorf("String(%q) = %q", ptr, p.String())
		}
		v, err := p.Eval(doc)
		if err != nil {
			t.Fatalf("Eval(%q): %v", ptr, err)
		}
		if ptr == "" {
			if _, ok := v.(map[string]any); !ok {
				t.Errorf("Eval(\"\") = %T", v)
			}
			continue
		}
		b, _ := json.Marshal(v)
		if string(b) != want {
			t.Errorf("Eval(%q) = %s, want %s", ptr, b, want)
		}
	}
}

func TestPointerTokens(t *testing.T) {
	p, err := ParsePointer("/a~1b/~0~1/~01/x")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a/b", "~/", "~1", "x"}; !slices.Equal(p.Tokens(), want) {
		t.Fatalf("tokens %q, want %q", p.Tokens(), want)
	}
	if NewPointer("a/b", "~/", "~1", "x").String() != "/a~1b/~0~1/~01/x" {
		t.Fatal("NewPointer escaping")
	}
}

func TestPointerSyntaxErrors(t *testing.T) {
	for _, s := range []string{"foo", "#/foo", "/~", "/a~2", "/~a", "/ok/~"} {
		if _, err := ParsePointer(s); !errors.Is(err, ErrInvalidPointer) {
			t.Errorf("ParsePointer(%q) = %v, want ErrInvalidPointer", s, err)
		}
	}
}

func TestPointerEvalErrors(t *testing.T) {
	doc := mustDecode(t, `{"data":{"rates":[{"inr":"1"},{"inr":2}],"name":"x","n":null}}`)
	tests := []struct{ ptr, want string }{
		{"/dta", `object at the document root has no member "dta"`},
		{"/data/price", `object at "/data" has no member "price"`},
		{"/data/rates/2", `index 2 out of range for the array at "/data/rates" (2 elements)`},
		{"/data/rates/-", `"-" refers to the element after the last`},
		{"/data/rates/01", `token "01" for the array at "/data/rates": not an array index`},
		{"/data/rates/x", `token "x"`},
		{"/data/rates/", `token ""`},
		{"/data/rates/99999999999999999999", `array index out of range`},
		{"/data/name/0", `token "0": the value at "/data/name" is a string, not an object or array`},
		{"/data/n/x", `is null`},
		{"/data/rates/0/inr/x", `the value at "/data/rates/0/inr" is a string`},
	}
	for _, tc := range tests {
		p, err := ParsePointer(tc.ptr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Eval(doc)
		if !errors.Is(err, ErrPointerNotFound) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Eval(%q) = %v, want error containing %q", tc.ptr, err, tc.want)
		}
	}
}

func TestDecodeJSONStrict(t *testing.T) {
	good := map[string]string{
		`{"a":[1,{"b":null}],"c":"x","d":true}`: `{"a":[1,{"b":null}],"c":"x","d":true}`,
		` [ ] `:                                 `[]`,
		`1.50`:                                  `1.50`,
		`{"a":{"a":1}}`:                         `{"a":{"a":1}}`,
	}
	for in, want := range good {
		v, err := decodeJSON([]byte(in))
		if err != nil {
			t.Errorf("decodeJSON(%s): %v", in, err)
			continue
		}
		if b, _ := json.Marshal(v); string(b) != want {
			t.Errorf("decodeJSON(%s) = %s, want %s", in, b, want)
		}
	}
	bad := map[string]string{
		``:                       "malformed",
		`{"a":1,"a":2}`:          `duplicate member "a"`,
		`{"a":1,}`:               "malformed",
		`[1,]`:                   "malformed",
		`{"a" 1}`:                "malformed",
		`{1:2}`:                  "malformed",
		`[1] 2`:                  "after the first value",
		`{"a":1}}`:               "after the first value",
		`{"a":[1}`:               "malformed",
		`NaN`:                    "malformed",
		`"\ud800"x`:              "after the first value",
		strings.Repeat("[", 65):  "nested deeper than 64",
		strings.Repeat("[", 100): "nested deeper than 64",
	}
	for in, want := range bad {
		if v, err := decodeJSON([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeJSON(%.20s) = %v, %v; want error containing %q", in, v, err, want)
		}
	}
	// 64 levels are fine.
	if _, err := decodeJSON([]byte(strings.Repeat("[", 64) + strings.Repeat("]", 64))); err != nil {
		t.Errorf("64 levels: %v", err)
	}
}
