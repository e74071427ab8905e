package strictjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/jcs"
)

// testShape has a member of every kind.
var testShape = Object{
	{Name: "version", Shape: Int},
	{Name: "name", Shape: String},
	{Name: "ok", Shape: Bool},
	{Name: "items", Shape: Array{Elem: Object{{Name: "hash", Shape: String}, {Name: "sum", Shape: String}}}},
	{Name: "note", Shape: String, Optional: true},
	{Name: "tags", Shape: Array{Elem: String}, Optional: true},
	{Name: "index", Shape: Int, Optional: true},
}

const good = `{"version":1,"name":"x","ok":true,"items":[{"hash":"a","sum":"1"}]}`

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		kind     error
		msg      string
	}{
		{"valid", good, nil, ""},
		{"valid with whitespace and optional members", " {\n\"items\":[],\"ok\":false,\"version\":-5,\"name\":\"\",\"note\":\"n\",\"tags\":[\"a\"],\"index\":0}\t", nil, ""},
		{"escaped member name", `{"\u0076ersion":1,"name":"x","ok":true,"items":[]}`, nil, ""},
		{"surrogate pair", `{"version":1,"name":"\ud83d\ude00","ok":true,"items":[]}`, nil, ""},
		{"largest safe integer", `{"version":9007199254740991,"name":"x","ok":true,"items":[]}`, nil, ""},
		{"smallest safe integer", `{"version":-9007199254740991,"name":"x","ok":true,"items":[]}`, nil, ""},

		{"invalid UTF-8", "{\"version\":1,\"name\":\"\xff\"}", ErrSyntax, "invalid UTF-8"},
		{"empty", ``, ErrSyntax, "unexpected end of input at byte offset 0"},
		{"trailing data", good + `{}`, ErrSyntax, "unexpected data after the JSON value at byte offset 67"},
		{"duplicate", `{"version":1,"name":"x","version":1}`, ErrSyntax, `member name "version" repeated at byte offset 24`},
		{"duplicate after unescaping", `{"name":"x","n\u0061me":"y"}`, ErrSyntax, `member name "name" repeated at byte offset 12`},
		{"nested duplicate", `{"items":[{"hash":"a","hash":"b"}]}`, ErrSyntax, `member name "hash" repeated at byte offset 22`},
		{"lone high surrogate", `{"name":"\ud800x"}`, ErrSyntax, "lone UTF-16 surrogate at byte offset 10"},
		{"lone low surrogate", `{"name":"\udc00"}`, ErrSyntax, "lone UTF-16 surrogate at byte offset 10"},
		{"bad escape", `{"name":"\x"}`, ErrSyntax, "invalid escape at byte offset 10"},
		{"bad unicode escape", `{"name":"\u12g4"}`, ErrSyntax, `invalid \u escape at byte offset 10`},
		{"control character", "{\"name\":\"a\tb\"}", ErrSyntax, "control character in a string at byte offset 10"},
		{"unterminated string", `{"name":"ab`, ErrSyntax, "unterminated string at byte offset 11"},
		{"leading zero", `{"version":01}`, ErrSyntax, "expected ',' or '}' in an object at byte offset 12"},
		{"bare minus", `[-]`, ErrSyntax, "invalid number at byte offset 2"},
		{"empty fraction", `[1.]`, ErrSyntax, "invalid number at byte offset 3"},
		{"bad literal", `[nul]`, ErrSyntax, "invalid literal at byte offset 1"},
		{"single quotes", `{'a':1}`, ErrSyntax, "expected a member name at byte offset 1"},
		{"trailing comma", `[1,]`, ErrSyntax, "unexpected character at byte offset 3"},
		{"missing colon", `{"a" 1}`, ErrSyntax, "expected ':' after a member name at byte offset 5"},
		{"unclosed array", `[1 2]`, ErrSyntax, "expected ',' or ']' in an array at byte offset 3"},
		{"byte order mark", "\ufeff" + good, ErrSyntax, "unexpected character at byte offset 0"},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), ErrSyntax, "more than 512 nested arrays and objects at byte offset 512"},
		{"invalid UTF-8 outside a string", "[\xff]", ErrSyntax, "invalid UTF-8"},
		{"end in an object", `{"version":1`, ErrSyntax, "unexpected end of input at byte offset 12"},
		{"end in an array", `[1`, ErrSyntax, "unexpected end of input at byte offset 2"},
		{"empty exponent", `[1e+]`, ErrSyntax, "invalid number at byte offset 4"},
		{"end after a backslash", `{"name":"\`, ErrSyntax, "unterminated string at byte offset 10"},
		{"truncated unicode escape", `{"name":"\u12"}`, ErrSyntax, `invalid \u escape at byte offset 10`},
		{"high surrogate then a letter", `{"name":"\ud83d\u0041"}`, ErrSyntax, "lone UTF-16 surrogate at byte offset 10"},
		{"high surrogate then a truncated escape", `{"name":"\ud800\u12"}`, ErrSyntax, "lone UTF-16 surrogate at byte offset 10"},
		{"high surrogate then a bad escape", `{"name":"\ud800\u12g4"}`, ErrSyntax, "lone UTF-16 surrogate at byte offset 10"},
		{"high surrogate at the end", `{"name":"\ud800\`, ErrSyntax, "lone UTF-16 surrogate at byte offset 10"},
		{"duplicate quoted as JSON", `{"\u0001\ud83d\ude00":1,"\u0001\ud83d\ude00":2}`, ErrSyntax, `member name "\u0001😀" repeated at byte offset 24`},
		{"number beyond a double is read", `[1e400,"\ud800"]`, ErrSyntax, "lone UTF-16 surrogate at byte offset 9"},
		{"number beyond a double", `{"version":1e400}`, ErrShape, `"version" is not an integer`},

		{"top level a list", `[]`, ErrShape, "the top level is not an object"},
		{"unknown member", `{"version":1,"extra":1}`, ErrShape, `unknown member "extra"`},
		{"case variant", `{"Version":1}`, ErrShape, `unknown member "Version"; names are case-sensitive, and the format has "version"`},
		{"nested case variant", `{"version":1,"name":"x","ok":true,"items":[{"hash":"a","SUM":"1"}]}`, ErrShape, `unknown member "items[0].SUM"; names are case-sensitive, and the format has "sum"`},
		{"unknown member quoted", "{\"a\\n\\u0001\\\"\":1}", ErrShape, `unknown member "a\n\u0001\""`},
		{"missing member", `{"version":1,"ok":true}`, ErrShape, `missing member "items"`},
		{"missing nested member", `{"version":1,"name":"x","ok":true,"items":[{"sum":"1"}]}`, ErrShape, `missing member "items[0].hash"`},
		{"number for string", `{"version":1,"name":1}`, ErrShape, `"name" is not a string`},
		{"string for integer", `{"version":"1"}`, ErrShape, `"version" is not an integer`},
		{"fraction", `{"version":1.0}`, ErrShape, `"version" is not an integer`},
		{"exponent", `{"version":1e0}`, ErrShape, `"version" is not an integer`},
		{"minus zero", `{"version":-0}`, ErrShape, `"version" is not an integer`},
		{"beyond 2^53-1", `{"version":9007199254740992}`, ErrShape, `"version" is not an integer`},
		{"null", `{"version":null}`, ErrShape, `"version" is not an integer`},
		{"null list", `{"version":1,"name":"x","ok":true,"items":null}`, ErrShape, `"items" is not a list`},
		{"string for bool", `{"version":1,"name":"x","ok":"true"}`, ErrShape, `"ok" is not true or false`},
		{"list for object", `{"version":1,"name":"x","ok":true,"items":[[]]}`, ErrShape, `"items[0]" is not an object`},
		{"optional empty string", `{"note":""}`, ErrShape, `"note" is empty where it must be left out`},
		{"optional empty list", `{"tags":[]}`, ErrShape, `"tags" is empty where it must be left out`},
		{"optional null", `{"note":null}`, ErrShape, `"note" is not a string`},
		{"unknown before missing", `{"extra":1}`, ErrShape, `unknown member "extra"`},
		{"document order", `{"name":1,"version":"1"}`, ErrShape, `"name" is not a string`},
		{"first missing by name", `{"version":1}`, ErrShape, `missing member "items"`},
	} {
		err := Check([]byte(tc.in), testShape)
		if tc.kind == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, tc.kind) || err.Error() != tc.msg {
			t.Errorf("%s: %v, want %q (%v)", tc.name, err, tc.msg, tc.kind)
		}
	}
}

// TestReadingSentences checks that every rule of jcs.Parse a document can
// break has its sentence: all but invalid UTF-8, which Check refuses before
// reading, and a number beyond a double, which it reads.
func TestReadingSentences(t *testing.T) {
	for r := jcs.RuleEnd; r <= jcs.RuleSurrogate; r++ {
		_, ok := reading[r]
		if want := r != jcs.RuleUTF8 && r != jcs.RuleOverflow; ok != want {
			t.Errorf("rule %d: has a sentence %v, want %v", r, ok, want)
		}
	}
	if _, ok := reading[jcs.RuleSurrogate+1]; ok {
		t.Errorf("a sentence for rule %d, beyond the last", jcs.RuleSurrogate+1)
	}
}

// FuzzCheck: what Check reads, jcs reads too, and what jcs
// refuses as text, Check refuses; the seeds below and the fuzz target
// check it.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{good, `{"a":1,"a":2}`, `{"name":"\ud800"}`, `[1e400]`, `{"version":1.0}`, "\"\xff\"", `{"Version":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Check(b, testShape)
		_, jerr := jcs.Canonicalize(b)
		if !errors.Is(err, ErrSyntax) && !json.Valid(b) {
			t.Fatalf("read text that is not JSON: %q (%v)", b, err)
		}
		if err == nil && jerr != nil {
			t.Fatalf("accepted text jcs refuses: %q (%v)", b, jerr)
		}
		if errors.Is(err, ErrSyntax) && jerr == nil {
			t.Fatalf("refused as text what jcs reads: %q (%v)", b, err)
		}
		if err == nil {
			var m map[string]any
			if json.Unmarshal(b, &m) != nil {
				t.Fatalf("accepted text encoding/json cannot decode: %q", b)
			}
		}
	})
}

func TestMatchStruct(t *testing.T) {
	type item struct {
		Hash string `json:"hash"`
		Sum  string `json:"sum"`
	}
	type doc struct {
		Version int      `json:"version"`
		Name    string   `json:"name"`
		OK      bool     `json:"ok"`
		Items   []item   `json:"items"`
		Note    string   `json:"note,omitempty"`
		Tags    []string `json:"tags,omitempty"`
		Index   *int     `json:"index,omitempty"`
	}
	if err := MatchStruct(testShape, reflect.TypeFor[doc]()); err != nil {
		t.Fatal(err)
	}
	// A type that reads its own object stands for the Object shape.
	if err := MatchStruct(Object{{Name: "self", Shape: Object{{Name: "x", Shape: Int}}}}, reflect.TypeFor[struct {
		Self *selfReading `json:"self"`
	}]()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    Shape
		t    reflect.Type
	}{
		{"member without a field", append(append(Object{}, testShape...), Member{Name: "more", Shape: String}), reflect.TypeFor[doc]()},
		{"optional mismatch", Object{{Name: "note", Shape: String}}, reflect.TypeFor[struct {
			Note string `json:"note,omitempty"`
		}]()},
		{"field without a member", Object{}, reflect.TypeFor[struct {
			Note string `json:"note"`
		}]()},
		{"type mismatch", Object{{Name: "n", Shape: String}}, reflect.TypeFor[struct {
			N int `json:"n"`
		}]()},
		{"text type for an object", Object{{Name: "t", Shape: Object{{Name: "x", Shape: Int}}}}, reflect.TypeFor[struct {
			T textReading `json:"t"`
		}]()},
		{"nested mismatch", Object{{Name: "items", Shape: Array{Elem: Object{{Name: "hash", Shape: Int}, {Name: "sum", Shape: String}}}}}, reflect.TypeFor[struct {
			Items []item `json:"items"`
		}]()},
	} {
		if err := MatchStruct(tc.s, tc.t); err == nil {
			t.Errorf("%s: no mismatch found", tc.name)
		}
	}
}

// selfReading reads its own JSON object.
type selfReading struct{ x int }

func (s *selfReading) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &s.x) }

// textReading reads itself from a JSON string.
type textReading struct{ s string }

func (s *textReading) UnmarshalText(b []byte) error { s.s = string(b); return nil }
