// Package descriptor parses the output script descriptors that the Kosh
// chain watcher watches, and derives the output scripts and addresses they
// describe.
//
// A descriptor (BIP 380) is a short string that names a family of output
// scripts: the script template, the keys, and how the keys are derived. Kosh
// holds its reserves in cold storage, so the watcher is given descriptors, not
// keys, and matches every output of every block against the scripts they
// produce. This package is that translation from text to scripts, and nothing
// else: it knows nothing of blocks, UTXOs or gap limits.
//
// # Supported descriptors
//
// Only the script types a reserve is expected to use are accepted, and only at
// the top level:
//
//	addr(ADDRESS)                   any P2PKH, P2SH, P2WPKH, P2WSH or P2TR address (BIP 385)
//	wpkh(KEY)                       pay to witness public key hash (BIP 382)
//	tr(KEY)                         taproot, key path only, BIP 86 tweak (BIP 386)
//	wsh(sortedmulti(k,KEY,...))     pay to witness script hash of a sorted k-of-n multisig (BIP 383), 1 <= k <= n <= 20
//
// A KEY (BIP 380) is either a hex public key (66 hex characters, compressed;
// or 64 hex characters, x-only, inside tr only) or an extended public key
// (xpub on mainnet, tpub on the test networks) followed by unhardened
// derivation steps and optionally a final /* that makes the descriptor
// ranged. Either may be preceded by key origin information such as
// [d34db33f/84h/0h/0h], which is kept for display and does not change the
// scripts.
//
// Kosh is watch-only. Private keys (WIF, xprv, tprv) are rejected, and so is
// any hardened step after an extended public key, since deriving it would need
// the private key. Other descriptor functions of BIP 380-386 (pk, pkh, sh,
// multi, combo, raw, tr with a script tree, ...) are recognised and rejected
// with ErrUnsupported; names that are no descriptor function at all are
// rejected with ErrUnknownFunction.
//
// # Checksums
//
// A descriptor may end with #CHECKSUM, the eight character BIP 380 checksum.
// Parse verifies it when present and reports through HasChecksum whether it
// was; configuration that must not accept a mistyped descriptor should require
// it. AddChecksum and Checksum compute it. String returns the canonical form
// with its checksum: hardened steps written as "h" (as Bitcoin Core writes
// them), hex in lower case, derivation indexes without leading zeros.
//
// # Networks
//
// Every descriptor is parsed against one *chaincfg.Params. An extended key or
// address of another network is an error (ErrWrongNetwork). Note that testnet3,
// testnet4, signet and regtest share the tpub version bytes, so a tpub is
// accepted on each of them; bech32 addresses are told apart by their prefix
// (bc, tb, bcrt).
//
// # Derivation cost
//
// For a ranged key the extended key at the fixed part of the path (for
// xpub/0/* the child 0) is derived once, at parse time. Producing the script
// for index i then costs one public child derivation per key plus the script
// template (a hash, or the taproot tweak). A Descriptor is immutable and safe
// for concurrent use.
//
// # Errors
//
// Errors returned by Parse name the problem and wrap one of the sentinel
// errors of this package (ErrSyntax, ErrChecksum, ErrPrivateKey, ...), so
// callers can branch with errors.Is. The descriptor quoted in an error message
// is shortened, and any private key in it is replaced by "<private key>", so
// that error messages can be logged.
package descriptor
