package descriptor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

var (
	mainnet  = &chaincfg.MainNetParams
	testnet3 = &chaincfg.TestNet3Params
	testnet4 = &chaincfg.TestNet4Params
	signet   = &chaincfg.SigNetParams
	regtest  = &chaincfg.RegressionNetParams
)

// TestScriptVectors checks the scripts (and, where the BIP gives them,
// addresses and witness scripts) of the BIP 382, 383, 385, 386 and 86 test
// vectors. Ranged vectors list the scripts at indexes 0, 1, 2...
func TestScriptVectors(t *testing.T) {
	tests := []struct {
		name    string
		desc    string
		net     *chaincfg.Params
		typ     Type
		ranged  bool
		scripts []string
		addrs   []string
		// witness scripts of wsh(); the scripts are then 0020 || sha256.
		witness []string
	}{
		{
			name: "BIP382 wpkh compressed hex key", desc: "wpkh(" + pubL4 + ")", net: mainnet, typ: TypeWPKH,
			scripts: []string{"00149a1c78a507689f6f54b847ad1cef1e614ee23f1e"},
		},
		{
			name: "BIP382 wpkh ranged xpub with origin", net: mainnet, typ: TypeWPKH, ranged: true,
			desc: "wpkh([ffffffff/13']" + xpubC + "/1/2/*)",
			scripts: []string{
				"0014326b2249e3a25d5dc60935f044ee835d090ba859",
				"0014af0bd98abc2f2cae66e36896a39ffe2d32984fb7",
				"00141fa798efd1cbf95cebf912c031b8a4a6e9fb9f27",
			},
		},
		{
			// The BIP's wpkh([ffffffff/13']xprv9vHk.../1/2/0) with the
			// xprv neutered: the same key, so the same script.
			name: "BIP382 wpkh unranged xpub path", net: mainnet, typ: TypeWPKH,
			desc:    "wpkh([ffffffff/13']" + xpubC + "/1/2/0)",
			scripts: []string{"0014326b2249e3a25d5dc60935f044ee835d090ba859"},
		},
		{
			name: "BIP386 tr x-only key", desc: "tr(" + xonlyL4 + ")", net: mainnet, typ: TypeTR,
			scripts: []string{"512077aab6e066f8a7419c5ab714c12c67d25007ed55a43cadcacb4d7a970a093f11"},
		},
		{
			// BIP 386 gives tr(L4rK...) the same script; 03a34b... is its
			// public key, implicitly converted to x-only.
			name: "BIP386 tr compressed key", desc: "tr(" + pubL4 + ")", net: mainnet, typ: TypeTR,
			scripts: []string{"512077aab6e066f8a7419c5ab714c12c67d25007ed55a43cadcacb4d7a970a093f11"},
		},
		{
			name: "BIP86 tr receive", net: mainnet, typ: TypeTR, ranged: true,
			desc: "tr([73c5da0a/86'/0'/0']" + xpub86 + "/0/*)",
			scripts: []string{
				"5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
				"5120a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb",
			},
			addrs: []string{
				"bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
				"bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh",
			},
		},
		{
			name: "BIP86 tr change", net: mainnet, typ: TypeTR, ranged: true,
			desc:    "tr([73c5da0a/86h/0h/0h]" + xpub86 + "/1/*)",
			scripts: []string{"5120882d74e5d0572d5a816cef0041a96b6c1de832f6f9676d9605c44d5e9a97d3dc"},
			addrs:   []string{"bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"},
		},
		{
			name: "BIP383 sortedmulti of two ranged xpubs", net: mainnet, typ: TypeWSHSortedMulti, ranged: true,
			desc: "wsh(sortedmulti(2," + xpubA + "/*," + xpubB + "/0/0/*))",
			witness: []string{
				"5221025d5fc65ebb8d44a5274b53bac21ff8307fec2334a32df05553459f8b1f7fe1b62102fbd47cc8034098f0e6a94c6aeee8528abf0a2153a5d8e46d325b7284c046784652ae",
				"52210264fd4d1f5dea8ded94c61e9641309349b62f27fbffe807291f664e286bfbe6472103f4ece6dfccfa37b211eb3d0af4d0c61dba9ef698622dc17eecdf764beeb005a652ae",
				"5221022ccabda84c30bad578b13c89eb3b9544ce149787e5b538175b1d1ba259cbb83321024d902e1a2fc7a8755ab5b694c575fce742c48d9ff192e63df5193e4c7afe1f9c52ae",
			},
		},
		{
			// Same keys in the other order: sorting makes it the same.
			name: "BIP383 sortedmulti keys reversed", net: mainnet, typ: TypeWSHSortedMulti, ranged: true,
			desc: "wsh(sortedmulti(2," + xpubB + "/0/0/*," + xpubA + "/*))",
			witness: []string{
				"5221025d5fc65ebb8d44a5274b53bac21ff8307fec2334a32df05553459f8b1f7fe1b62102fbd47cc8034098f0e6a94c6aeee8528abf0a2153a5d8e46d325b7284c046784652ae",
			},
		},
		{
			name: "sortedmulti 1-of-2 hex keys", net: mainnet, typ: TypeWSHSortedMulti,
			desc:    "wsh(sortedmulti(1," + pubL4 + "," + pub60 + "))",
			witness: []string{"5121" + pub60 + "21" + pubL4 + "52ae"},
		},
		{
			name: "sortedmulti 16-of-16 (OP_16)", net: mainnet, typ: TypeWSHSortedMulti,
			desc:    "wsh(sortedmulti(16," + strings.Join(bip383Keys16, ",") + "))",
			witness: []string{"60" + sortedPushes(bip383Keys16) + "60ae"},
		},
		{
			// k and n above 16 are pushed as one data byte (BIP 383).
			name: "sortedmulti 17-of-20 (data pushes)", net: mainnet, typ: TypeWSHSortedMulti,
			desc:    "wsh(sortedmulti(17," + strings.Join(keys20(), ",") + "))",
			witness: []string{"0111" + sortedPushes(keys20()) + "0114ae"},
		},
		{
			name: "BIP385 addr p2sh", desc: "addr(3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j)", net: mainnet, typ: TypeAddr,
			scripts: []string{"a914eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee87"},
			addrs:   []string{"3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j"},
		},
		{
			name: "addr taproot (BIP86 address)", net: mainnet, typ: TypeAddr,
			desc:    "addr(bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr)",
			scripts: []string{"5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"},
		},
		{
			name: "addr p2wpkh (BIP382 script)", net: mainnet, typ: TypeAddr,
			desc:    "addr(bc1qxf4jyj0r5fw4m3sfxhcyfm5rt5ysh2zej5q0n2)",
			scripts: []string{"0014326b2249e3a25d5dc60935f044ee835d090ba859"},
		},
		{
			name: "tr tpub on testnet3", net: testnet3, typ: TypeTR, ranged: true,
			desc:    "tr(" + tpub86 + "/0/*)",
			scripts: []string{"5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"},
			addrs:   []string{"tb1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqp3mvzv"},
		},
		{
			name: "tr tpub on testnet4", net: testnet4, typ: TypeTR, ranged: true,
			desc:    "tr(" + tpub86 + "/0/*)",
			scripts: []string{"5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"},
		},
		{
			name: "tr tpub on signet", net: signet, typ: TypeTR, ranged: true,
			desc:    "tr(" + tpub86 + "/0/*)",
			scripts: []string{"5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"},
		},
		{
			name: "tr tpub on regtest", net: regtest, typ: TypeTR, ranged: true,
			desc:    "tr(" + tpub86 + "/0/*)",
			scripts: []string{"5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"},
			addrs:   []string{"bcrt1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqvg32hk"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.desc, tt.net)
			if err != nil {
				t.Fatal(err)
			}
			if d.Type() != tt.typ || d.IsRanged() != tt.ranged || d.Network() != tt.net || d.HasChecksum() {
				t.Errorf("Type %v IsRanged %v Network %s HasChecksum %v, want %v %v %s false",
					d.Type(), d.IsRanged(), d.Network().Name, d.HasChecksum(), tt.typ, tt.ranged, tt.net.Name)
			}
			scripts := tt.scripts
			for i, ws := range tt.witness {
				got, err := d.WitnessScript(uint32(i))
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(got) != ws {
					t.Errorf("WitnessScript(%d) = %x\nwant %s", i, got, ws)
				}
				raw, _ := hex.DecodeString(ws)
				h := sha256.Sum256(raw)
				scripts = append(scripts, "0020"+hex.EncodeToString(h[:]))
			}
			for i, want := range scripts {
				got, err := d.Script(uint32(i))
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(got) != want {
					t.Errorf("Script(%d) = %x\nwant %s", i, got, want)
				}
				// The address must encode the same script.
				a, err := d.Address(uint32(i))
				if err != nil {
					t.Fatal(err)
				}
				if !a.IsForNet(tt.net) {
					t.Errorf("Address(%d) %s is not for %s", i, a, tt.net.Name)
				}
				if i < len(tt.addrs) && a.EncodeAddress() != tt.addrs[i] {
					t.Errorf("Address(%d) = %s, want %s", i, a, tt.addrs[i])
				}
				if got, want := a.ScriptAddress(), scriptProgram(t, want); !bytes.Equal(got, want) {
					t.Errorf("Address(%d) program %x does not match script %s", i, got, scripts[i])
				}
			}
			if !tt.ranged && len(scripts) > 0 {
				// The index of an unranged descriptor is ignored.
				got, err := d.Script(1 << 31)
				if err != nil || hex.EncodeToString(got) != scripts[0] {
					t.Errorf("Script(2^31) = %x, %v; want %s", got, err, scripts[0])
				}
			}
			if tt.typ != TypeWSHSortedMulti {
				if ws, err := d.WitnessScript(0); ws != nil || err != nil {
					t.Errorf("WitnessScript of %v = %x, %v; want nil, nil", tt.typ, ws, err)
				}
			}
		})
	}
}

// scriptProgram returns what btcutil.Address.ScriptAddress returns for the
// script: the hash or witness program.
func scriptProgram(t *testing.T, scriptHex string) []byte {
	t.Helper()
	s, _ := hex.DecodeString(scriptHex)
	switch {
	case len(s) == 23 && s[0] == 0xa9: // p2sh
		return s[2:22]
	case len(s) == 25 && s[0] == 0x76: // p2pkh
		return s[3:23]
	case len(s) >= 4:
		return s[2:]
	}
	t.Fatalf("unexpected script %s", scriptHex)
	return nil
}

func keys20() []string {
	return append(append([]string{}, bip383Keys16...), extraKeys[:4]...)
}

// sortedPushes is the hex of the keys sorted, each after its 0x21 push.
func sortedPushes(keys []string) string {
	sorted := append([]string{}, keys...)
	// Lower-case hex sorts like the bytes it encodes.
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if sorted[j] < sorted[i] {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	return "21" + strings.Join(sorted, "21")
}

// TestStringCanonical checks the canonical form String returns.
func TestStringCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
		net            *chaincfg.Params
	}{
		{"hardened marker becomes h", "wpkh([ffffffff/13']" + xpubC + "/1/2/*)", "wpkh([ffffffff/13h]" + xpubC + "/1/2/*)", mainnet},
		{"upper-case fingerprint, leading zeros", "wpkh([FFFFFFFF/013h/0']" + xpubC + "/01/002/*)", "wpkh([ffffffff/13h/0h]" + xpubC + "/1/2/*)", mainnet},
		{"upper-case hex key", "wpkh(" + strings.ToUpper(pubL4) + ")", "wpkh(" + pubL4 + ")", mainnet},
		{"x-only stays x-only", "tr(" + xonlyL4 + ")", "tr(" + xonlyL4 + ")", mainnet},
		{"compressed stays compressed in tr", "tr(" + pubL4 + ")", "tr(" + pubL4 + ")", mainnet},
		{"origin without path", "tr([deadbeef]" + xpub86 + ")", "tr([deadbeef]" + xpub86 + ")", mainnet},
		{"threshold leading zero", "wsh(sortedmulti(02," + xpubA + "/*," + xpubB + "/0/0/*))", "wsh(sortedmulti(2," + xpubA + "/*," + xpubB + "/0/0/*))", mainnet},
		{"key order kept", "wsh(sortedmulti(1," + pubL4 + "," + pub60 + "))", "wsh(sortedmulti(1," + pubL4 + "," + pub60 + "))", mainnet},
		{"upper-case bech32 address", "addr(BC1P5CYXNUXMEUWUVKWFEM96LQZSZD02N6XDCJRS20CAC6YQJJWUDPXQKEDRCR)", "addr(bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr)", mainnet},
		{"checksum replaced by the canonical one", AddChecksum("wpkh([ffffffff/13']" + xpubC + "/1/2/*)"), "wpkh([ffffffff/13h]" + xpubC + "/1/2/*)", mainnet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in, tt.net)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := d.String(), AddChecksum(tt.want); got != want {
				t.Errorf("String() = %s\nwant       %s", got, want)
			}
			if d.HasChecksum() != strings.Contains(tt.in, "#") {
				t.Errorf("HasChecksum() = %v for %s", d.HasChecksum(), tt.in)
			}
			assertRoundTrip(t, d)
		})
	}
}

// TestStringRoundTrip checks that String of every vector parses back to a
// descriptor with the same String, a checksum and the same scripts.
func TestStringRoundTrip(t *testing.T) {
	for _, s := range []string{
		"wpkh(" + pubL4 + ")",
		"wpkh([ffffffff/13']" + xpubC + "/1/2/*)",
		"wpkh(" + xpubC + ")",
		"tr(" + xonlyL4 + ")",
		"tr([73c5da0a/86'/0'/0']" + xpub86 + "/0/*)",
		"wsh(sortedmulti(2," + xpubA + "/*," + xpubB + "/0/0/*," + xpubC + "/7/*))",
		"wsh(sortedmulti(1," + pubL4 + "," + xpubB + "/0/*))",
		"addr(3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j)",
		"addr(1BoatSLRHtKNngkdXEeobR76b53LETtpyT)",
	} {
		d, err := Parse(s, mainnet)
		if err != nil {
			t.Fatal(err)
		}
		// A canonical descriptor with its checksum is its own String.
		if d2, err := Parse(d.String(), mainnet); err != nil || d2.String() != d.String() {
			t.Fatalf("Parse(%s) = %v, %v", d.String(), d2, err)
		}
		assertRoundTrip(t, d)
	}
}

func assertRoundTrip(t *testing.T, d *Descriptor) {
	t.Helper()
	d2, err := Parse(d.String(), d.Network())
	if err != nil {
		t.Fatalf("Parse(String()) = %v", err)
	}
	if d2.String() != d.String() || !d2.HasChecksum() || d2.IsRanged() != d.IsRanged() || d2.Type() != d.Type() {
		t.Fatalf("round trip changed the descriptor:\n%s\n%s", d, d2)
	}
	for i := uint32(0); i < 3; i++ {
		a, err1 := d.Script(i)
		b, err2 := d2.Script(i)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("Script(%d) differs after round trip: %x %v / %x %v", i, a, err1, b, err2)
		}
	}
}

// TestBIP380KeyExpressions runs the key expression vectors of BIP 380 inside
// wpkh(). Expressions BIP 380 calls valid but Kosh refuses (uncompressed keys
// under segwit, private keys, hardened steps after an xpub) expect the error
// that says why.
func TestBIP380KeyExpressions(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		wantErr error
	}{
		// Valid.
		{"compressed public key", pub60, nil},
		{"public key with key origin", "[deadbeef/0h/0h/0h]" + pub60, nil},
		{"key origin with ' as hardened indicator", "[deadbeef/0'/0'/0']" + pub60, nil},
		{"key origin with mixed hardened indicator", "[deadbeef/0'/0h/0']" + pub60, nil},
		{"extended public key", xpubA, nil},
		{"extended public key with key origin", "[deadbeef/0h/1h/2h]" + xpubA, nil},
		{"extended public key with derivation", "[deadbeef/0h/1h/2h]" + xpubA + "/3/4/5", nil},
		{"extended public key with derivation and children", "[deadbeef/0h/1h/2h]" + xpubA + "/3/4/5/*", nil},
		// Valid in BIP 380, refused by Kosh.
		{"uncompressed public key (segwit)", uncompL4, ErrInvalidKey},
		{"WIF uncompressed private key", wif5K, ErrPrivateKey},
		{"WIF compressed private key", wifL4, ErrPrivateKey},
		{"xpub hardened derivation, unhardened children", xpubA + "/3h/4h/5h/*", ErrHardenedDerivation},
		{"xpub hardened derivation and children", xpubA + "/3h/4h/5h/*h", ErrHardenedDerivation},
		{"xpub origin, hardened derivation and children", "[deadbeef/0h/1h/2]" + xpubA + "/3h/4h/5h/*h", ErrHardenedDerivation},
		{"extended private key", "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc", ErrPrivateKey},
		{"extended private key with origin and children", "[deadbeef/0h/1h/2h]xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc/3/4/5/*", ErrPrivateKey},
		// Invalid.
		{"children indicator in key origin", "[deadbeef/0h/0h/0h/*]" + pub60, ErrSyntax},
		{"trailing slash in key origin", "[deadbeef/0h/0h/0h/]" + pub60, ErrSyntax},
		{"too short fingerprint", "[deadbef/0h/0h/0h]" + pub60, ErrSyntax},
		{"too long fingerprint", "[deadbeeef/0h/0h/0h]" + pub60, ErrSyntax},
		{"invalid hardened indicator f", "[deadbeef/0f/0f/0f]" + pub60, ErrSyntax},
		{"invalid hardened indicator H", "[deadbeef/0H/0H/0H]" + pub60, ErrSyntax},
		{"invalid hardened indicator -", "[deadbeef/-0/-0/-0]" + pub60, ErrSyntax},
		{"private key with derivation", wifL4 + "/0", ErrPrivateKey},
		{"private key with derivation children", wifL4 + "/*", ErrPrivateKey},
		{"derivation index out of range", xpubA + "/2147483648", ErrSyntax},
		{"invalid derivation index", xpubA + "/1aa", ErrSyntax},
		{"multiple key origins", "[aaaaaaaa][aaaaaaaa]" + xpubA + "/0", ErrSyntax},
		{"missing key origin start", "aaaaaaaa]" + xpubA + "/0", ErrSyntax},
		{"non hex fingerprint", "[gaaaaaaa]" + xpubA + "/0", ErrSyntax},
		{"key origin with no public key", "[deadbeef]", ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("wpkh("+tt.key+")", mainnet)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestParseErrors checks every way Parse refuses a descriptor: the sentinel
// error and the words of the message.
func TestParseErrors(t *testing.T) {
	good := "wpkh(" + xpubC + "/0/*)"
	sum := mustChecksum(t, good)
	badXpub := xpubA[:20] + "X" + xpubA[21:]
	tests := []struct {
		name    string
		desc    string
		net     *chaincfg.Params
		wantErr error
		wantMsg string
	}{
		// Checksums.
		{"bad checksum", good + "#qqqqqqqq", mainnet, ErrChecksum, "checksum mismatch: have qqqqqqqq, want " + sum},
		{"checksum of another descriptor", "wpkh(" + xpubC + "/1/*)#" + sum, mainnet, ErrChecksum, "have " + sum + ", want"},
		{"empty checksum", good + "#", mainnet, ErrChecksum, "empty checksum"},
		{"short checksum", good + "#" + sum[:7], mainnet, ErrChecksum, "7 characters"},
		{"long checksum", good + "#" + sum + "q", mainnet, ErrChecksum, "9 characters"},
		{"invalid checksum character", good + "#" + sum[:7] + "b", mainnet, ErrChecksum, "invalid character 'b'"},
		{"two checksums", good + "#" + sum + "#" + sum, mainnet, ErrChecksum, "17 characters"},
		{"non-ASCII character", "wpkh(Ü)", mainnet, ErrSyntax, "invalid character 'Ü' at position 5"},
		{"newline", good + "\n", mainnet, ErrSyntax, "invalid character '\\n'"},
		// Structure.
		{"empty", "", mainnet, ErrSyntax, "empty descriptor"},
		{"bare name", "wpkh", mainnet, ErrSyntax, "expected '(' after \"wpkh\""},
		{"no function", pubL4, mainnet, ErrSyntax, "expected '(' after"},
		{"no function, not a name", "[deadbeef]" + pubL4, mainnet, ErrSyntax, "expected a script expression"},
		{"missing name", "(" + pubL4 + ")", mainnet, ErrSyntax, "missing function name"},
		{"upper-case name", "WPKH(" + pubL4 + ")", mainnet, ErrSyntax, "invalid function name"},
		{"trailing garbage", good + "x", mainnet, ErrSyntax, `trailing characters "x" after wpkh(...)`},
		{"trailing space", good + " ", mainnet, ErrSyntax, "trailing characters"},
		{"leading space", " " + good, mainnet, ErrSyntax, "invalid function name"},
		{"extra closing parenthesis", good + ")", mainnet, ErrSyntax, "unbalanced parentheses: unexpected ')'"},
		{"unclosed parenthesis", "wpkh(" + pubL4, mainnet, ErrSyntax, "unbalanced parentheses: 1 unclosed"},
		{"unclosed inner parenthesis", "wsh(sortedmulti(1," + pubL4 + ")", mainnet, ErrSyntax, "unbalanced parentheses"},
		{"mismatched bracket", "wpkh([deadbeef)" + pubL4 + "]", mainnet, ErrSyntax, "unbalanced parentheses"},
		{"no arguments", "wpkh()", mainnet, ErrSyntax, "wpkh() takes 1 argument(s), got 0"},
		{"two arguments", "wpkh(" + pubL4 + "," + pub60 + ")", mainnet, ErrSyntax, "takes 1 argument(s), got 2"},
		{"empty argument", "wsh(sortedmulti(1,," + pubL4 + "))", mainnet, ErrSyntax, "argument 2 is empty"},
		{"script in wpkh (BIP382)", "wpkh(wsh(pkh(" + pubL4 + ")))", mainnet, ErrSyntax, "wpkh() takes a key, not wsh(...)"},
		{"key in wsh (BIP382)", "wsh(" + pubL4 + ")", mainnet, ErrSyntax, "wsh() takes a script expression"},
		// Functions.
		{"unknown function", "foo(" + pubL4 + ")", mainnet, ErrUnknownFunction, `unknown function "foo"`},
		{"unknown function inside wsh", "wsh(foo(1," + pubL4 + "))", mainnet, ErrUnknownFunction, `unknown function "foo"`},
		{"pkh", "pkh(" + pubL4 + ")", mainnet, ErrUnsupported, "pkh()"},
		{"sh(wpkh)", "sh(wpkh(" + pubL4 + "))", mainnet, ErrUnsupported, "sh()"},
		{"bare sortedmulti", "sortedmulti(1," + pubL4 + ")", mainnet, ErrUnsupported, "sortedmulti()"},
		{"raw (BIP385)", "raw(deadbeef)", mainnet, ErrUnsupported, "raw()"},
		{"combo", "combo(" + pubL4 + ")", mainnet, ErrUnsupported, "combo()"},
		{"wsh(multi)", "wsh(multi(1," + pubL4 + "))", mainnet, ErrUnsupported, "multi() inside wsh()"},
		{"wsh(pkh) (BIP382)", "wsh(pkh(" + pubL4 + "))", mainnet, ErrUnsupported, "pkh() inside wsh()"},
		{"wsh(wpkh) (BIP382)", "wsh(wpkh(" + pubL4 + "))", mainnet, ErrUnsupported, "wpkh() inside wsh()"},
		{"wsh(wsh) (BIP382)", "wsh(wsh(pkh(" + pubL4 + ")))", mainnet, ErrUnsupported, "wsh() inside wsh()"},
		{"wsh(tr) (BIP386)", "wsh(tr(" + xonlyL4 + "))", mainnet, ErrUnsupported, "tr() inside wsh()"},
		{"sh(tr) (BIP386)", "sh(tr(" + xonlyL4 + "))", mainnet, ErrUnsupported, "sh()"},
		{"tr with script tree (BIP386)", "tr(" + xonlyL4 + ",pk(669b8afcec803a0d323e9a17f3ea8e68e8abe5a278020a929adbec52421adbd0))", mainnet, ErrUnsupported, "script tree"},
		// Keys.
		{"garbage key", "wpkh(notakey)", mainnet, ErrInvalidKey, `"notakey" is neither a hex public key nor an extended public key`},
		{"xpub with bad checksum", "wpkh(" + badXpub + "/0/*)", mainnet, ErrInvalidKey, "bad extended key checksum"},
		{"hex key of wrong length", "wpkh(" + pubL4 + "00)", mainnet, ErrInvalidKey, "is neither a hex public key"},
		{"hex key with bad prefix", "wpkh(05" + xonlyL4 + ")", mainnet, ErrInvalidKey, "is not a compressed public key"},
		{"hex key not on the curve", "wpkh(02" + strings.Repeat("ff", 32) + ")", mainnet, ErrInvalidKey, "public key 02ffffff...ffff"},
		{"x-only key in wpkh", "wpkh(" + xonlyL4 + ")", mainnet, ErrInvalidKey, "x-only public key"},
		{"x-only key in wsh", "wsh(sortedmulti(1," + xonlyL4 + "))", mainnet, ErrInvalidKey, "sortedmulti key 1: invalid key: x-only"},
		{"uncompressed key in wpkh (BIP382)", "wpkh(" + uncompL4 + ")", mainnet, ErrInvalidKey, "uncompressed public key"},
		{"uncompressed key in tr (BIP386)", "tr(" + uncompL4 + ")", mainnet, ErrInvalidKey, "uncompressed public key"},
		{"uncompressed key in sortedmulti (BIP383)", "wsh(sortedmulti(1," + uncompL4 + "," + pubL4 + "))", mainnet, ErrInvalidKey, "uncompressed"},
		{"derivation after hex key", "wpkh(" + pubL4 + "/0)", mainnet, ErrSyntax, "derivation path after a non-extended key"},
		{"wildcard not last", "wpkh(" + xpubC + "/*/0)", mainnet, ErrSyntax, "wildcard '*' must be the last"},
		{"double wildcard", "wpkh(" + xpubC + "/*/*)", mainnet, ErrSyntax, "wildcard"},
		{"trailing slash after xpub", "wpkh(" + xpubC + "/0/)", mainnet, ErrSyntax, "empty derivation step"},
		{"origin not closed", "wpkh([deadbeef/0h" + pubL4 + ")", mainnet, ErrSyntax, "unbalanced parentheses"},
		{"zpub (SLIP-132)", "wpkh(zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs)", mainnet, ErrInvalidKey, "version 04b24746"},
		// Private keys.
		{"WIF (BIP382)", "wpkh(" + wifL4 + ")", mainnet, ErrPrivateKey, "WIF private key"},
		{"WIF uncompressed (BIP386)", "tr(" + wif5K + ")", mainnet, ErrPrivateKey, "WIF"},
		{"xprv (BIP382)", "wpkh([ffffffff/13']" + xprvC + "/1/2/0)", mainnet, ErrPrivateKey, "extended private key"},
		{"xprv master with hardened wildcard (BIP382)", "wpkh(" + xprvM + "/10/20/30/40/*h)", mainnet, ErrPrivateKey, "watch-only"},
		{"tprv on testnet", "tr(" + tprvC + "/0/*)", testnet3, ErrPrivateKey, "extended private key"},
		{"xprv in sortedmulti", "wsh(sortedmulti(1," + pubL4 + "," + xprvC + "/0/*))", mainnet, ErrPrivateKey, "sortedmulti key 2"},
		{"mangled xprv", "wpkh(" + xprvC[:30] + "Q" + xprvC[31:] + ")", mainnet, ErrPrivateKey, "does not decode"},
		// Hardened derivation after an xpub.
		{"hardened wildcard h", "wpkh(" + xpubC + "/0/*h)", mainnet, ErrHardenedDerivation, `hardened wildcard "*h"`},
		{"hardened wildcard '", "tr(" + xpub86 + "/0/*')", mainnet, ErrHardenedDerivation, `hardened wildcard "*'"`},
		{"hardened step", "wpkh(" + xpubC + "/0h/*)", mainnet, ErrHardenedDerivation, `step "0h" needs the private key`},
		{"hardened step in sortedmulti", "wsh(sortedmulti(1," + xpubA + "/1'/*))", mainnet, ErrHardenedDerivation, "sortedmulti key 1"},
		// Networks.
		{"xpub on testnet3", "wpkh(" + xpubC + "/0/*)", testnet3, ErrWrongNetwork, "xpub is for mainnet, network is testnet3"},
		{"xpub on regtest", "tr(" + xpub86 + "/0/*)", regtest, ErrWrongNetwork, "xpub is for mainnet, network is regtest"},
		{"tpub on mainnet", "tr(" + tpub86 + "/0/*)", mainnet, ErrWrongNetwork, "tpub is for testnet, network is mainnet"},
		{"tpub in sortedmulti on mainnet", "wsh(sortedmulti(1," + xpubA + "/*," + tpub86 + "/*))", mainnet, ErrWrongNetwork, "sortedmulti key 2: wrong network: tpub"},
		{"mainnet address on testnet", "addr(bc1qxf4jyj0r5fw4m3sfxhcyfm5rt5ysh2zej5q0n2)", testnet3, ErrWrongNetwork, "is for mainnet, network is testnet3"},
		{"testnet address on mainnet", "addr(tb1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqp3mvzv)", mainnet, ErrWrongNetwork, "is for testnet, network is mainnet"},
		{"testnet address on regtest", "addr(tb1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqp3mvzv)", regtest, ErrWrongNetwork, "is for testnet, network is regtest"},
		{"regtest address on testnet", "addr(bcrt1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqvg32hk)", testnet3, ErrWrongNetwork, "is for regtest, network is testnet3"},
		{"mainnet p2sh on testnet", "addr(3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j)", testnet3, ErrWrongNetwork, "is for mainnet"},
		// Addresses.
		{"invalid address (BIP385)", "addr(asdf)", mainnet, ErrInvalidAddress, `invalid address "asdf"`},
		{"address with bad checksum", "addr(bc1qxf4jyj0r5fw4m3sfxhcyfm5rt5ysh2zej5q0n3)", mainnet, ErrInvalidAddress, "invalid address"},
		{"public key as address", "addr(" + pubL4 + ")", mainnet, ErrInvalidAddress, "is a public key, not an address"},
		{"addr without argument", "addr()", mainnet, ErrSyntax, "addr() takes 1 argument(s), got 0"},
		// Multisig.
		{"k > n", "wsh(sortedmulti(3," + pubL4 + "," + pub60 + "))", mainnet, ErrThreshold, "threshold 3 with 2 keys"},
		{"k == 0", "wsh(sortedmulti(0," + pubL4 + "," + pub60 + "))", mainnet, ErrThreshold, "threshold 0 with 2 keys"},
		{"non-numeric k (BIP383)", "wsh(sortedmulti(a," + pubL4 + "," + pub60 + "))", mainnet, ErrThreshold, `"a" is not a number`},
		{"negative k", "wsh(sortedmulti(-1," + pubL4 + "))", mainnet, ErrThreshold, "not a number"},
		{"huge k", "wsh(sortedmulti(99999999999," + pubL4 + "))", mainnet, ErrThreshold, "not a number"},
		{"no keys", "wsh(sortedmulti(1))", mainnet, ErrSyntax, "needs a threshold and at least one key"},
		{"21 keys", "wsh(sortedmulti(1," + strings.Join(append(keys20(), extraKeys[4]), ",") + "))", mainnet, ErrTooManyKeys, "21 keys, at most 20"},
		{"bad key in sortedmulti", "wsh(sortedmulti(1," + pubL4 + ",nope))", mainnet, ErrInvalidKey, "sortedmulti key 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.desc, tt.net)
			if err == nil {
				t.Fatalf("Parse succeeded: %s", d)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q does not wrap %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "descriptor \"") {
				t.Errorf("error %q does not name the descriptor", err)
			}
			for _, secret := range []string{wifL4, wif5K, xprvC, xprvM, tprvC, xprvC[:40]} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals a private key", err)
				}
			}
		})
	}
}

func TestParseNilNetwork(t *testing.T) {
	if _, err := Parse("wpkh("+pubL4+")", nil); err == nil {
		t.Fatal("Parse with a nil network succeeded")
	}
}

func TestErrorShortensLongDescriptor(t *testing.T) {
	desc := "wsh(sortedmulti(1," + strings.Join(keys20(), ",") + ",x))"
	_, err := Parse(desc, mainnet)
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	if len(err.Error()) > 400 {
		t.Errorf("error message is %d bytes long: %s", len(err.Error()), err)
	}
}

func TestScriptIndexOutOfRange(t *testing.T) {
	d, err := Parse("wpkh("+xpubC+"/0/*)", mainnet)
	if err != nil {
		t.Fatal(err)
	}
	for _, idx := range []uint32{1 << 31, 1<<32 - 1} {
		if _, err := d.Script(idx); !errors.Is(err, ErrIndexOutOfRange) {
			t.Errorf("Script(%d) error = %v, want ErrIndexOutOfRange", idx, err)
		}
		if _, err := d.Address(idx); !errors.Is(err, ErrIndexOutOfRange) {
			t.Errorf("Address(%d) error = %v, want ErrIndexOutOfRange", idx, err)
		}
	}
	if _, err := d.Script(1<<31 - 1); err != nil {
		t.Errorf("Script(2^31-1) = %v", err)
	}
}

// TestCachedDerivationMatchesFullPath checks that deriving from the cached
// parent gives the keys a full derivation from the xpub gives.
func TestCachedDerivationMatchesFullPath(t *testing.T) {
	d, err := Parse("wpkh([ffffffff/13h]"+xpubC+"/1/2/*)", mainnet)
	if err != nil {
		t.Fatal(err)
	}
	root, err := hdkeychain.NewKeyFromString(xpubC)
	if err != nil {
		t.Fatal(err)
	}
	for _, idx := range []uint32{0, 1, 2, 3, 99, 999, 1000, 123456, 1<<31 - 1} {
		k := root
		for _, step := range []uint32{1, 2, idx} {
			if k, err = k.Derive(step); err != nil {
				t.Fatal(err)
			}
		}
		a, err := k.Address(mainnet) // p2pkh of the same key
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.Script(idx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s[2:], a.ScriptAddress()) {
			t.Errorf("index %d: script %x, full derivation gives key hash %x", idx, s, a.ScriptAddress())
		}
	}
}

// TestScriptReturnsCopy checks that a caller cannot change the cached script
// of an unranged descriptor.
func TestScriptReturnsCopy(t *testing.T) {
	d, err := Parse("wpkh("+pubL4+")", mainnet)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.Script(0)
	s[2] ^= 0xff
	s2, _ := d.Script(0)
	if s2[2] == s[2] {
		t.Fatal("Script returned the cached slice")
	}
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[Type]string{
		TypeAddr: "addr", TypeWPKH: "wpkh", TypeTR: "tr", TypeWSHSortedMulti: "wsh(sortedmulti)", 0: "Type(0)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", int(typ), got, want)
		}
	}
}
