package strictjson

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/kosh-reserve/kosh/proofs/jcs"
)

// MatchStruct reports the first place where shape s and the encoding/json
// view of type t disagree, or nil: an Object's members must be exactly the
// struct's tagged fields, Optional exactly where the tag says omitempty; a
// slice is an Array, a string a String, a bool a Bool, an integer an Int,
// and a type with its own UnmarshalJSON or UnmarshalText (an amount, a hex
// hash) a String. A type with its own UnmarshalJSON may also stand for an
// Object: it reads (and checks) that object itself, as sumtree.Proof reads
// sumtree.ProofShape, so its own package's test matches the two. It is for
// tests that keep a format's shape and its Go struct from drifting apart.
func MatchStruct(s Shape, t reflect.Type) error {
	return matchStruct(s, t, "")
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func matchStruct(s Shape, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	custom := reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
	want := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("%s: shape %s, Go type %s", at, what, t)
		}
		return nil
	}
	switch s := s.(type) {
	case scalar:
		switch jcs.Kind(s) {
		case jcs.KindString:
			return want(custom || t.Kind() == reflect.String, "String")
		case jcs.KindTrue:
			return want(!custom && t.Kind() == reflect.Bool, "Bool")
		default:
			return want(!custom && (t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64), "Int")
		}
	case Array:
		if err := want(!custom && t.Kind() == reflect.Slice, "Array"); err != nil {
			return err
		}
		return matchStruct(s.Elem, t.Elem(), at+"[]")
	case Object:
		if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
			return nil
		}
		if err := want(!custom && t.Kind() == reflect.Struct, "Object"); err != nil {
			return err
		}
		seen := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			tag, ok := f.Tag.Lookup("json")
			if !ok || tag == "-" || !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			path := strings.TrimPrefix(at+"."+name, ".")
			m := s.find(name)
			if m == nil {
				return fmt.Errorf("%s: field %s is not in the shape", path, f.Name)
			}
			if omit := strings.Contains(","+opts+",", ",omitempty,"); omit != m.Optional {
				return fmt.Errorf("%s: omitempty is %v but Optional is %v", path, omit, m.Optional)
			}
			if err := matchStruct(m.Shape, f.Type, path); err != nil {
				return err
			}
			seen[name] = true
		}
		for _, m := range s {
			if !seen[m.Name] {
				return fmt.Errorf("%s: member %q has no field", at, m.Name)
			}
		}
		return nil
	}
	return fmt.Errorf("%s: unknown shape %T", at, s)
}
