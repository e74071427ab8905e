// Package sig holds the two kinds of signature a Kosh proof carries, and
// nothing else, so that koshverify and any third party can vendor it without
// the server.
//
// Issuer signatures. The issuer signs each attestation (and each balance
// receipt) with BIP-340 Schnorr over secp256k1. What is signed is never the
// document itself but a 32-byte BIP-340 tagged hash of its RFC 8785 canonical
// bytes (package proofs/jcs): Digest(taghash.TagAttestation, canonical) =
// SHA256(SHA256(tag) || SHA256(tag) || canonical). The tag separates domains,
// so a signature over an attestation can never be replayed as a receipt or as
// a Bitcoin signature. The issuer's public key is the 32-byte x-only key of
// BIP-340, written as 64 lower-case hex characters; a signature is 64 bytes,
// written as 128 lower-case hex characters. Sign draws fresh auxiliary
// randomness for every signature, as BIP-340 recommends; SignWithAux takes it
// from the caller, which makes test vectors reproducible by any BIP-340
// implementation. LoadOrCreateKey keeps the issuer's secret key in a file
// with 0600 permissions and refuses a file that others could read.
//
// Lightning node signatures. An attestation lists the issuer's Lightning
// nodes, each with a signature that proves the issuer controls that node. The
// format is the one lnd's SignMessage produces (and Core Lightning's
// signmessage and Eclair's match): the message is prefixed with the ASCII
// text "Lightning Signed Message:", hashed with double SHA-256, and signed
// with a 65-byte compact recoverable ECDSA signature (header byte 31+recid
// followed by r and s), which is shown to users in zbase32. lnd's own
// VerifyMessage answers "valid" only when the signer is in the verifying
// node's channel graph, so Kosh verifies these signatures itself:
// VerifyNodeMessage recovers the public key from the signature and compares
// it with the node's listed 33-byte compressed key, with no lnd involved.
//
// Name. The package is called sig because that is what its callers spell:
// sig.Verify, sig.VerifyNodeMessage. It holds primitives only; what an
// attestation contains and in which order a verifier checks it belong to the
// attestation and verification packages.
//
// Every error is one plain sentence that says what failed and for which key,
// for example "signature does not verify under issuer key 79be…" or "node
// signature was made by 03cd…, not by the listed node 02ab…".
package sig
