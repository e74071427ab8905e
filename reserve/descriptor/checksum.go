package descriptor

import (
	"fmt"
	"strings"
)

// inputCharset is the BIP 380 descriptor character set, in the order that
// gives each character its checksum symbol.
const inputCharset = "0123456789()[],'/*abcdefgh@:$%{}" +
	"IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~" +
	"ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "

// checksumCharset is the bech32 alphabet the eight checksum characters are
// written in.
const checksumCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// ChecksumLength is the number of characters of a descriptor checksum.
const ChecksumLength = 8

// charPos maps a byte to 1 + its position in inputCharset, 0 if absent.
var charPos = func() (t [256]uint8) {
	for i := 0; i < len(inputCharset); i++ {
		t[inputCharset[i]] = uint8(i + 1)
	}
	return t
}()

// checksumPos maps a byte to 1 + its position in checksumCharset, 0 if absent.
var checksumPos = func() (t [256]uint8) {
	for i := 0; i < len(checksumCharset); i++ {
		t[checksumCharset[i]] = uint8(i + 1)
	}
	return t
}()

// polymod is one step of the BIP 380 BCH code over GF(32).
func polymod(c uint64, val uint64) uint64 {
	c0 := c >> 35
	c = (c&0x7ffffffff)<<5 ^ val
	if c0&1 != 0 {
		c ^= 0xf5dee51989
	}
	if c0&2 != 0 {
		c ^= 0xa9fdca3312
	}
	if c0&4 != 0 {
		c ^= 0x1bab10e32d
	}
	if c0&8 != 0 {
		c ^= 0x3706b1677a
	}
	if c0&16 != 0 {
		c ^= 0x644d626ffd
	}
	return c
}

// Checksum returns the eight character BIP 380 checksum of the descriptor
// expression expr (written without "#"). It fails with ErrSyntax if expr holds
// a character outside the descriptor character set.
func Checksum(expr string) (string, error) {
	c := uint64(1)
	cls, clscount := 0, 0
	for i := 0; i < len(expr); i++ {
		p := charPos[expr[i]]
		if p == 0 {
			return "", fmt.Errorf("%w: invalid character %s at position %d",
				ErrSyntax, quoteByte(expr, i), i)
		}
		pos := int(p - 1)
		c = polymod(c, uint64(pos&31))
		cls = cls*3 + pos>>5
		clscount++
		if clscount == 3 {
			c = polymod(c, uint64(cls))
			cls, clscount = 0, 0
		}
	}
	if clscount > 0 {
		c = polymod(c, uint64(cls))
	}
	for range ChecksumLength {
		c = polymod(c, 0)
	}
	c ^= 1
	var out [ChecksumLength]byte
	for i := range out {
		out[i] = checksumCharset[(c>>(5*(7-i)))&31]
	}
	return string(out[:]), nil
}

// AddChecksum returns desc followed by "#" and its BIP 380 checksum. A
// checksum desc already carries (anything from the first "#" on) is replaced.
// If desc holds a character outside the descriptor character set it has no
// checksum, and AddChecksum returns desc unchanged; Parse then reports the
// character.
func AddChecksum(desc string) string {
	expr, _, _ := strings.Cut(desc, "#")
	sum, err := Checksum(expr)
	if err != nil {
		return desc
	}
	return expr + "#" + sum
}

// splitChecksum splits s into its expression and checksum, verifying the
// checksum if there is one. hasChecksum reports whether s carried one.
func splitChecksum(s string) (expr string, hasChecksum bool, err error) {
	expr, have, hasChecksum := strings.Cut(s, "#")
	want, err := Checksum(expr)
	if err != nil {
		return "", false, err
	}
	if !hasChecksum {
		return expr, false, nil
	}
	switch {
	case have == "":
		return "", true, fmt.Errorf("%w: empty checksum after '#', want %s", ErrChecksum, want)
	case len(have) != ChecksumLength:
		return "", true, fmt.Errorf("%w: checksum %q has %d characters, want %d (%s)",
			ErrChecksum, have, len(have), ChecksumLength, want)
	}
	for i := 0; i < len(have); i++ {
		if checksumPos[have[i]] == 0 {
			return "", true, fmt.Errorf("%w: checksum %q: invalid character %s",
				ErrChecksum, have, quoteByte(have, i))
		}
	}
	if have != want {
		return "", true, fmt.Errorf("%w: have %s, want %s", ErrChecksum, have, want)
	}
	return expr, true, nil
}

// quoteByte quotes the character at s[i] for an error message; a byte that
// starts a valid UTF-8 sequence is shown as that character.
func quoteByte(s string, i int) string {
	for _, r := range s[i:] {
		return fmt.Sprintf("%q", r)
	}
	return `""`
}
