package descriptor

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
)

// TestChecksumBIP380 runs the checksum and character set vectors of BIP 380.
func TestChecksumBIP380(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantHas bool
		wantErr error
	}{
		{"valid checksum", "raw(deadbeef)#89f8spxm", true, nil},
		{"no checksum", "raw(deadbeef)", false, nil},
		{"missing checksum", "raw(deadbeef)#", true, ErrChecksum},
		{"too long checksum (9 chars)", "raw(deadbeef)#89f8spxmx", true, ErrChecksum},
		{"too short checksum (7 chars)", "raw(deadbeef)#89f8spx", true, ErrChecksum},
		{"error in payload", "raw(deedbeef)#89f8spxm", true, ErrChecksum},
		{"error in checksum", "raw(deedbeef)##9f8spxm", true, ErrChecksum},
		{"invalid characters in payload", "raw(Ü)#00000000", false, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expr, has, err := splitChecksum(tt.in)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("splitChecksum(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if has != tt.wantHas {
				t.Errorf("hasChecksum = %v, want %v", has, tt.wantHas)
			}
			if expr != "raw(deadbeef)" {
				t.Errorf("expr = %q, want raw(deadbeef)", expr)
			}
		})
	}
}

func TestChecksumMismatchMessage(t *testing.T) {
	_, _, err := splitChecksum("raw(deedbeef)#89f8spxm")
	sum, _ := Checksum("raw(deedbeef)")
	want := "checksum mismatch: have 89f8spxm, want " + sum
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestAddChecksum(t *testing.T) {
	tests := []struct{ in, want string }{
		{"raw(deadbeef)", "raw(deadbeef)#89f8spxm"},
		{"raw(deadbeef)#89f8spxm", "raw(deadbeef)#89f8spxm"}, // already there
		{"raw(deadbeef)#qqqqqqqq", "raw(deadbeef)#89f8spxm"}, // replaced
		{"raw(deadbeef)#", "raw(deadbeef)#89f8spxm"},         // completed
		{"raw(Ü)", "raw(Ü)"},                                 // no checksum exists
		{"", "#" + mustChecksum(t, "")},                      // empty expression
		{"wpkh(" + pubL4 + ")", "wpkh(" + pubL4 + ")#" + mustChecksum(t, "wpkh("+pubL4+")")},
	}
	for _, tt := range tests {
		if got := AddChecksum(tt.in); got != tt.want {
			t.Errorf("AddChecksum(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := mustChecksum(t, "raw(deadbeef)"); got != "89f8spxm" {
		t.Errorf("Checksum(raw(deadbeef)) = %q, want 89f8spxm", got)
	}
}

func mustChecksum(t *testing.T, s string) string {
	t.Helper()
	sum, err := Checksum(s)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestChecksumDetectsSingleErrors checks the BIP 380 property that any one
// character substitution within the character set is detected.
func TestChecksumDetectsSingleErrors(t *testing.T) {
	good := AddChecksum("wpkh([d34db33f/84h/0h/0h]" + xpub86 + "/0/*)")
	for i := 0; i < len(good); i++ {
		if good[i] == '#' {
			continue
		}
		for _, c := range []byte{'0', 'a', 'Z', '/', '(', 'q'} {
			if c == good[i] {
				continue
			}
			bad := good[:i] + string(c) + good[i+1:]
			if _, _, err := splitChecksum(bad); err == nil {
				t.Fatalf("substitution at %d (%q -> %q) not detected", i, good[i], c)
			}
		}
	}
}

// TestChecksumExternalVectors parses checksummed descriptors written by other
// implementations: Bitcoin Core's functional tests (test/functional/
// tool_wallet.py) and python-bip380's tests (tests/test_descriptors.py).
func TestChecksumExternalVectors(t *testing.T) {
	tests := []struct {
		desc    string
		net     *chaincfg.Params
		address string // at index 0, when the source gives it
	}{
		{"wpkh([deadbeef/1/2'/3/4']03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)#yk54u40t",
			regtest, "bcrt1qngw83fg8dz0k749cg7k3emc7v98wy0c7azaa6h"},
		{"tr(a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)#dh4fyxrd", mainnet, ""},
		{"wpkh([00aabbcc/0]033d65a099daf8d973422e75f78c29504e5e53bfb81f3b08d9bb161cdfb3c3ee9a)#g6gm8u7v", mainnet, ""},
		{"wpkh([00aabbcc/1]xpub6BsJ4SAX3CYhcZVV9bFVvmGJ7cyboy4LJqbRJJEziPvm9Pq7v7cWkBAa1LixG9vJybxHDuWcHTtq3K4tsaKG1jMJcpZmkiacFuc7LkzUCWu)#2h49p59p", mainnet, ""},
	}
	for _, tt := range tests {
		d, err := Parse(tt.desc, tt.net)
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.desc, err)
			continue
		}
		if !d.HasChecksum() {
			t.Errorf("HasChecksum() = false for %s", tt.desc)
		}
		if tt.address != "" {
			if a, err := d.Address(0); err != nil || a.EncodeAddress() != tt.address {
				t.Errorf("Address(0) = %v, %v; want %s", a, err, tt.address)
			}
		}
	}
	// The same vectors with one checksum character changed must fail.
	for _, tt := range tests {
		bad := tt.desc[:len(tt.desc)-1] + "q"
		if bad == tt.desc {
			bad = tt.desc[:len(tt.desc)-1] + "p"
		}
		if _, err := Parse(bad, tt.net); !errors.Is(err, ErrChecksum) {
			t.Errorf("Parse(%s) error = %v, want ErrChecksum", bad, err)
		}
	}
}
