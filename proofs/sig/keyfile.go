package sig

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
)

// KeyFileMode is the permission a key file is created with. A key file whose
// permissions grant anything beyond it is refused.
const KeyFileMode fs.FileMode = 0o600

// ErrKeyFilePermissions is wrapped by the error LoadOrCreateKey returns for a
// key file that group or others could read or write.
var ErrKeyFilePermissions = errors.New("permissions wider than 0600")

// LoadOrCreateKey returns the secp256k1 private key stored in the file at
// path, creating the file with a new random key if it does not exist. The
// file holds the 32-byte secret as 64 lower-case hex characters and a
// trailing newline, and is created with permissions 0600. An existing file
// must be a regular file whose permissions are no wider than 0600 (0400 is
// fine, 0640 is not), and must hold a valid non-zero key below the curve
// order; otherwise LoadOrCreateKey returns an error and never touches it.
func LoadOrCreateKey(path string) (*btcec.PrivateKey, error) {
	priv, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return priv, err
	}
	priv, err = createKey(path)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our two calls: use theirs.
		return loadKey(path)
	}
	return priv, err
}

func loadKey(path string) (*btcec.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open key file %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot stat key file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&^KeyFileMode != 0 {
		return nil, fmt.Errorf("key file %s has %w (%04o), so others may read the secret key; run chmod 600 on it",
			path, ErrKeyFilePermissions, perm)
	}
	buf, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return nil, fmt.Errorf("cannot read key file %s: %w", path, err)
	}
	text := strings.TrimRight(string(buf), "\r\n")
	var secret [32]byte
	if len(text) != 64 {
		return nil, fmt.Errorf("key file %s does not hold a 64-character hex secret key", path)
	}
	if _, err := hex.Decode(secret[:], []byte(text)); err != nil {
		return nil, fmt.Errorf("key file %s does not hold a hex secret key: %w", path, err)
	}
	var scalar btcec.ModNScalar
	if overflow := scalar.SetBytes(&secret); overflow != 0 || scalar.IsZero() {
		return nil, fmt.Errorf("key file %s holds zero or a number not below the secp256k1 order, which is no valid key", path)
	}
	return btcec.PrivKeyFromScalar(&scalar), nil
}

func createKey(path string) (*btcec.PrivateKey, error) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		return nil, fmt.Errorf("cannot generate a key for %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, KeyFileMode)
	if err != nil {
		return nil, fmt.Errorf("cannot create key file %s: %w", path, err)
	}
	secret := priv.Key.Bytes()
	_, werr := f.WriteString(hex.EncodeToString(secret[:]) + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("cannot write key file %s: %w", path, werr)
	}
	return priv, nil
}
