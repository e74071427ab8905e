package jcs

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"unicode/utf16"
)

func TestParse(t *testing.T) {
	in := `{"b": [1.50E+3, "x\u00e9", null], "a": {"t": true, "f": false}, "\ud83d\ude00": -0}`
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Value{Kind: KindObject, Offset: 0, Members: []Member{
		{Name: "b", Value: Value{Kind: KindArray, Offset: 6, Elems: []Value{
			{Kind: KindNumber, Offset: 7, Text: "1.50E+3", num: 1500},
			{Kind: KindString, Offset: 16, Text: "xé"},
			{Kind: KindNull, Offset: 27},
		}}},
		{Name: "a", Value: Value{Kind: KindObject, Offset: 39, Members: []Member{
			{Name: "t", Value: Value{Kind: KindTrue, Offset: 45}},
			{Name: "f", Value: Value{Kind: KindFalse, Offset: 56}},
		}}},
		{Name: "😀", Value: Value{Kind: KindNumber, Offset: 80, Text: "-0"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%s)\n got %+v\nwant %+v", in, got, want)
	}
}

func TestParseOptions(t *testing.T) {
	in := []byte(`[1e400,-1e400]`)
	if _, err := Parse(in); !errors.Is(err, ErrNumber) {
		t.Fatalf("Parse(%s) error = %v, want ErrNumber", in, err)
	}
	v, err := ParseOptions{AllowOverflow: true}.Parse(in)
	if err != nil {
		t.Fatalf("AllowOverflow: %v", err)
	}
	if len(v.Elems) != 2 || v.Elems[0].Text != "1e400" || v.Elems[1].Text != "-1e400" {
		t.Fatalf("AllowOverflow read %+v", v)
	}
	// Every other rule holds as without the option.
	if _, err := (ParseOptions{AllowOverflow: true}).Parse([]byte(`[1e400,1e400,{"a":1,"a":1}]`)); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("AllowOverflow: error = %v, want ErrDuplicateKey", err)
	}
}

// TestSyntaxError checks the fields readers with their own wording use.
func TestSyntaxError(t *testing.T) {
	tests := []struct {
		in             string
		rule           Rule
		offset, escape int
		name           string
	}{
		{``, RuleEnd, 0, -1, ""},
		{`{"a":1`, RuleEnd, 6, -1, ""},
		{`[1] x`, RuleTrailing, 4, -1, ""},
		{`[+1]`, RuleChar, 1, -1, ""},
		{`nul`, RuleLiteral, 0, -1, ""},
		{"[[[", RuleEnd, 3, -1, ""},
		{`{1:2}`, RuleMemberName, 1, -1, ""},
		{`{"a" 2}`, RuleColon, 5, -1, ""},
		{`{"a":2 "b"}`, RuleObjectSep, 7, -1, ""},
		{`[2 3]`, RuleArraySep, 3, -1, ""},
		{`{"x":{"a\u00e9":1, "aé":2}}`, RuleDuplicate, 19, -1, "aé"},
		{`[01]`, RuleArraySep, 2, -1, ""},
		{`[1.e5]`, RuleNumber, 3, -1, ""},
		{`[0,1e999]`, RuleOverflow, 3, -1, ""},
		{`["ab`, RuleStringEnd, 4, -1, ""},
		{`["ab\`, RuleStringEnd, 4, 4, ""},
		{"[\"\t\"]", RuleControl, 2, -1, ""},
		{"[\"\xc3\"]", RuleUTF8, 2, -1, ""},
		{`["a\a"]`, RuleEscape, 3, 3, ""},
		{`["a\u00"]`, RuleUnicodeEscape, 3, 3, ""},
		{`["a\udc00"]`, RuleSurrogate, 3, 3, ""},
		{`["a\ud800\n"]`, RuleSurrogate, 3, 3, ""},
		{`["a\ud800\u0041"]`, RuleSurrogate, 3, 3, ""},
		{`["a\ud800\u00"]`, RuleSurrogate, 9, 3, ""},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Rule != tt.rule || se.Offset != tt.offset || se.Escape != tt.escape || se.Name != tt.name {
			t.Errorf("Parse(%q) = rule %d offset %d escape %d name %q, want %d %d %d %q",
				tt.in, se.Rule, se.Offset, se.Escape, se.Name, tt.rule, tt.offset, tt.escape, tt.name)
		}
	}
	deep := make([]byte, MaxDepth+1)
	for i := range deep {
		deep[i] = '['
	}
	if _, err := Parse(deep); err == nil || err.(*SyntaxError).Rule != RuleDepth {
		t.Errorf("Parse(%d '[') error = %v, want RuleDepth", len(deep), err)
	}
}

// TestCompareUTF16 compares compareUTF16 with the order of UTF-16 code unit
// arrays on all strings of up to two code points from a set that covers
// every length of UTF-8 sequence and both sides of the surrogate range.
func TestCompareUTF16(t *testing.T) {
	runes := []rune{'A', 'a', 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfb33, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x1f601, 0x10ffff}
	strs := []string{""}
	for _, r := range runes {
		strs = append(strs, string(r))
		for _, r2 := range runes {
			strs = append(strs, string([]rune{r, r2}))
		}
	}
	for _, a := range strs {
		for _, b := range strs {
			want := slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
			if got := compareUTF16(a, b); got != want {
				t.Fatalf("compareUTF16(%+q, %+q) = %d, want %d", a, b, got, want)
			}
		}
	}
}
