package jcs

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// MaxDepth is the deepest nesting of arrays and objects Parse and
// Canonicalize accept.
const MaxDepth = 512

// Errors that Parse and Canonicalize return, wrapped in a *SyntaxError with
// the byte offset. Callers may test for them with errors.Is.
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
	v, err := Parse(in)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(in))
	return v.appendCanonical(out), nil
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

// appendCanonical appends v in canonical form, sorting the members of its
// objects in place.
func (v *Value) appendCanonical(b []byte) []byte {
	switch v.Kind {
	case KindNull:
		return append(b, "null"...)
	case KindTrue:
		return append(b, "true"...)
	case KindFalse:
		return append(b, "false"...)
	case KindNumber:
		// Finite: Canonicalize parses without AllowOverflow.
		return appendNumber(b, v.num)
	case KindString:
		return appendString(b, v.Text)
	case KindArray:
		b = append(b, '[')
		for i := range v.Elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.Elems[i].appendCanonical(b)
		}
		return append(b, ']')
	default: // KindObject
		slices.SortFunc(v.Members, func(x, y Member) int { return compareUTF16(x.Name, y.Name) })
		b = append(b, '{')
		for i := range v.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v.Members[i].Name)
			b = append(b, ':')
			b = v.Members[i].Value.appendCanonical(b)
		}
		return append(b, '}')
	}
}

// compareUTF16 compares two valid UTF-8 strings as arrays of UTF-16 code
// units, the RFC 8785 order of member names. Byte order of UTF-8 is code
// point order, which is code unit order but for one exception: a code
// point above U+FFFF (a surrogate pair, whose first unit is 0xD800 to
// 0xDBFF) sorts before U+E000 to U+FFFF. The first bytes of their UTF-8
// forms are 0xF0 to 0xF4 and 0xEE or 0xEF.
func compareUTF16(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmp.Compare(len(a), len(b))
	}
	// The code points that differ start at the same byte in both, the
	// last one before i that is not a continuation byte (10xxxxxx).
	lead := i
	for lead > 0 && a[lead]&0xC0 == 0x80 {
		lead--
	}
	x, y := a[lead], b[lead]
	switch {
	case x >= 0xF0 && y >= 0xEE && y <= 0xEF:
		return -1
	case y >= 0xF0 && x >= 0xEE && x <= 0xEF:
		return 1
	}
	return cmp.Compare(a[i], b[i])
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
