package descriptor

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// call is one parsed script expression NAME(ARG,ARG,...). The arguments are
// the raw text between the top-level commas.
type call struct {
	name string
	args []string
}

// splitCall parses s as a single script expression. Brackets (), [] and {}
// must balance, and nothing may follow the closing parenthesis.
func splitCall(s string) (call, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		if s == "" {
			return call{}, fmt.Errorf("%w: empty descriptor", ErrSyntax)
		}
		if isIdent(s) {
			return call{}, fmt.Errorf("%w: expected '(' after %q", ErrSyntax, s)
		}
		return call{}, fmt.Errorf("%w: expected a script expression such as wpkh(...), got %q",
			ErrSyntax, shorten(s))
	}
	name := s[:open]
	if name == "" {
		return call{}, fmt.Errorf("%w: missing function name before '('", ErrSyntax)
	}
	if !isIdent(name) {
		return call{}, fmt.Errorf("%w: invalid function name %q", ErrSyntax, shorten(name))
	}
	var (
		stack []byte
		args  []string
		start = open + 1
	)
	for i := open; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != matching(c) {
				return call{}, fmt.Errorf("%w: unbalanced parentheses: unexpected %q at position %d",
					ErrSyntax, c, i)
			}
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				continue
			}
			if i != len(s)-1 {
				if c := s[i+1]; c == ')' || c == ']' || c == '}' {
					return call{}, fmt.Errorf("%w: unbalanced parentheses: unexpected %q at position %d",
						ErrSyntax, c, i+1)
				}
				return call{}, fmt.Errorf("%w: trailing characters %q after %s(...)",
					ErrSyntax, shorten(s[i+1:]), name)
			}
			args = append(args, s[start:i])
			for j, a := range args {
				if a == "" && (len(args) > 1 || j > 0) {
					return call{}, fmt.Errorf("%w: %s(): argument %d is empty", ErrSyntax, name, j+1)
				}
			}
			if len(args) == 1 && args[0] == "" {
				args = nil
			}
			return call{name: name, args: args}, nil
		case ',':
			if len(stack) == 1 {
				args = append(args, s[start:i])
				start = i + 1
			}
		}
	}
	return call{}, fmt.Errorf("%w: unbalanced parentheses: %d unclosed", ErrSyntax, len(stack))
}

func matching(closing byte) byte {
	switch closing {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// knownNets are the networks checked to name the network of a foreign key or
// address in an error message.
var knownNets = []*chaincfg.Params{
	&chaincfg.MainNetParams,
	&chaincfg.TestNet3Params,
	&chaincfg.TestNet4Params,
	&chaincfg.SigNetParams,
	&chaincfg.RegressionNetParams,
	&chaincfg.SimNetParams,
}

// netFamily names the group of networks that share net's encodings.
func netFamily(net *chaincfg.Params) string {
	switch net.Bech32HRPSegwit {
	case chaincfg.MainNetParams.Bech32HRPSegwit:
		return "mainnet"
	case chaincfg.TestNet3Params.Bech32HRPSegwit:
		return "testnet"
	case chaincfg.RegressionNetParams.Bech32HRPSegwit:
		return "regtest"
	}
	return net.Name
}

// maxQuoted bounds the length of a descriptor quoted in an error message.
const maxQuoted = 160

// shorten returns s fit for an error message and a log: every private key
// (WIF, or anything that looks like an extended private key) is replaced by
// "<private key>", other long tokens (xpubs, hex keys, addresses) are cut to
// their first 8 and last 4 characters, and the whole is bounded in length.
func shorten(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		tok := s[i:j]
		switch {
		case isPrivatePrefix(tok) && len(tok) > 8:
			b.WriteString("<private key>")
		case len(tok) >= 51 && len(tok) <= 52 && isWIF(tok):
			b.WriteString("<private key>")
		case len(tok) > 20:
			b.WriteString(tok[:8] + "..." + tok[len(tok)-4:])
		default:
			b.WriteString(tok)
		}
		i = j
	}
	out := b.String()
	if len(out) > maxQuoted {
		out = out[:maxQuoted-3] + "..."
	}
	return out
}

func isWIF(tok string) bool {
	_, err := btcutil.DecodeWIF(tok)
	return err == nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
