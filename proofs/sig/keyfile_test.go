package sig

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateKeyCreatesAndReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "issuer.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("created with permissions %04o, want 0600", perm)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secret := k1.Key.Bytes()
	if want := hex.EncodeToString(secret[:]) + "\n"; string(raw) != want {
		t.Fatalf("file holds %q, want %q", raw, want)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.PubKey().IsEqual(k2.PubKey()) {
		t.Fatal("reloading gave a different key")
	}
}

func TestLoadOrCreateKeyRefuses(t *testing.T) {
	const good = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef\n"
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr error  // checked with errors.Is when set
		wantMsg string // substring of the error
	}{
		{"world readable", good, 0o644, ErrKeyFilePermissions, "has permissions wider than 0600 (0644)"},
		{"group readable", good, 0o640, ErrKeyFilePermissions, "run chmod 600"},
		{"owner executable", good, 0o700, ErrKeyFilePermissions, "(0700)"},
		{"group writable", good, 0o620, ErrKeyFilePermissions, "(0620)"},
		{"empty", "", 0o600, nil, "does not hold a 64-character hex secret key"},
		{"short", good[:40] + "\n", 0o600, nil, "does not hold a 64-character hex secret key"},
		{"not hex", strings.Repeat("x", 64) + "\n", 0o600, nil, "does not hold a hex secret key"},
		{"zero", strings.Repeat("0", 64) + "\n", 0o600, nil, "no valid key"},
		{"curve order", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141\n", 0o600, nil, "no valid key"},
		{"trailing garbage", strings.TrimSuffix(good, "\n") + " extra\n", 0o600, nil, "does not hold a 64-character hex secret key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "issuer.key")
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask-proof
				t.Fatal(err)
			}
			_, err := LoadOrCreateKey(path)
			if err == nil {
				t.Fatal("LoadOrCreateKey accepted the file")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v does not wrap %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not contain %q", err, tt.wantMsg)
			}
			after, _ := os.ReadFile(path)
			if string(after) != tt.content {
				t.Fatal("LoadOrCreateKey modified a file it refused")
			}
		})
	}
}

func TestLoadOrCreateKeyAccepts(t *testing.T) {
	const secret = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef"
	const xonly = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
	}{
		{"0600 with newline", secret + "\n", 0o600},
		{"0400 read-only", secret + "\n", 0o400},
		{"no newline", secret, 0o600},
		{"CRLF", secret + "\r\n", 0o600},
		{"upper case", strings.ToUpper(secret) + "\n", 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "issuer.key")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			k, err := LoadOrCreateKey(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := EncodeKey(XOnly(k.PubKey())); got != xonly {
				t.Fatalf("public key %s, want %s", got, xonly)
			}
		})
	}
}

func TestLoadOrCreateKeyNotAFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Fatal("LoadOrCreateKey accepted a directory")
	}
	if _, err := LoadOrCreateKey(filepath.Join(dir, "missing-dir", "k")); err == nil {
		t.Fatal("LoadOrCreateKey created a key in a missing directory")
	}
}
