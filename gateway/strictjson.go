package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictJSON is the gateway's JSON marshaler with one rule protojson does
// not keep: an integer field takes an integer, as a string ("100") or a bare
// JSON number (100), and nothing protojson would round to one ("1e2",
// "1.0", 2.5e1, "+3"). Amounts are base units; a client that sends an
// exponent or a fraction has a bug, and is told so instead of being
// guessed at.
type strictJSON struct{ *runtime.JSONPb }

// integerRE is an integer as the API takes it.
var integerRE = regexp.MustCompile(`^-?[0-9]+$`)

// Unmarshal checks data's integer fields, then decodes it as protojson.
func (s strictJSON) Unmarshal(data []byte, v any) error {
	if m, ok := v.(proto.Message); ok {
		if err := checkIntegers(data, m.ProtoReflect().Descriptor()); err != nil {
			return err
		}
	}
	return s.JSONPb.Unmarshal(data, v)
}

// NewDecoder returns a decoder that reads the whole body (the gateway's
// bodies are bounded by limitBody) and unmarshals it with Unmarshal.
func (s strictJSON) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return io.EOF
		}
		return s.Unmarshal(data, v)
	})
}

// checkIntegers walks a JSON object along message descriptor md and refuses
// an integer field whose value is not an integer. What is not valid JSON,
// or does not fit the message, is left to protojson to report.
func checkIntegers(data []byte, md protoreflect.MessageDescriptor) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj any
	if err := dec.Decode(&obj); err != nil {
		return nil
	}
	return checkMessage(obj, md)
}

func checkMessage(obj any, md protoreflect.MessageDescriptor) error {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil
	}
	for name, val := range m {
		fd := md.Fields().ByJSONName(name)
		if fd == nil {
			fd = md.Fields().ByName(protoreflect.Name(name))
		}
		if fd == nil || fd.IsMap() {
			continue
		}
		if list, ok := val.([]any); ok && fd.IsList() {
			for _, v := range list {
				if err := checkValue(fd, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := checkValue(fd, val); err != nil {
			return err
		}
	}
	return nil
}

func checkValue(fd protoreflect.FieldDescriptor, val any) error {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkMessage(val, fd.Message())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
	default:
		return nil
	}
	var text, shown string
	switch v := val.(type) {
	case json.Number:
		text, shown = v.String(), v.String()
	case string:
		text, shown = v, fmt.Sprintf("%q", v)
	default:
		return nil
	}
	// What is not a number at all is protojson's to report.
	if _, err := strconv.ParseFloat(text, 64); err == nil && !integerRE.MatchString(text) {
		return fmt.Errorf("%s: %s is not an integer; send a whole number of base units, such as \"100\" (no sign but -, exponent or fraction)",
			fd.Name(), shown)
	}
	return nil
}
