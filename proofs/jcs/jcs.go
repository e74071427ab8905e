package jcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects Canonicalize accepts.
const MaxDepth = 512

// Errors returned (wrapped, with the byte offset) by Canonicalize. Callers may
// test for them with errors.Is.
var (
	// ErrSyntax reports input that is not RFC 8259 JSON.
	ErrSyntax = errors.New("invalid JSON syntax")
	// ErrInvalidUTF8 reports a byte sequence that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrLoneSurrogate reports a \u escape of a UTF-16 surrogate that is not
	// part of a valid surrogate pair.
	ErrLoneSurrogate = errors.New("lone UTF-16 surrogate")
	// ErrDuplicateKey reports an object with two members of the same name.
	ErrDuplicateKey = errors.New("duplicate object member name")
	// ErrNumber reports a number outside the I-JSON domain (its magnitude
	// overflows an IEEE-754 double), or a non-finite float given to
	// FormatNumber.
	ErrNumber = errors.New("number outside I-JSON range")
	// ErrTooDeep reports nesting deeper than MaxDepth.
	ErrTooDeep = errors.New("nesting too deep")
)

// Canonicalize parses the JSON text in and returns its RFC 8785 canonical
// form. It fails, without repairing anything, on input that is not I-JSON:
// invalid UTF-8, lone surrogates, duplicate member names, numbers that
// overflow a double, or trailing data after the value.
func Canonicalize(in []byte) ([]byte, error) {
	p := parser{in: in}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return nil, p.fail(ErrSyntax, "unexpected data after the JSON value")
	}
	out := make([]byte, 0, len(in))
	return v.appendTo(out), nil
}

// IsCanonical reports whether b is valid I-JSON already in RFC 8785
// canonical form, i.e. Canonicalize(b) succeeds and returns b unchanged.
func IsCanonical(b []byte) bool {
	c, err := Canonicalize(b)
	return err == nil && bytes.Equal(c, b)
}

// Marshal encodes v with encoding/json and returns the canonical form of the
// result. Kosh's documents use it to produce the bytes they sign; their
// amounts are strings (see the package documentation), so no precision is
// lost in encoding/json's float64 handling.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("jcs: encode %T: %w", v, err)
	}
	return Canonicalize(b)
}

type kind uint8

const (
	kindNull kind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is a parsed JSON value.
type value struct {
	kind kind
	num  float64
	str  string
	arr  []value
	obj  []member
}

type member struct {
	name  string
	units []uint16 // name as UTF-16 code units, the RFC 8785 sort key
	val   value
}

type parser struct {
	in  []byte
	pos int
}

func (p *parser) fail(kind error, what string) error {
	return fmt.Errorf("jcs: %s at byte offset %d: %w", what, p.pos, kind)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (value, error) {
	if p.pos >= len(p.in) {
		return value{}, p.fail(ErrSyntax, "unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.string()
		return value{kind: kindString, str: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 'n':
		return value{kind: kindNull}, p.literal("null")
	case c == 't':
		return value{kind: kindTrue}, p.literal("true")
	case c == 'f':
		return value{kind: kindFalse}, p.literal("false")
	default:
		return value{}, p.fail(ErrSyntax, fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.in[p.pos:], []byte(lit)) {
		return p.fail(ErrSyntax, "invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *parser) object(depth int) (value, error) {
	if depth > MaxDepth {
		return value{}, p.fail(ErrTooDeep, fmt.Sprintf("more than %d nested arrays and objects", MaxDepth))
	}
	p.pos++ // '{'
	v := value{kind: kindObject}
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	seen := make(map[string]struct{})
	for {
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return value{}, p.fail(ErrSyntax, "expected a member name")
		}
		start := p.pos
		name, err := p.string()
		if err != nil {
			return value{}, err
		}
		if _, dup := seen[name]; dup {
			p.pos = start
			return value{}, p.fail(ErrDuplicateKey, fmt.Sprintf("member name %q repeated", name))
		}
		seen[name] = struct{}{}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return value{}, p.fail(ErrSyntax, "expected ':' after a member name")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value(depth)
		if err != nil {
			return value{}, err
		}
		v.obj = append(v.obj, member{name: name, units: utf16.Encode([]rune(name)), val: val})
		p.skipSpace()
		if p.pos >= len(p.in) {
			return value{}, p.fail(ErrSyntax, "unterminated object")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			slices.SortFunc(v.obj, func(a, b member) int { return slices.Compare(a.units, b.units) })
			return v, nil
		default:
			return value{}, p.fail(ErrSyntax, "expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array(depth int) (value, error) {
	if depth > MaxDepth {
		return value{}, p.fail(ErrTooDeep, fmt.Sprintf("more than %d nested arrays and objects", MaxDepth))
	}
	p.pos++ // '['
	v := value{kind: kindArray}
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		el, err := p.value(depth)
		if err != nil {
			return value{}, err
		}
		v.arr = append(v.arr, el)
		p.skipSpace()
		if p.pos >= len(p.in) {
			return value{}, p.fail(ErrSyntax, "unterminated array")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return value{}, p.fail(ErrSyntax, "expected ',' or ']' in an array")
		}
	}
}

// number scans an RFC 8259 number and converts it to the nearest double, as
// JavaScript's JSON.parse does.
func (p *parser) number() (value, error) {
	start := p.pos
	in := p.in
	digits := func() int {
		n := 0
		for p.pos < len(in) && in[p.pos] >= '0' && in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if in[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(in) && in[p.pos] == '0':
		p.pos++
	case p.pos < len(in) && in[p.pos] >= '1' && in[p.pos] <= '9':
		digits()
	default:
		return value{}, p.fail(ErrSyntax, "invalid number")
	}
	if p.pos < len(in) && in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return value{}, p.fail(ErrSyntax, "invalid number: no digits after the decimal point")
		}
	}
	if p.pos < len(in) && (in[p.pos] == 'e' || in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(in) && (in[p.pos] == '+' || in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return value{}, p.fail(ErrSyntax, "invalid number: no digits in the exponent")
		}
	}
	text := string(in[start:p.pos])
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		// The grammar above admits only what ParseFloat accepts, so the
		// one error left is a magnitude beyond the largest double.
		// (Underflow rounds to zero or a subnormal without error, as in
		// JavaScript.)
		p.pos = start
		return value{}, p.fail(ErrNumber, fmt.Sprintf("number %s overflows a double", text))
	}
	return value{kind: kindNumber, num: f}, nil
}

// string scans a JSON string starting at its opening quote and returns its
// decoded value.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	var buf []byte
	for {
		if p.pos >= len(p.in) {
			return "", p.fail(ErrSyntax, "unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
		case c < 0x20:
			return "", p.fail(ErrSyntax, "unescaped control character in a string")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.fail(ErrInvalidUTF8, "invalid UTF-8 in a string")
			}
			buf = append(buf, p.in[p.pos:p.pos+size]...)
			p.pos += size
		}
	}
}

// escape decodes one backslash escape, joining a \u surrogate pair into one
// rune.
func (p *parser) escape() (rune, error) {
	if p.pos+1 >= len(p.in) {
		return 0, p.fail(ErrSyntax, "unterminated escape")
	}
	var r rune
	switch c := p.in[p.pos+1]; c {
	case '"', '\\', '/':
		r = rune(c)
	case 'b':
		r = '\b'
	case 'f':
		r = '\f'
	case 'n':
		r = '\n'
	case 'r':
		r = '\r'
	case 't':
		r = '\t'
	case 'u':
		return p.unicodeEscape()
	default:
		return 0, p.fail(ErrSyntax, fmt.Sprintf("invalid escape \\%c", c))
	}
	p.pos += 2
	return r, nil
}

// unicodeEscape decodes a \uXXXX escape, or a \uXXXX\uXXXX surrogate pair.
func (p *parser) unicodeEscape() (rune, error) {
	r1, err := p.hex4()
	if err != nil {
		return 0, err
	}
	switch {
	case !utf16.IsSurrogate(r1):
		return r1, nil
	case r1 >= 0xDC00:
		p.pos -= 6
		return 0, p.fail(ErrLoneSurrogate, fmt.Sprintf("low surrogate \\u%04x without a high surrogate", r1))
	}
	if p.pos+1 >= len(p.in) || p.in[p.pos] != '\\' || p.in[p.pos+1] != 'u' {
		p.pos -= 6
		return 0, p.fail(ErrLoneSurrogate, fmt.Sprintf("high surrogate \\u%04x not followed by a low surrogate", r1))
	}
	r2, err := p.hex4()
	if err != nil {
		return 0, err
	}
	r := utf16.DecodeRune(r1, r2)
	if r == utf8.RuneError {
		p.pos -= 12
		return 0, p.fail(ErrLoneSurrogate, fmt.Sprintf("high surrogate \\u%04x followed by \\u%04x", r1, r2))
	}
	return r, nil
}

// hex4 decodes the \uXXXX escape at p.pos.
func (p *parser) hex4() (rune, error) {
	if p.pos+6 > len(p.in) {
		return 0, p.fail(ErrSyntax, "truncated \\u escape")
	}
	var r rune
	for _, c := range p.in[p.pos+2 : p.pos+6] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.fail(ErrSyntax, "invalid hex digit in a \\u escape")
		}
	}
	p.pos += 6
	return r, nil
}

func (v *value) appendTo(b []byte) []byte {
	switch v.kind {
	case kindNull:
		return append(b, "null"...)
	case kindTrue:
		return append(b, "true"...)
	case kindFalse:
		return append(b, "false"...)
	case kindNumber:
		// Finite by construction (the parser rejects overflow).
		return appendNumber(b, v.num)
	case kindString:
		return appendString(b, v.str)
	case kindArray:
		b = append(b, '[')
		for i := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.arr[i].appendTo(b)
		}
		return append(b, ']')
	default: // kindObject, members already sorted
		b = append(b, '{')
		for i := range v.obj {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v.obj[i].name)
			b = append(b, ':')
			b = v.obj[i].val.appendTo(b)
		}
		return append(b, '}')
	}
}

// AppendString appends s, which must be valid UTF-8, as an RFC 8785 string:
// '"' and '\\' escaped, control characters as their short escape or
// \u00xx, everything else literal. Hand-written canonical encoders of
// fixed document shapes use it.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// appendString writes s (valid UTF-8) as an RFC 8785 string: '"' and '\\'
// escaped, control characters as their short escape or \u00xx, everything
// else literal.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
