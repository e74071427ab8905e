package strictjson

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kosh-reserve/kosh/proofs/jcs"
)

// MaxDepth is the deepest nesting of arrays and objects Check reads, as
// jcs.MaxDepth.
const MaxDepth = jcs.MaxDepth

// maxSafeInt is 2^53 − 1 in decimal: the largest integer every IEEE-754
// double, and so every JavaScript number, holds exactly.
const maxSafeInt = "9007199254740991"

// Sentinel errors: every *Error wraps one of them.
var (
	// ErrSyntax means the bytes are not one strict JSON value (phase 1).
	ErrSyntax = errors.New("not strict JSON")
	// ErrShape means the value does not have the document's shape
	// (phase 2).
	ErrShape = errors.New("not of the document's shape")
)

// Error is a failure of Check: a sentence fragment and its sentinel.
type Error struct {
	// Msg says what is wrong and where, e.g. `unknown member "Version"`.
	Msg string
	// Kind is ErrSyntax or ErrShape.
	Kind error
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Shape is what a JSON value must be: String, Int, Bool, an Object or an
// Array.
type Shape interface{ isShape() }

type scalar uint8

func (scalar) isShape() {}

// The scalar shapes.
var (
	// String is a JSON string.
	String Shape = scalar(kindString)
	// Int is a JSON number written as an integer of at most 2^53 − 1 in
	// magnitude (see the package documentation).
	Int Shape = scalar(kindNumber)
	// Bool is true or false.
	Bool Shape = scalar(kindTrue)
)

// Object is a JSON object with exactly these members, required unless
// marked Optional, in any order.
type Object []Member

func (Object) isShape() {}

// Member is one member of an Object.
type Member struct {
	// Name is the member name, matched exactly.
	Name string
	// Shape is what its value must be.
	Shape Shape
	// Optional members may be left out; when present they must not be ""
	// or [] (a document leaves an empty optional member out).
	Optional bool
}

// Array is a JSON array whose every element has shape Elem.
type Array struct {
	// Elem is the shape of each element.
	Elem Shape
}

func (Array) isShape() {}

// Check reads b strictly and checks it against shape s. It returns nil or
// an *Error wrapping ErrSyntax or ErrShape.
func Check(b []byte, s Shape) error {
	if !utf8.Valid(b) {
		return &Error{Msg: "invalid UTF-8", Kind: ErrSyntax}
	}
	p := parser{in: b}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return p.fail("unexpected data after the JSON value")
	}
	return check(&v, s, nil)
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

// value is a parsed JSON value. A number keeps its text.
type value struct {
	kind kind
	str  string // a string's value, a number's text
	arr  []value
	obj  []member
}

type member struct {
	name string
	val  value
}

type parser struct {
	in  []byte
	pos int
}

func (p *parser) fail(what string) error {
	return &Error{Msg: fmt.Sprintf("%s at byte offset %d", what, p.pos), Kind: ErrSyntax}
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
		return value{}, p.fail("unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.string()
		return value{kind: kindString, str: s}, err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return value{kind: kindTrue}, p.literal("true")
	case c == 'f':
		return value{kind: kindFalse}, p.literal("false")
	case c == 'n':
		return value{kind: kindNull}, p.literal("null")
	default:
		return value{}, p.fail("unexpected character")
	}
}

func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.in[p.pos:], []byte(lit)) {
		return p.fail("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *parser) object(depth int) (value, error) {
	if depth > MaxDepth {
		return value{}, p.fail(fmt.Sprintf("more than %d nested arrays and objects", MaxDepth))
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
			return value{}, p.fail("expected a member name")
		}
		start := p.pos
		name, err := p.string()
		if err != nil {
			return value{}, err
		}
		if _, dup := seen[name]; dup {
			p.pos = start
			return value{}, p.fail("member name " + quote(name) + " repeated")
		}
		seen[name] = struct{}{}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return value{}, p.fail("expected ':' after a member name")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value(depth)
		if err != nil {
			return value{}, err
		}
		v.obj = append(v.obj, member{name: name, val: val})
		p.skipSpace()
		if p.pos >= len(p.in) {
			return value{}, p.fail("unexpected end of input")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return value{}, p.fail("expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array(depth int) (value, error) {
	if depth > MaxDepth {
		return value{}, p.fail(fmt.Sprintf("more than %d nested arrays and objects", MaxDepth))
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
			return value{}, p.fail("unexpected end of input")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return value{}, p.fail("expected ',' or ']' in an array")
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans an RFC 8259 number and keeps its text.
func (p *parser) number() (value, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && isDigit(p.in[p.pos]) {
			p.pos++
			n++
		}
		return n
	}
	if p.in[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.in) && p.in[p.pos] == '0':
		p.pos++
	case digits() == 0:
		return value{}, p.fail("invalid number")
	}
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return value{}, p.fail("invalid number")
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return value{}, p.fail("invalid number")
		}
	}
	return value{kind: kindNumber, str: string(p.in[start:p.pos])}, nil
}

// string scans a string starting at its opening quote and returns its
// value. The input is valid UTF-8 (Check made sure).
func (p *parser) string() (string, error) {
	p.pos++ // '"'
	var sb strings.Builder
	for {
		if p.pos >= len(p.in) {
			return "", p.fail("unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return sb.String(), nil
		case c < 0x20:
			return "", p.fail("control character in a string")
		case c != '\\':
			sb.WriteByte(c)
			p.pos++
			continue
		}
		p.pos++ // '\\'
		if p.pos >= len(p.in) {
			return "", p.fail("unterminated string")
		}
		switch e := p.in[p.pos]; e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, ok := p.hex4(p.pos + 1)
			if !ok {
				return "", p.fail("invalid \\u escape")
			}
			switch {
			case utf16.IsSurrogate(r) && r < 0xdc00:
				lo, ok := p.hex4(p.pos + 7)
				if !ok || p.in[p.pos+5] != '\\' || p.in[p.pos+6] != 'u' || lo < 0xdc00 || lo > 0xdfff {
					return "", p.fail("lone UTF-16 surrogate")
				}
				r = utf16.DecodeRune(r, lo)
				p.pos += 6
			case utf16.IsSurrogate(r):
				return "", p.fail("lone UTF-16 surrogate")
			}
			sb.WriteRune(r)
			p.pos += 4
		default:
			return "", p.fail("invalid escape")
		}
		p.pos++
	}
}

// hex4 reads four hex digits at i.
func (p *parser) hex4(i int) (rune, bool) {
	if i+4 > len(p.in) {
		return 0, false
	}
	var r rune
	for _, c := range p.in[i : i+4] {
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// path is a member path, built only when a message needs it.
type path struct {
	up    *path
	name  string
	index int // -1 for a member
}

func (p *path) member(name string) *path { return &path{up: p, name: name, index: -1} }
func (p *path) elem(i int) *path         { return &path{up: p, index: i} }

// String writes the path as "a.b[2].c".
func (p *path) String() string {
	if p == nil {
		return ""
	}
	s := p.up.String()
	if p.index >= 0 {
		return s + "[" + strconv.Itoa(p.index) + "]"
	}
	if s == "" {
		return p.name
	}
	return s + "." + p.name
}

// quote writes s as a JSON string (RFC 8785), as JavaScript's
// JSON.stringify does for a string without lone surrogates.
func quote(s string) string { return string(jcs.AppendString(nil, s)) }

func shapeFail(at *path, what string) error {
	if at == nil {
		return &Error{Msg: "the top level " + what, Kind: ErrShape}
	}
	return &Error{Msg: quote(at.String()) + " " + what, Kind: ErrShape}
}

func check(v *value, s Shape, at *path) error {
	switch s := s.(type) {
	case scalar:
		switch kind(s) {
		case kindString:
			if v.kind != kindString {
				return shapeFail(at, "is not a string")
			}
		case kindTrue:
			if v.kind != kindTrue && v.kind != kindFalse {
				return shapeFail(at, "is not true or false")
			}
		case kindNumber:
			if v.kind != kindNumber || !isSafeInteger(v.str) {
				return shapeFail(at, "is not an integer")
			}
		}
		return nil
	case Array:
		if v.kind != kindArray {
			return shapeFail(at, "is not a list")
		}
		for i := range v.arr {
			if err := check(&v.arr[i], s.Elem, at.elem(i)); err != nil {
				return err
			}
		}
		return nil
	case Object:
		if v.kind != kindObject {
			return shapeFail(at, "is not an object")
		}
		for i := range v.obj {
			m := &v.obj[i]
			sm := s.find(m.name)
			if sm == nil {
				return unknown(s, at.member(m.name), m.name)
			}
			if sm.Optional && (m.val.kind == kindString && m.val.str == "" || m.val.kind == kindArray && len(m.val.arr) == 0) {
				return shapeFail(at.member(m.name), "is empty where it must be left out")
			}
			if err := check(&m.val, sm.Shape, at.member(m.name)); err != nil {
				return err
			}
		}
		var missing []string
		for _, sm := range s {
			if !sm.Optional && !slices.ContainsFunc(v.obj, func(m member) bool { return m.name == sm.Name }) {
				missing = append(missing, sm.Name)
			}
		}
		if len(missing) > 0 {
			return &Error{Msg: "missing member " + quote(at.member(slices.Min(missing)).String()), Kind: ErrShape}
		}
		return nil
	}
	panic(fmt.Sprintf("strictjson: unknown shape %T", s))
}

func (o Object) find(name string) *Member {
	for i := range o {
		if o[i].Name == name {
			return &o[i]
		}
	}
	return nil
}

// unknown reports a member the shape does not list, naming the member it
// differs from only in ASCII case, if any.
func unknown(o Object, at *path, name string) error {
	msg := "unknown member " + quote(at.String())
	for _, sm := range o {
		if asciiLower(sm.Name) == asciiLower(name) {
			msg += "; names are case-sensitive, and the format has " + quote(sm.Name)
			break
		}
	}
	return &Error{Msg: msg, Kind: ErrShape}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isSafeInteger says whether a number's text is an integer as Int requires:
// "0" or an optional "-" and digits without a leading zero, at most 2^53 − 1
// in magnitude.
func isSafeInteger(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || d[0] == '0' && (len(d) > 1 || len(s) > 1) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	return len(d) < len(maxSafeInt) || len(d) == len(maxSafeInt) && d <= maxSafeInt
}
