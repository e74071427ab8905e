package kvopt

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	f, err := Parse("--x", "name=a, n=5,d=2s,empty=", "name", "n", "d", "empty", "unused")
	if err != nil {
		t.Fatal(err)
	}
	if f.String("name") != "a" || !f.Has("empty") || f.Has("unused") {
		t.Fatalf("fields %+v", f.values)
	}
	if n, err := f.Int("n", 0, 0, 10); err != nil || n != 5 {
		t.Fatalf("Int = %d, %v", n, err)
	}
	if n, err := f.Int("unused", 7, 0, 10); err != nil || n != 7 {
		t.Fatalf("Int default = %d, %v", n, err)
	}
	if d, err := f.Duration("d", 0); err != nil || d != 2*time.Second {
		t.Fatalf("Duration = %v, %v", d, err)
	}
	if err := f.Require("name=a,empty=b", "name", "empty"); err == nil || !strings.Contains(err.Error(), "needs name and empty, e.g. name=a,empty=b") {
		t.Fatalf("Require with an empty value: %v", err)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"name", `"name" is not key=value`},
		{"name=a,name=b", "name is given twice"},
		{"name=a,other=b", `unknown key "other" (want name, n)`},
		{"", `"" is not key=value`},
	} {
		_, err := Parse("--x", tc.spec, "name", "n")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `--x "`+tc.spec+`": `) {
			t.Errorf("Parse(%q) = %v, want an error naming the option and %q", tc.spec, err, tc.want)
		}
	}
	f, _ := Parse("--x", "n=11,d=-1s", "n", "d")
	if _, err := f.Int("n", 0, 0, 10); err == nil || !strings.Contains(err.Error(), `n "11" must be an integer from 0 to 10`) {
		t.Errorf("Int out of range: %v", err)
	}
	if _, err := f.Duration("d", 0); err == nil || !strings.Contains(err.Error(), "must be a positive duration") {
		t.Errorf("Duration negative: %v", err)
	}
}
