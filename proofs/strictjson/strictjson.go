package strictjson

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

type scalar jcs.Kind

func (scalar) isShape() {}

// The scalar shapes.
var (
	// String is a JSON string.
	String Shape = scalar(jcs.KindString)
	// Int is a JSON number written as an integer of at most 2^53 − 1 in
	// magnitude (see the package documentation).
	Int Shape = scalar(jcs.KindNumber)
	// Bool is true or false.
	Bool Shape = scalar(jcs.KindTrue)
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
	v, err := jcs.ParseOptions{AllowOverflow: true}.Parse(b)
	if err != nil {
		return readingError(err)
	}
	return check(&v, s, nil)
}

// reading is ErrSyntax's sentence for each jcs.Rule a document can break.
// RuleUTF8 and RuleOverflow are not among them: Check refuses invalid UTF-8
// before reading, and reads any number (Int judges it).
var reading = map[jcs.Rule]string{
	jcs.RuleEnd:           "unexpected end of input",
	jcs.RuleTrailing:      "unexpected data after the JSON value",
	jcs.RuleChar:          "unexpected character",
	jcs.RuleLiteral:       "invalid literal",
	jcs.RuleDepth:         fmt.Sprintf("more than %d nested arrays and objects", MaxDepth),
	jcs.RuleMemberName:    "expected a member name",
	jcs.RuleColon:         "expected ':' after a member name",
	jcs.RuleObjectSep:     "expected ',' or '}' in an object",
	jcs.RuleArraySep:      "expected ',' or ']' in an array",
	jcs.RuleDuplicate:     "member name %s repeated",
	jcs.RuleNumber:        "invalid number",
	jcs.RuleStringEnd:     "unterminated string",
	jcs.RuleControl:       "control character in a string",
	jcs.RuleEscape:        "invalid escape",
	jcs.RuleUnicodeEscape: "invalid \\u escape",
	jcs.RuleSurrogate:     "lone UTF-16 surrogate",
}

// readingError words a jcs.Parse error as phase 1 does: the sentence, and
// the byte offset jcs gives, except that a fault in an escape is placed at
// the character after its backslash.
func readingError(err error) error {
	var se *jcs.SyntaxError
	if !errors.As(err, &se) {
		return &Error{Msg: err.Error(), Kind: ErrSyntax}
	}
	what, ok := reading[se.Rule]
	if !ok {
		what = "invalid JSON"
	}
	if se.Rule == jcs.RuleDuplicate {
		what = fmt.Sprintf(what, quote(se.Name))
	}
	at := se.Offset
	if se.Escape >= 0 {
		at = se.Escape + 1
	}
	return &Error{Msg: fmt.Sprintf("%s at byte offset %d", what, at), Kind: ErrSyntax}
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

func check(v *jcs.Value, s Shape, at *path) error {
	switch s := s.(type) {
	case scalar:
		switch jcs.Kind(s) {
		case jcs.KindString:
			if v.Kind != jcs.KindString {
				return shapeFail(at, "is not a string")
			}
		case jcs.KindTrue:
			if v.Kind != jcs.KindTrue && v.Kind != jcs.KindFalse {
				return shapeFail(at, "is not true or false")
			}
		case jcs.KindNumber:
			if v.Kind != jcs.KindNumber || !isSafeInteger(v.Text) {
				return shapeFail(at, "is not an integer")
			}
		}
		return nil
	case Array:
		if v.Kind != jcs.KindArray {
			return shapeFail(at, "is not a list")
		}
		for i := range v.Elems {
			if err := check(&v.Elems[i], s.Elem, at.elem(i)); err != nil {
				return err
			}
		}
		return nil
	case Object:
		if v.Kind != jcs.KindObject {
			return shapeFail(at, "is not an object")
		}
		for i := range v.Members {
			m := &v.Members[i]
			sm := s.find(m.Name)
			if sm == nil {
				return unknown(s, at.member(m.Name), m.Name)
			}
			if sm.Optional && (m.Value.Kind == jcs.KindString && m.Value.Text == "" || m.Value.Kind == jcs.KindArray && len(m.Value.Elems) == 0) {
				return shapeFail(at.member(m.Name), "is empty where it must be left out")
			}
			if err := check(&m.Value, sm.Shape, at.member(m.Name)); err != nil {
				return err
			}
		}
		var missing []string
		for _, sm := range s {
			if !sm.Optional && !slices.ContainsFunc(v.Members, func(m jcs.Member) bool { return m.Name == sm.Name }) {
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
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return len(d) < len(maxSafeInt) || len(d) == len(maxSafeInt) && d <= maxSafeInt
}
