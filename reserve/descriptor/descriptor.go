package descriptor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
)

// MaxMultisigKeys is the largest number of keys in a sortedmulti(), the
// OP_CHECKMULTISIG limit.
const MaxMultisigKeys = 20

// Type is the script type a Descriptor produces.
type Type int

// The script types this package supports.
const (
	TypeAddr           Type = iota + 1 // addr(ADDRESS)
	TypeWPKH                           // wpkh(KEY)
	TypeTR                             // tr(KEY), key path only
	TypeWSHSortedMulti                 // wsh(sortedmulti(k,KEY,...))
)

// String returns the descriptor form of t, such as "wsh(sortedmulti)".
func (t Type) String() string {
	switch t {
	case TypeAddr:
		return "addr"
	case TypeWPKH:
		return "wpkh"
	case TypeTR:
		return "tr"
	case TypeWSHSortedMulti:
		return "wsh(sortedmulti)"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// unsupported lists descriptor functions of BIP 380-390 and miniscript
// fragments that are valid descriptors but are not watched by Kosh.
var unsupported = map[string]bool{
	"pk": true, "pkh": true, "sh": true, "multi": true, "combo": true,
	"sortedmulti": true, "raw": true, "rawtr": true, "musig": true,
	"multi_a": true, "sortedmulti_a": true,
}

// Descriptor is a parsed output script descriptor. It is immutable and safe
// for concurrent use.
type Descriptor struct {
	typ         Type
	net         *chaincfg.Params
	hasChecksum bool

	addr      btcutil.Address // TypeAddr
	keys      []*keyExpr      // one, or the sortedmulti keys
	threshold int             // TypeWSHSortedMulti

	ranged bool
	script []byte // pkScript when not ranged
	canon  string // String(): canonical form with checksum
}

// Parse parses the descriptor s for network net. A checksum suffix
// (#xxxxxxxx) is verified when present; HasChecksum reports whether it was.
// Errors name the problem and wrap the sentinel errors of this package.
func Parse(s string, net *chaincfg.Params) (*Descriptor, error) {
	d, err := parse(s, net)
	if err != nil {
		return nil, fmt.Errorf("descriptor %q: %w", shorten(s), err)
	}
	return d, nil
}

func parse(s string, net *chaincfg.Params) (*Descriptor, error) {
	if net == nil {
		return nil, errors.New("no network given")
	}
	expr, hasChecksum, err := splitChecksum(s)
	if err != nil {
		return nil, err
	}
	top, err := splitCall(expr)
	if err != nil {
		return nil, err
	}
	d := &Descriptor{net: net, hasChecksum: hasChecksum}
	switch top.name {
	case "addr":
		err = d.parseAddr(top)
	case "wpkh":
		err = d.parseSingleKey(top, TypeWPKH, ctxSegwit)
	case "tr":
		if len(top.args) == 2 {
			return nil, fmt.Errorf("%w: tr() with a script tree; only key-path tr(KEY) is watched",
				ErrUnsupported)
		}
		err = d.parseSingleKey(top, TypeTR, ctxTaproot)
	case "wsh":
		err = d.parseWSH(top)
	default:
		err = unknownOrUnsupported(top.name, "")
	}
	if err != nil {
		return nil, err
	}
	for _, k := range d.keys {
		d.ranged = d.ranged || k.ranged
	}
	if !d.ranged {
		if d.script, err = d.computeScript(0); err != nil {
			return nil, err
		}
	}
	d.canon = AddChecksum(d.expr())
	return d, nil
}

// unknownOrUnsupported reports a function name that is not accepted where it
// stands (within is "" at the top level, else the enclosing function).
func unknownOrUnsupported(name, within string) error {
	if unsupported[name] || name == "addr" || name == "wpkh" || name == "tr" || name == "wsh" {
		where := ""
		if within != "" {
			where = " inside " + within + "()"
		}
		return fmt.Errorf("%w: %s()%s; supported: addr(), wpkh(), tr(KEY), wsh(sortedmulti())",
			ErrUnsupported, name, where)
	}
	return fmt.Errorf("%w %q", ErrUnknownFunction, name)
}

func wantArgs(c call, n int) error {
	if len(c.args) != n {
		return fmt.Errorf("%w: %s() takes %d argument(s), got %d", ErrSyntax, c.name, n, len(c.args))
	}
	return nil
}

func (d *Descriptor) parseAddr(c call) error {
	if err := wantArgs(c, 1); err != nil {
		return err
	}
	a, err := decodeAddress(c.args[0], d.net)
	if err != nil {
		return err
	}
	d.typ, d.addr = TypeAddr, a
	return nil
}

// decodeAddress decodes an address of net, naming the network of an address
// of another one.
func decodeAddress(s string, net *chaincfg.Params) (btcutil.Address, error) {
	a, err := btcutil.DecodeAddress(s, net)
	if err == nil && a.IsForNet(net) {
		switch a.(type) {
		case *btcutil.AddressPubKeyHash, *btcutil.AddressScriptHash,
			*btcutil.AddressWitnessPubKeyHash, *btcutil.AddressWitnessScriptHash,
			*btcutil.AddressTaproot:
			return a, nil
		}
		return nil, fmt.Errorf("%w: %q is a public key, not an address", ErrInvalidAddress, shorten(s))
	}
	for _, other := range knownNets {
		if other == net {
			continue
		}
		if oa, oerr := btcutil.DecodeAddress(s, other); oerr == nil && oa.IsForNet(other) {
			return nil, fmt.Errorf("%w: address %s is for %s, network is %s",
				ErrWrongNetwork, shorten(s), netFamily(other), net.Name)
		}
	}
	if err == nil {
		err = errors.New("not for this network")
	}
	return nil, fmt.Errorf("%w %q: %w", ErrInvalidAddress, shorten(s), err)
}

func (d *Descriptor) parseSingleKey(c call, typ Type, ctx keyContext) error {
	if err := wantArgs(c, 1); err != nil {
		return err
	}
	if inner, err := splitCall(c.args[0]); err == nil {
		return fmt.Errorf("%w: %s() takes a key, not %s(...)", ErrSyntax, c.name, inner.name)
	}
	k, err := parseKey(c.args[0], d.net, ctx)
	if err != nil {
		return err
	}
	d.typ, d.keys = typ, []*keyExpr{k}
	return nil
}

func (d *Descriptor) parseWSH(c call) error {
	if err := wantArgs(c, 1); err != nil {
		return err
	}
	inner, err := splitCall(c.args[0])
	if err != nil {
		if !strings.Contains(c.args[0], "(") {
			return fmt.Errorf("%w: wsh() takes a script expression such as sortedmulti(...)", ErrSyntax)
		}
		return err
	}
	if inner.name != "sortedmulti" {
		return unknownOrUnsupported(inner.name, "wsh")
	}
	if len(inner.args) < 2 {
		return fmt.Errorf("%w: sortedmulti() needs a threshold and at least one key", ErrSyntax)
	}
	kStr, keyStrs := inner.args[0], inner.args[1:]
	if len(keyStrs) > MaxMultisigKeys {
		return fmt.Errorf("%w: sortedmulti() has %d keys, at most %d are allowed",
			ErrTooManyKeys, len(keyStrs), MaxMultisigKeys)
	}
	k, err := strconv.ParseUint(kStr, 10, 32)
	if err != nil {
		return fmt.Errorf("%w: %q is not a number", ErrThreshold, shorten(kStr))
	}
	if k == 0 || int(k) > len(keyStrs) {
		return fmt.Errorf("%w: threshold %d with %d keys (need 1 <= k <= n)",
			ErrThreshold, k, len(keyStrs))
	}
	d.typ, d.threshold = TypeWSHSortedMulti, int(k)
	for i, ks := range keyStrs {
		key, err := parseKey(ks, d.net, ctxSegwit)
		if err != nil {
			return fmt.Errorf("sortedmulti key %d: %w", i+1, err)
		}
		d.keys = append(d.keys, key)
	}
	return nil
}

// expr writes the canonical descriptor without checksum.
func (d *Descriptor) expr() string {
	switch d.typ {
	case TypeAddr:
		return "addr(" + d.addr.EncodeAddress() + ")"
	case TypeWPKH:
		return "wpkh(" + d.keys[0].String() + ")"
	case TypeTR:
		return "tr(" + d.keys[0].String() + ")"
	}
	var b strings.Builder
	b.WriteString("wsh(sortedmulti(")
	b.WriteString(strconv.Itoa(d.threshold))
	for _, k := range d.keys {
		b.WriteByte(',')
		b.WriteString(k.String())
	}
	b.WriteString("))")
	return b.String()
}

// String returns the canonical form of the descriptor, with its checksum.
// Parsing it yields an equal Descriptor.
func (d *Descriptor) String() string { return d.canon }

// Type returns the script type of the descriptor.
func (d *Descriptor) Type() Type { return d.typ }

// Network returns the network the descriptor was parsed for.
func (d *Descriptor) Network() *chaincfg.Params { return d.net }

// HasChecksum reports whether the parsed text carried a (valid) checksum.
func (d *Descriptor) HasChecksum() bool { return d.hasChecksum }

// IsRanged reports whether the descriptor has a key ending in /*, so that it
// describes one script per child index rather than a single script.
func (d *Descriptor) IsRanged() bool { return d.ranged }

// Script returns the output script (scriptPubKey) at child index. The index
// is ignored unless the descriptor is ranged; a ranged descriptor accepts
// indexes 0..2^31-1. In the rare case (below 2^-127) that a BIP 32 child does
// not exist, the error wraps hdkeychain.ErrInvalidChild and the caller should
// skip the index.
func (d *Descriptor) Script(index uint32) ([]byte, error) {
	if !d.ranged {
		return bytes.Clone(d.script), nil
	}
	return d.computeScript(index)
}

func (d *Descriptor) computeScript(index uint32) ([]byte, error) {
	switch d.typ {
	case TypeAddr:
		return txscript.PayToAddrScript(d.addr)
	case TypeWPKH:
		pub, err := d.keys[0].pubKey(index)
		if err != nil {
			return nil, err
		}
		return append([]byte{txscript.OP_0, 20}, btcutil.Hash160(pub.SerializeCompressed())...), nil
	case TypeTR:
		out, err := d.taprootKey(index)
		if err != nil {
			return nil, err
		}
		return append([]byte{txscript.OP_1, 32}, schnorr.SerializePubKey(out)...), nil
	}
	ws, err := d.witnessScript(index)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(ws)
	return append([]byte{txscript.OP_0, 32}, h[:]...), nil
}

// taprootKey returns the BIP 86 output key at index.
func (d *Descriptor) taprootKey(index uint32) (*btcec.PublicKey, error) {
	pub, err := d.keys[0].pubKey(index)
	if err != nil {
		return nil, err
	}
	// The internal key is lift_x of the x coordinate (even Y), which
	// ComputeTaprootKeyNoScript takes care of.
	return txscript.ComputeTaprootKeyNoScript(pub), nil
}

// WitnessScript returns the witness script at index of a
// wsh(sortedmulti(...)) descriptor: OP_k <sorted keys> OP_n OP_CHECKMULTISIG.
// Other descriptor types have none and return nil and no error.
func (d *Descriptor) WitnessScript(index uint32) ([]byte, error) {
	if d.typ != TypeWSHSortedMulti {
		return nil, nil
	}
	return d.witnessScript(index)
}

func (d *Descriptor) witnessScript(index uint32) ([]byte, error) {
	keys := make([][]byte, len(d.keys))
	for i, k := range d.keys {
		pub, err := k.pubKey(index)
		if err != nil {
			return nil, fmt.Errorf("sortedmulti key %d: %w", i+1, err)
		}
		keys[i] = pub.SerializeCompressed()
	}
	slices.SortFunc(keys, bytes.Compare)
	ws := make([]byte, 0, 3+len(keys)*34+3)
	ws = appendSmallInt(ws, d.threshold)
	for _, k := range keys {
		ws = append(ws, byte(len(k)))
		ws = append(ws, k...)
	}
	ws = appendSmallInt(ws, len(keys))
	return append(ws, txscript.OP_CHECKMULTISIG), nil
}

// appendSmallInt appends the minimal push of n (1..20): OP_n up to 16, else a
// one byte data push, as BIP 383 specifies.
func appendSmallInt(s []byte, n int) []byte {
	if n <= 16 {
		return append(s, txscript.OP_1-1+byte(n))
	}
	return append(s, txscript.OP_DATA_1, byte(n))
}

// Address returns the address of the output script at index (see Script).
func (d *Descriptor) Address(index uint32) (btcutil.Address, error) {
	switch d.typ {
	case TypeAddr:
		return d.addr, nil
	case TypeWPKH:
		pub, err := d.keys[0].pubKey(index)
		if err != nil {
			return nil, err
		}
		return btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), d.net)
	case TypeTR:
		out, err := d.taprootKey(index)
		if err != nil {
			return nil, err
		}
		return btcutil.NewAddressTaproot(schnorr.SerializePubKey(out), d.net)
	}
	ws, err := d.witnessScript(index)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(ws)
	return btcutil.NewAddressWitnessScriptHash(h[:], d.net)
}
