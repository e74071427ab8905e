package jcs

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vectorDir = "../../testdata/jcs"

// TestReferenceVectors checks the RFC 8785 and cyberphone reference inputs
// canonicalize to their reference outputs byte for byte.
func TestReferenceVectors(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(vectorDir, "input", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 9 {
		t.Fatalf("found %d input vectors, want at least 9", len(inputs))
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(vectorDir, "output", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Canonicalize(src)
			if err != nil {
				t.Fatalf("Canonicalize: %v", err)
			}
			if string(got) != string(want) {
				t.Fatalf("Canonicalize mismatch\n got: %q\nwant: %q", got, want)
			}
			if !IsCanonical(want) {
				t.Errorf("IsCanonical(output) = false")
			}
			if IsCanonical(src) {
				t.Errorf("IsCanonical(input) = true for a non-canonical input")
			}
		})
	}
}

// readNumberVectors reads "hex expected" lines.
func readNumberVectors(t *testing.T, name string) (bits []uint64, want []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		h, s, ok := strings.Cut(line, " ")
		raw, err := hex.DecodeString(h)
		if !ok || err != nil || len(raw) != 8 {
			t.Fatalf("bad vector line %q", line)
		}
		bits = append(bits, binary.BigEndian.Uint64(raw))
		want = append(want, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return bits, want
}

func testNumberFile(t *testing.T, name string, min int) {
	bits, want := readNumberVectors(t, name)
	if len(bits) < min {
		t.Fatalf("%s: %d vectors, want at least %d", name, len(bits), min)
	}
	for i, b := range bits {
		f := math.Float64frombits(b)
		got, err := FormatNumber(f)
		if want[i] == "error" {
			if !errors.Is(err, ErrNumber) {
				t.Errorf("%016x: FormatNumber = %q, %v; want ErrNumber", b, got, err)
			}
			continue
		}
		if err != nil || got != want[i] {
			t.Errorf("%016x: FormatNumber = %q, %v; want %q", b, got, err, want[i])
			continue
		}
		// The canonical text must itself parse back to the same double
		// and be a fixed point of Canonicalize.
		c, err := Canonicalize([]byte(want[i]))
		if err != nil || string(c) != want[i] {
			t.Errorf("Canonicalize(%q) = %q, %v", want[i], c, err)
		}
	}
}

// TestAppendixBNumbers checks the RFC 8785 Appendix B number samples.
func TestAppendixBNumbers(t *testing.T) { testNumberFile(t, "numbers.txt", 26) }

// TestES6Numbers checks FormatNumber against Node.js's String(x).
func TestES6Numbers(t *testing.T) { testNumberFile(t, "es6numbers.txt", 2000) }

func TestFormatNumber(t *testing.T) {
	point1, point2 := 0.1, 0.2 // variables: constant arithmetic would be exact
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{1, "1"},
		{-1, "-1"},
		{56.0, "56"},
		{4.5, "4.5"},
		{0.002, "0.002"},
		{1e-27, "1e-27"},
		{1e30, "1e+30"},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{123456789012345680000, "123456789012345680000"},
		{1.5e21, "1.5e+21"},
		{1e-6, "0.000001"},
		{1.5e-6, "0.0000015"},
		{1e-7, "1e-7"},
		{1.25e-7, "1.25e-7"},
		{1 << 53, "9007199254740992"},
		{1<<53 + 2, "9007199254740994"},
		{2100000000000000, "2100000000000000"},
		{point1 + point2, "0.30000000000000004"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.SmallestNonzeroFloat64, "5e-324"},
		{-333333333.3333333, "-333333333.3333333"},
	}
	for _, tt := range tests {
		got, err := FormatNumber(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := FormatNumber(bad); !errors.Is(err, ErrNumber) {
			t.Errorf("FormatNumber(%v) error = %v, want ErrNumber", bad, err)
		}
	}
}

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"scalar null", ` null `, `null`},
		{"scalar string", `"x"`, `"x"`},
		{"scalar number", `-0.0e0`, `0`},
		{"empty object", `{ }`, `{}`},
		{"empty array", "[\t\r\n]", `[]`},
		{"nested sort", `{"b":{"d":1,"c":2},"a":[{"z":0,"y":1}]}`, `{"a":[{"y":1,"z":0}],"b":{"c":2,"d":1}}`},
		{"sort is by code unit not length", `{"aa":1,"a":2,"b":3,"":4}`, `{"":4,"a":2,"aa":1,"b":3}`},
		{"uppercase first", `{"a":1,"B":2}`, `{"B":2,"a":1}`},
		{"astral before U+E000", `{"\ue000":1,"\ud83d\ude00":2}`, "{\"😀\":2,\"\ue000\":1}"},
		{"amounts as strings unchanged", `{"amount_sat":"2100000000000000"}`, `{"amount_sat":"2100000000000000"}`},
		{"exponent forms", `[1E2,1e+2,100.0,1000000000000000000000,0.0000001]`, `[100,100,100,1e+21,1e-7]`},
		{"underflow to zero", `[1e-400,-1e-400]`, `[0,0]`},
		{"precision rounds like JavaScript", `9007199254740993`, `9007199254740992`},
		{"short escapes", `"\b\t\n\f\r"`, `"\b\t\n\f\r"`},
		{"other controls lower-case hex", `"\u0000\u001F\u000B"`, `"\u0000\u001f\u000b"`},
		{"solidus unescaped", `"\/"`, `"/"`},
		{"DEL and U+2028 literal", `"\u007f\u2028"`, "\"\x7f\u2028\""},
		{"non-ASCII literal", `"\u00e9"`, `"é"`},
		{"raw non-ASCII kept", `"é😀"`, `"é😀"`},
		{"no normalization", `{"e\u0301":1,"\u00e9":2}`, "{\"e\u0301\":1,\"\u00e9\":2}"},
		{"quote and backslash", `"\"\\"`, `"\"\\"`},
		{"html not escaped", `"<&>"`, `"<&>"`},
		{"U+FFFD literal is fine", "\"\uFFFD\"", "\"\uFFFD\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Fatalf("Canonicalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !IsCanonical(got) {
				t.Errorf("IsCanonical(%q) = false", got)
			}
		})
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", ``, ErrSyntax},
		{"only space", `  `, ErrSyntax},
		{"trailing data", `{} {}`, ErrSyntax},
		{"trailing comma array", `[1,]`, ErrSyntax},
		{"trailing comma object", `{"a":1,}`, ErrSyntax},
		{"single quotes", `{'a':1}`, ErrSyntax},
		{"unquoted key", `{a:1}`, ErrSyntax},
		{"leading zero", `01`, ErrSyntax},
		{"leading plus", `+1`, ErrSyntax},
		{"bare dot", `.5`, ErrSyntax},
		{"dot without digits", `1.`, ErrSyntax},
		{"exponent without digits", `1e`, ErrSyntax},
		{"NaN", `NaN`, ErrSyntax},
		{"Infinity", `Infinity`, ErrSyntax},
		{"minus only", `-`, ErrSyntax},
		{"hex number", `0x10`, ErrSyntax},
		{"bad literal", `nul`, ErrSyntax},
		{"raw control char", "\"a\x01\"", ErrSyntax},
		{"raw newline", "\"a\nb\"", ErrSyntax},
		{"bad escape", `"\x41"`, ErrSyntax},
		{"short unicode escape", `"\u12"`, ErrSyntax},
		{"non-hex unicode escape", `"\u12g4"`, ErrSyntax},
		{"unterminated string", `"abc`, ErrSyntax},
		{"unterminated object", `{"a":1`, ErrSyntax},
		{"unterminated array", `[1`, ErrSyntax},
		{"missing colon", `{"a" 1}`, ErrSyntax},
		{"BOM", "\ufeff{}", ErrSyntax},
		{"comment", `{} // x`, ErrSyntax},
		{"invalid UTF-8 byte", "\"\xff\"", ErrInvalidUTF8},
		{"truncated UTF-8", "\"\xe2\x82\"", ErrInvalidUTF8},
		{"overlong UTF-8", "\"\xc0\xaf\"", ErrInvalidUTF8},
		{"raw UTF-8 surrogate", "\"\xed\xa0\x80\"", ErrInvalidUTF8},
		{"invalid UTF-8 in key", "{\"\xff\":1}", ErrInvalidUTF8},
		{"lone high surrogate", `"\ud800"`, ErrLoneSurrogate},
		{"lone high surrogate then text", `"\ud800abcdef"`, ErrLoneSurrogate},
		{"lone low surrogate", `"\udc00"`, ErrLoneSurrogate},
		{"high then high", `"\ud800\ud800"`, ErrLoneSurrogate},
		{"high then BMP escape", `"\ud83d\u0041"`, ErrLoneSurrogate},
		{"reversed pair", `"\ude00\ud83d"`, ErrLoneSurrogate},
		{"duplicate key", `{"a":1,"a":2}`, ErrDuplicateKey},
		{"duplicate key after unescape", `{"a":1,"\u0061":2}`, ErrDuplicateKey},
		{"duplicate nested", `[{"x":{"k":1,"k":1}}]`, ErrDuplicateKey},
		{"overflow", `1e309`, ErrNumber},
		{"negative overflow", `[-1.8e308]`, ErrNumber},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Canonicalize(%q) = %q, %v; want error %v", tt.in, got, err, tt.want)
			}
			if IsCanonical([]byte(tt.in)) {
				t.Errorf("IsCanonical(%q) = true for invalid input", tt.in)
			}
		})
	}
}

func TestDepthLimitBoundary(t *testing.T) {
	in := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Canonicalize([]byte(in)); err != nil {
		t.Fatalf("depth %d rejected: %v", MaxDepth, err)
	}
	obj := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	if _, err := Canonicalize([]byte(obj)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("object depth %d: err = %v, want ErrTooDeep", MaxDepth+1, err)
	}
}

func TestIsCanonical(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"a":1,"b":2}`, true},
		{`{"b":2,"a":1}`, false},
		{`{"a":1, "b":2}`, false},
		{`{"a":1,"b":2}` + "\n", false},
		{`[1.0]`, false},
		{`[1]`, true},
		{`"\u00e9"`, false},
		{`"é"`, true},
		{`"\u001F"`, false},
		{`"\u001f"`, true},
		{`{"a":1,"a":1}`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := IsCanonical([]byte(tt.in)); got != tt.want {
			t.Errorf("IsCanonical(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMarshal(t *testing.T) {
	type reserve struct {
		Outpoint  string `json:"outpoint"`
		AmountSat string `json:"amount_sat"`
	}
	doc := struct {
		Version  int       `json:"version"`
		Reserves []reserve `json:"reserves"`
		Note     string    `json:"note"`
	}{1, []reserve{{"ab:0", "2100000000000000"}}, "<&>"}
	got, err := Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"note":"<&>","reserves":[{"amount_sat":"2100000000000000","outpoint":"ab:0"}],"version":1}`
	if string(got) != want {
		t.Fatalf("Marshal = %s, want %s", got, want)
	}
	if _, err := Marshal(math.NaN()); err == nil {
		t.Fatal("Marshal(NaN) succeeded")
	}
}

// TestErrorText pins the message of every way Canonicalize refuses input:
// each names what is wrong and its byte offset (for an escape, that of its
// backslash; for a surrogate pair, that of the first), then the sentinel.
func TestErrorText(t *testing.T) {
	const syntax, utf8, lone, dup, num = ": invalid JSON syntax", ": invalid UTF-8", ": lone UTF-16 surrogate", ": duplicate object member name", ": number outside I-JSON range"
	tests := []struct{ in, want string }{
		{``, "unexpected end of input at byte offset 0" + syntax},
		{`{"a":`, "unexpected end of input at byte offset 5" + syntax},
		{`[`, "unexpected end of input at byte offset 1" + syntax},
		{`{} {}`, "unexpected data after the JSON value at byte offset 3" + syntax},
		{`[1,]`, "unexpected character ']' at byte offset 3" + syntax},
		{"\ufeff{}", "unexpected character 'ï' at byte offset 0" + syntax},
		{`[tru]`, "invalid literal at byte offset 1" + syntax},
		{`{"a":1,}`, "expected a member name at byte offset 7" + syntax},
		{`{`, "expected a member name at byte offset 1" + syntax},
		{`{"a"`, "expected ':' after a member name at byte offset 4" + syntax},
		{`{"a":1 "b"}`, "expected ',' or '}' in an object at byte offset 7" + syntax},
		{`{"a":1`, "unterminated object at byte offset 6" + syntax},
		{`[1 2]`, "expected ',' or ']' in an array at byte offset 3" + syntax},
		{`[1`, "unterminated array at byte offset 2" + syntax},
		{`[-]`, "invalid number at byte offset 2" + syntax},
		{`1.`, "invalid number: no digits after the decimal point at byte offset 2" + syntax},
		{`1e+`, "invalid number: no digits in the exponent at byte offset 3" + syntax},
		{`[-1.8e308]`, "number -1.8e308 overflows a double at byte offset 1" + num},
		{`[1e400,"\ud800"]`, "number 1e400 overflows a double at byte offset 1" + num},
		{`"abc`, "unterminated string at byte offset 4" + syntax},
		{"\"a\x01\"", "unescaped control character in a string at byte offset 2" + syntax},
		{"{\"\xff\":1}", "invalid UTF-8 in a string at byte offset 2" + utf8},
		{"[\xff]", "unexpected character 'ÿ' at byte offset 1" + syntax},
		{`"\`, "unterminated escape at byte offset 1" + syntax},
		{`{"a":[1,{"b":"\q"}]}`, `invalid escape \q at byte offset 14` + syntax},
		{`"\u12"`, `truncated \u escape at byte offset 1` + syntax},
		{`"\u12g4"`, `invalid hex digit in a \u escape at byte offset 1` + syntax},
		{`"\udc00"`, `low surrogate \udc00 without a high surrogate at byte offset 1` + lone},
		{`"\ud800abcdef"`, `high surrogate \ud800 not followed by a low surrogate at byte offset 1` + lone},
		{`"\ud800\`, `high surrogate \ud800 not followed by a low surrogate at byte offset 1` + lone},
		{`"\ud83d\u0041"`, `high surrogate \ud83d followed by \u0041 at byte offset 1` + lone},
		{`"\ud800\u12"`, `truncated \u escape at byte offset 7` + syntax},
		{`"\ud800\u12g4"`, `invalid hex digit in a \u escape at byte offset 7` + syntax},
		{`{"a":1,"\u0061":2}`, `member name "a" repeated at byte offset 7` + dup},
		{`{"\u0001\ud83d\ude00":1,"\u0001\ud83d\ude00":2}`, `member name "\x01😀" repeated at byte offset 24` + dup},
		{strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1), "more than 512 nested arrays and objects at byte offset 2560: nesting too deep"},
	}
	for _, tt := range tests {
		_, err := Canonicalize([]byte(tt.in))
		if err == nil || err.Error() != "jcs: "+tt.want {
			t.Errorf("Canonicalize(%q) error = %v, want %q", tt.in, err, "jcs: "+tt.want)
		}
	}
}
