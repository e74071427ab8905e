package ledger

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on request fields.
const (
	MaxNameLen    = 64
	MaxLabelLen   = 128
	MaxMemoLen    = 256
	MaxKeyLen     = 128
	MaxDecimals   = 18
	MaxCoverage   = 1_000_000 // 100.00x, in basis points
	BasisPoints   = 10_000    // 1.00x
	DefaultSatBps = BasisPoints
	// DefaultFiatBps is the default minimum coverage of a fiat-pegged
	// asset: 1.50x, a margin for the price moving between attestations.
	DefaultFiatBps = 15_000
	// MaxFiatDecimals bounds a fiat asset's decimals (ISO 4217 uses 0-4).
	MaxFiatDecimals = 8
)

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

var assetCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,11}$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// ValidateAssetCode checks an asset code's syntax.
func ValidateAssetCode(code string) error {
	if code == "" {
		return invalid("asset code is required")
	}
	if !assetCodeRE.MatchString(code) {
		return invalid("asset code %q must be 2 to 12 characters A-Z and 0-9, starting with a letter", code)
	}
	return nil
}

// ValidateAccountID checks that id is a UUID in canonical lower-case form.
func ValidateAccountID(field, id string) error {
	if id == "" {
		return invalid("%s is required", field)
	}
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return invalid("%s %q is not an account id (a lower-case UUID such as 0b6f6a4e-...)", field, truncate(id))
	}
	return nil
}

func validateAmount(amount int64) error {
	if amount <= 0 {
		return invalid("amount must be a positive number of base units, got %d", amount)
	}
	return nil
}

func validateKey(key string) error {
	if key == "" {
		return invalid("idempotency_key is required: choose a unique value per operation and reuse it only to retry that operation")
	}
	if len(key) > MaxKeyLen {
		return invalid("idempotency_key is %d characters, at most %d allowed", len(key), MaxKeyLen)
	}
	for _, c := range []byte(key) {
		if c < 0x21 || c > 0x7e {
			return invalid("idempotency_key must be printable ASCII without spaces")
		}
	}
	return nil
}

// ValidateText checks a free-form text field (a memo, label or name): at
// most max bytes of valid UTF-8 without NUL. Both stores then keep it the
// same way: PostgreSQL cannot store U+0000 in text at all, so a NUL refused
// here is a clear error instead of a failed commit.
func ValidateText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	if len(s) > max {
		return invalid("%s is %d bytes, at most %d allowed", field, len(s), max)
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return invalid("%s contains a NUL character (U+0000) at byte %d; remove it", field, i)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
