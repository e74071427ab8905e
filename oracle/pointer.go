package oracle

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

var (
	// ErrInvalidPointer is wrapped when a JSON pointer's text breaks RFC
	// 6901 syntax.
	ErrInvalidPointer = errors.New("invalid JSON pointer")
	// ErrPointerNotFound is wrapped when a JSON pointer names a value the
	// document does not have.
	ErrPointerNotFound = errors.New("JSON pointer target not found")
)

// Pointer is a parsed RFC 6901 JSON pointer, such as "/data/amount" or
// "/rates/0/price". The zero Pointer (text "") refers to the whole document.
type Pointer struct {
	tokens []string
}

// ParsePointer parses the RFC 6901 text s: empty, or a sequence of
// "/"-prefixed reference tokens in which "~1" stands for "/" and "~0" for
// "~". A "~" followed by anything else, or text not starting with "/", is an
// error wrapping ErrInvalidPointer.
func ParsePointer(s string) (Pointer, error) {
	if s == "" {
		return Pointer{}, nil
	}
	if s[0] != '/' {
		return Pointer{}, fmt.Errorf("%w %q: must be empty or start with \"/\"", ErrInvalidPointer, s)
	}
	parts := strings.Split(s[1:], "/")
	tokens := make([]string, len(parts))
	for i, part := range parts {
		t, err := unescapeToken(part)
		if err != nil {
			return Pointer{}, fmt.Errorf("%w %q: token %d: %w", ErrInvalidPointer, s, i, err)
		}
		tokens[i] = t
	}
	return Pointer{tokens: tokens}, nil
}

func unescapeToken(s string) (string, error) {
	if !strings.Contains(s, "~") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '~' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New(`"~" at the end (write "~0" for a tilde)`)
		}
		switch s[i+1] {
		case '0':
			b.WriteByte('~')
		case '1':
			b.WriteByte('/')
		default:
			return "", fmt.Errorf(`"~%c" is not an escape (only "~0" and "~1" are)`, s[i+1])
		}
		i++
	}
	return b.String(), nil
}

// escapeToken escapes a reference token for a pointer's text.
func escapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

// NewPointer returns the pointer made of the given (unescaped) reference
// tokens.
func NewPointer(tokens ...string) Pointer {
	return Pointer{tokens: append([]string(nil), tokens...)}
}

// Tokens returns a copy of p's unescaped reference tokens.
func (p Pointer) Tokens() []string { return append([]string(nil), p.tokens...) }

// String returns p's RFC 6901 text; ParsePointer(p.String()) equals p.
func (p Pointer) String() string { return prefixString(p.tokens) }

func prefixString(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// Eval returns the value p refers to in doc, a document decoded by
// encoding/json into any (objects as map[string]any, arrays as []any,
// preferably with Decoder.UseNumber so numbers stay exact json.Number).
//
// An array is indexed by a token of decimal digits without leading zeros
// ("0", "12"); "-" (the element after the last) and every other token fail.
// A failure wraps ErrPointerNotFound and names the missing token and the
// location that lacks it.
func (p Pointer) Eval(doc any) (any, error) {
	cur := doc
	for i, tok := range p.tokens {
		at := prefixString(p.tokens[:i])
		if at == "" {
			at = "the document root"
		} else {
			at = strconv.Quote(at)
		}
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, fmt.Errorf("%w: pointer %q: object at %s has no member %q", ErrPointerNotFound, p, at, tok)
			}
			cur = next
		case []any:
			idx, err := arrayIndex(tok)
			if err != nil {
				return nil, fmt.Errorf("%w: pointer %q: token %q for the array at %s: %w", ErrPointerNotFound, p, tok, at, err)
			}
			if idx >= len(v) {
				return nil, fmt.Errorf("%w: pointer %q: index %d out of range for the array at %s (%d elements)", ErrPointerNotFound, p, idx, at, len(v))
			}
			cur = v[idx]
		default:
			return nil, fmt.Errorf("%w: pointer %q: token %q: the value at %s is %s, not an object or array", ErrPointerNotFound, p, tok, at, jsonKind(cur))
		}
	}
	return cur, nil
}

// arrayIndex parses an RFC 6901 array index token.
func arrayIndex(tok string) (int, error) {
	if tok == "-" {
		return 0, errors.New(`"-" refers to the element after the last, which does not exist`)
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, errors.New("not an array index (decimal digits without leading zeros)")
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, errors.New("not an array index (decimal digits without leading zeros)")
		}
	}
	n, err := strconv.Atoi(tok)
	if err != nil {
		return 0, errors.New("array index out of range")
	}
	return n, nil
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
