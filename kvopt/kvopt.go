// Package kvopt parses the structured values of koshd's repeatable options,
// such as --lnd.node name=alice,host=127.0.0.1:10009,... or --oracle.source
// name=a,currency=INR,...: a comma-separated list of key=value pairs. Every
// option that takes such a value parses it here, so that all of them refuse
// the same mistakes with the same words: a part that is not key=value, a key
// given twice, a key the option does not know, a required key missing.
package kvopt

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fields is one parsed option value.
type Fields struct {
	flag, spec string
	values     map[string]string
}

// Parse splits spec, the value of the option named flag (e.g.
// "--lnd.node"), into its key=value pairs. keys lists every key the option
// knows; any other key is refused, naming the keys it knows.
func Parse(flag, spec string, keys ...string) (*Fields, error) {
	f := &Fields{flag: flag, spec: spec, values: make(map[string]string)}
	known := make(map[string]bool, len(keys))
	for _, k := range keys {
		known[k] = true
	}
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, f.Errorf("%q is not key=value", part)
		}
		if !known[k] {
			return nil, f.Errorf("unknown key %q (want %s)", k, strings.Join(keys, ", "))
		}
		if _, dup := f.values[k]; dup {
			return nil, f.Errorf("%s is given twice", k)
		}
		f.values[k] = v
	}
	return f, nil
}

// Errorf returns an error that names the option and its value, then says
// what is wrong with it.
func (f *Fields) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s %q: %s", f.flag, f.spec, fmt.Sprintf(format, args...))
}

// Has reports whether key was given.
func (f *Fields) Has(key string) bool {
	_, ok := f.values[key]
	return ok
}

// String returns the value of key, or "" if it was not given.
func (f *Fields) String(key string) string { return f.values[key] }

// Require fails unless every key in keys was given a non-empty value; the
// error lists them and shows example, a complete value a person can copy.
func (f *Fields) Require(example string, keys ...string) error {
	for _, k := range keys {
		if f.values[k] == "" {
			return f.Errorf("needs %s, e.g. %s", list(keys), example)
		}
	}
	return nil
}

// Int returns the integer value of key, which must lie in [min, max]; a key
// not given yields def.
func (f *Fields) Int(key string, def, min, max int64) (int64, error) {
	v, ok := f.values[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, f.Errorf("%s %q must be an integer from %d to %d", key, v, min, max)
	}
	return n, nil
}

// Duration returns the positive duration value of key (such as 10s); a key
// not given yields def.
func (f *Fields) Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := f.values[key]
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, f.Errorf("%s %q must be a positive duration such as 10s", key, v)
	}
	return d, nil
}

// list writes keys as English: "a", "a and b", "a, b and c".
func list(keys []string) string {
	if len(keys) < 2 {
		return strings.Join(keys, "")
	}
	return strings.Join(keys[:len(keys)-1], ", ") + " and " + keys[len(keys)-1]
}
