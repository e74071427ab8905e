package descriptor

import "errors"

// Sentinel errors wrapped by the errors this package returns. Test with
// errors.Is; the message of the returned error carries the details.
var (
	// ErrSyntax reports a malformed descriptor: unbalanced parentheses,
	// trailing characters, an empty argument, a character outside the
	// descriptor character set, a malformed key origin or derivation path.
	ErrSyntax = errors.New("syntax error")

	// ErrChecksum reports a descriptor checksum that is malformed or does
	// not match the descriptor.
	ErrChecksum = errors.New("checksum mismatch")

	// ErrUnknownFunction reports a script expression name that is no
	// descriptor function.
	ErrUnknownFunction = errors.New("unknown function")

	// ErrUnsupported reports a valid descriptor construct that Kosh does
	// not watch, such as pkh(), sh(), multi() or tr() with a script tree.
	ErrUnsupported = errors.New("not supported")

	// ErrInvalidKey reports a key expression that is no usable public key.
	ErrInvalidKey = errors.New("invalid key")

	// ErrPrivateKey reports a private key (WIF, xprv, tprv) in a
	// descriptor. Kosh is watch-only and never accepts private keys.
	ErrPrivateKey = errors.New("private keys are not accepted (Kosh is watch-only)")

	// ErrHardenedDerivation reports a hardened derivation step (including a
	// hardened wildcard *h) after an extended public key, which cannot be
	// derived without the private key.
	ErrHardenedDerivation = errors.New("hardened derivation from an extended public key")

	// ErrWrongNetwork reports an extended key or address that belongs to a
	// network other than the one the descriptor is parsed for.
	ErrWrongNetwork = errors.New("wrong network")

	// ErrInvalidAddress reports an addr() argument that is not an address.
	ErrInvalidAddress = errors.New("invalid address")

	// ErrThreshold reports a sortedmulti threshold that is not a number in
	// 1..n.
	ErrThreshold = errors.New("invalid multisig threshold")

	// ErrTooManyKeys reports a sortedmulti with more than MaxMultisigKeys
	// keys.
	ErrTooManyKeys = errors.New("too many keys")

	// ErrIndexOutOfRange reports a child index of 2^31 or more asked of a
	// ranged descriptor: only unhardened children can be derived.
	ErrIndexOutOfRange = errors.New("index out of range")
)
