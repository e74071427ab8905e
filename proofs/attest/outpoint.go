package attest

import (
	"strconv"
	"strings"

	"github.com/kosh-reserve/kosh/proofs/field"
)

// SplitOutpoint splits "txid:vout" with a 64-hex txid and a canonical
// decimal vout below 2^32.
func SplitOutpoint(s string) (string, uint32, bool) {
	i := strings.IndexByte(s, ':')
	if i != 64 || !field.IsLowerHex(s[:64], 64) {
		return "", 0, false
	}
	v := s[65:]
	if v == "" || len(v) > 1 && v[0] == '0' {
		return "", 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != v {
		return "", 0, false
	}
	return s[:64], uint32(n), true
}
