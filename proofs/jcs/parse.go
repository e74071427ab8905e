package jcs

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the JSON type of a Value.
type Kind uint8

// The JSON types.
const (
	KindNull Kind = iota
	KindFalse
	KindTrue
	KindNumber
	KindString
	KindArray
	KindObject
)

// Value is a JSON value as Parse read it.
type Value struct {
	// Kind is its JSON type.
	Kind Kind
	// Offset is the byte offset of its first byte in the input.
	Offset int
	// Text is a string's value, unescaped, or a number's text exactly as
	// written ("-0", "1.50E+3").
	Text string
	// Elems are an array's elements, in order.
	Elems []Value
	// Members are an object's members, in document order.
	Members []Member

	num float64 // a number's nearest double, when Parse checked its range
}

// Member is one member of an object.
type Member struct {
	// Name is the member name, unescaped.
	Name string
	// Value is the member's value.
	Value Value
}

// Rule is a rule of the input that Parse found broken, the Rule of a
// SyntaxError. Readers with their own wording of errors switch on it.
type Rule uint8

// The rules, in the order of the grammar.
const (
	// RuleEnd means the input ends where a value, a ',' or a closing
	// bracket is due.
	RuleEnd Rule = iota + 1
	// RuleTrailing means data follows the JSON value.
	RuleTrailing
	// RuleChar means a byte that starts no JSON value stands where a value
	// is due.
	RuleChar
	// RuleLiteral means a null, true or false is misspelled.
	RuleLiteral
	// RuleDepth means arrays and objects nest deeper than MaxDepth.
	RuleDepth
	// RuleMemberName means an object has something other than a string
	// where a member name is due.
	RuleMemberName
	// RuleColon means a member name is not followed by ':'.
	RuleColon
	// RuleObjectSep means an object member is followed by neither ',' nor
	// '}'.
	RuleObjectSep
	// RuleArraySep means an array element is followed by neither ',' nor
	// ']'.
	RuleArraySep
	// RuleDuplicate means an object has two members of the same name
	// (compared after unescaping).
	RuleDuplicate
	// RuleNumber means a number is not written as RFC 8259 allows.
	RuleNumber
	// RuleOverflow means a number's magnitude overflows a double.
	RuleOverflow
	// RuleStringEnd means the input ends inside a string.
	RuleStringEnd
	// RuleControl means a string holds a raw control character.
	RuleControl
	// RuleUTF8 means a string holds bytes that are not UTF-8.
	RuleUTF8
	// RuleEscape means a backslash escape is not one of \" \\ \/ \b \f \n
	// \r \t \u.
	RuleEscape
	// RuleUnicodeEscape means a \u is not followed by four hex digits.
	RuleUnicodeEscape
	// RuleSurrogate means a \u escape of a UTF-16 surrogate is not one
	// half of a surrogate pair: a low surrogate alone, or a high one not
	// followed by a well-formed \u escape of a low one.
	RuleSurrogate
)

// SyntaxError is the error Parse, and so Canonicalize, returns for input it
// refuses: which rule it breaks and where. Its Error text is this
// package's, e.g. "jcs: invalid literal at byte offset 3: invalid JSON
// syntax", and it wraps one of the package's sentinel errors.
type SyntaxError struct {
	// Rule is the rule broken.
	Rule Rule
	// Offset is the byte offset Error reports: where reading stopped,
	// except that it is the opening quote of a repeated member name, the
	// first byte of an overflowing number and the backslash of a faulty
	// escape (the first of a surrogate pair, unless the pair's second \u
	// escape is itself malformed: then that one's, and the error wraps
	// ErrSyntax rather than ErrLoneSurrogate).
	Offset int
	// Escape is the byte offset of the backslash of the escape the
	// fault is in (the first of a surrogate pair) for RuleStringEnd after
	// a backslash, RuleEscape, RuleUnicodeEscape and RuleSurrogate, and
	// -1 otherwise.
	Escape int
	// Name is the repeated member name, for RuleDuplicate.
	Name string

	what string // Error's description of the fault
	err  error  // the sentinel
}

// Error describes the fault, its offset and its sentinel.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jcs: %s at byte offset %d: %v", e.what, e.Offset, e.err)
}

// Unwrap returns the sentinel: ErrSyntax, ErrInvalidUTF8,
// ErrLoneSurrogate, ErrDuplicateKey, ErrNumber or ErrTooDeep.
func (e *SyntaxError) Unwrap() error { return e.err }

// ParseOptions relax Parse for readers that judge a rule themselves. The
// zero value is the strict reading that Canonicalize uses.
type ParseOptions struct {
	// AllowOverflow reads a number whose magnitude overflows a double
	// (its Text as written) instead of refusing it with RuleOverflow.
	AllowOverflow bool
}

// Parse reads in as Canonicalize does, strictly as I-JSON (see the package
// documentation), and returns its value, object members in document order.
// Every error is a *SyntaxError.
func Parse(in []byte) (Value, error) { return ParseOptions{}.Parse(in) }

// Parse reads in as the package function Parse does, with o's exceptions.
func (o ParseOptions) Parse(in []byte) (Value, error) {
	p := parser{in: in, allowOverflow: o.AllowOverflow}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return Value{}, p.fail(RuleTrailing, ErrSyntax, "unexpected data after the JSON value")
	}
	return v, nil
}

type parser struct {
	in            []byte
	pos           int
	allowOverflow bool
}

// fail reports a fault at p.pos.
func (p *parser) fail(r Rule, kind error, what string) error {
	return &SyntaxError{Rule: r, Offset: p.pos, Escape: -1, what: what, err: kind}
}

// failEscape reports a fault at p.pos in the escape whose backslash is at
// esc.
func (p *parser) failEscape(esc int, r Rule, kind error, what string) error {
	return &SyntaxError{Rule: r, Offset: p.pos, Escape: esc, what: what, err: kind}
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

func (p *parser) value(depth int) (Value, error) {
	if p.pos >= len(p.in) {
		return Value{}, p.fail(RuleEnd, ErrSyntax, "unexpected end of input")
	}
	start := p.pos
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.string()
		return Value{Kind: KindString, Offset: start, Text: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 'n':
		return Value{Kind: KindNull, Offset: start}, p.literal("null")
	case c == 't':
		return Value{Kind: KindTrue, Offset: start}, p.literal("true")
	case c == 'f':
		return Value{Kind: KindFalse, Offset: start}, p.literal("false")
	default:
		return Value{}, p.fail(RuleChar, ErrSyntax, fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.in[p.pos:], []byte(lit)) {
		return p.fail(RuleLiteral, ErrSyntax, "invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *parser) object(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, p.fail(RuleDepth, ErrTooDeep, fmt.Sprintf("more than %d nested arrays and objects", MaxDepth))
	}
	v := Value{Kind: KindObject, Offset: p.pos}
	p.pos++ // '{'
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	seen := make(map[string]struct{})
	for {
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return Value{}, p.fail(RuleMemberName, ErrSyntax, "expected a member name")
		}
		start := p.pos
		name, err := p.string()
		if err != nil {
			return Value{}, err
		}
		if _, dup := seen[name]; dup {
			return Value{}, &SyntaxError{Rule: RuleDuplicate, Offset: start, Escape: -1, Name: name,
				what: fmt.Sprintf("member name %q repeated", name), err: ErrDuplicateKey}
		}
		seen[name] = struct{}{}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return Value{}, p.fail(RuleColon, ErrSyntax, "expected ':' after a member name")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		v.Members = append(v.Members, Member{Name: name, Value: val})
		p.skipSpace()
		if p.pos >= len(p.in) {
			return Value{}, p.fail(RuleEnd, ErrSyntax, "unterminated object")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return Value{}, p.fail(RuleObjectSep, ErrSyntax, "expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, p.fail(RuleDepth, ErrTooDeep, fmt.Sprintf("more than %d nested arrays and objects", MaxDepth))
	}
	v := Value{Kind: KindArray, Offset: p.pos}
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		el, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		v.Elems = append(v.Elems, el)
		p.skipSpace()
		if p.pos >= len(p.in) {
			return Value{}, p.fail(RuleEnd, ErrSyntax, "unterminated array")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return Value{}, p.fail(RuleArraySep, ErrSyntax, "expected ',' or ']' in an array")
		}
	}
}

// number scans an RFC 8259 number, keeps its text and, unless overflow is
// allowed, converts it to the nearest double, as JavaScript's JSON.parse
// does.
func (p *parser) number() (Value, error) {
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
		return Value{}, p.fail(RuleNumber, ErrSyntax, "invalid number")
	}
	if p.pos < len(in) && in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return Value{}, p.fail(RuleNumber, ErrSyntax, "invalid number: no digits after the decimal point")
		}
	}
	if p.pos < len(in) && (in[p.pos] == 'e' || in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(in) && (in[p.pos] == '+' || in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return Value{}, p.fail(RuleNumber, ErrSyntax, "invalid number: no digits in the exponent")
		}
	}
	v := Value{Kind: KindNumber, Offset: start, Text: string(in[start:p.pos])}
	if p.allowOverflow {
		return v, nil
	}
	f, err := strconv.ParseFloat(v.Text, 64)
	if err != nil || math.IsInf(f, 0) {
		// The grammar above admits only what ParseFloat accepts, so the
		// one error left is a magnitude beyond the largest double.
		// (Underflow rounds to zero or a subnormal without error, as in
		// JavaScript.)
		p.pos = start
		return Value{}, p.fail(RuleOverflow, ErrNumber, fmt.Sprintf("number %s overflows a double", v.Text))
	}
	v.num = f
	return v, nil
}

// string scans a JSON string starting at its opening quote and returns its
// decoded value.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	// Once an escape makes the value differ from the input, buf holds it
	// up to the input's byte run.
	var buf []byte
	run := p.pos
	for {
		if p.pos >= len(p.in) {
			return "", p.fail(RuleStringEnd, ErrSyntax, "unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			s := p.in[run:p.pos]
			p.pos++
			if buf == nil {
				return string(s), nil
			}
			return string(append(buf, s...)), nil
		case c == '\\':
			buf = append(buf, p.in[run:p.pos]...)
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
			run = p.pos
		case c < 0x20:
			return "", p.fail(RuleControl, ErrSyntax, "unescaped control character in a string")
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.fail(RuleUTF8, ErrInvalidUTF8, "invalid UTF-8 in a string")
			}
			p.pos += size
		}
	}
}

// escape decodes the backslash escape at p.pos, joining a \u surrogate
// pair into one rune.
func (p *parser) escape() (rune, error) {
	esc := p.pos
	if p.pos+1 >= len(p.in) {
		return 0, p.failEscape(esc, RuleStringEnd, ErrSyntax, "unterminated escape")
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
		return 0, p.failEscape(esc, RuleEscape, ErrSyntax, fmt.Sprintf("invalid escape \\%c", c))
	}
	p.pos += 2
	return r, nil
}

// unicodeEscape decodes the \uXXXX escape, or \uXXXX\uXXXX surrogate pair,
// at p.pos.
func (p *parser) unicodeEscape() (rune, error) {
	esc := p.pos
	r1, err := p.hex4(esc, RuleUnicodeEscape)
	if err != nil {
		return 0, err
	}
	switch {
	case !utf16.IsSurrogate(r1):
		return r1, nil
	case r1 >= 0xDC00:
		p.pos = esc
		return 0, p.failEscape(esc, RuleSurrogate, ErrLoneSurrogate, fmt.Sprintf("low surrogate \\u%04x without a high surrogate", r1))
	}
	if p.pos+1 >= len(p.in) || p.in[p.pos] != '\\' || p.in[p.pos+1] != 'u' {
		p.pos = esc
		return 0, p.failEscape(esc, RuleSurrogate, ErrLoneSurrogate, fmt.Sprintf("high surrogate \\u%04x not followed by a low surrogate", r1))
	}
	r2, err := p.hex4(esc, RuleSurrogate)
	if err != nil {
		return 0, err
	}
	r := utf16.DecodeRune(r1, r2)
	if r == utf8.RuneError {
		p.pos = esc
		return 0, p.failEscape(esc, RuleSurrogate, ErrLoneSurrogate, fmt.Sprintf("high surrogate \\u%04x followed by \\u%04x", r1, r2))
	}
	return r, nil
}

// hex4 decodes the \uXXXX escape at p.pos, which is esc or, in a surrogate
// pair starting at esc, the second half; a malformed one breaks rule r.
func (p *parser) hex4(esc int, r Rule) (rune, error) {
	if p.pos+6 > len(p.in) {
		return 0, p.failEscape(esc, r, ErrSyntax, "truncated \\u escape")
	}
	var u rune
	for _, c := range p.in[p.pos+2 : p.pos+6] {
		u <<= 4
		switch {
		case c >= '0' && c <= '9':
			u |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			u |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			u |= rune(c - 'A' + 10)
		default:
			return 0, p.failEscape(esc, r, ErrSyntax, "invalid hex digit in a \\u escape")
		}
	}
	p.pos += 6
	return u, nil
}
