package policy

import (
	"strings"
	"testing"
)

// TestParse covers --payments.policy: per-asset and default
// policies, and every malformed value refused with the option named.
func TestParse(t *testing.T) {
	per, def, err := Parse([]string{"KSH:min=1000,max=50000,daily=200000", "*:max=9", "INR: daily=5"})
	if err != nil {
		t.Fatal(err)
	}
	if per["KSH"] != (Policy{Min: 1000, Max: 50000, Daily: 200000}) || per["INR"] != (Policy{Daily: 5}) ||
		def != (Policy{Max: 9}) || len(per) != 2 {
		t.Fatalf("parsed %+v default %+v", per, def)
	}
	for _, bad := range []string{
		"KSH", "KSH:", "KSH:min", "KSH:min=-1", "KSH:min=x", "KSH:size=3", "ksh:min=1", "KSH:min=10,max=9",
		"KSH:max=99999999999999999999",
	} {
		if _, _, err := Parse([]string{bad}); err == nil || !strings.Contains(err.Error(), "--payments.policy") {
			t.Errorf("%q: %v, want an error naming --payments.policy", bad, err)
		}
	}
}
