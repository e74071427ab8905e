// Package control verifies proofs of control over reserve outputs: BIP-127
// proof-of-reserves transactions, the format any PSBT signer already
// produces (a hardware wallet, a multisig coordinator, Electrum, Bitcoin
// Core's walletprocesspsbt, lnd's walletkit FinalizePsbt).
//
// A proof is a transaction that can never be mined. Its first input, the
// commitment input, spends the non-existent outpoint
//
//	SHA256("Proof-of-Reserves: " ‖ message) : 0
//
// where the message names the issuer's key and a recent block (Challenge).
// Every other input spends a reserve output and carries a signature that
// commits to all inputs, the commitment included; the single output pays
// the inputs' total to an unspendable script (or any script: the
// transaction is invalid whatever it pays). Whoever produced a valid input
// could spend that output after the challenge block, for this issuer: the
// signature cannot be made before the block exists, and cannot be reused
// for another issuer or block.
//
// Verify runs every input through btcd's consensus script interpreter
// (txscript) with the standard verification flags, against the previous
// outputs the proof lists, and runs it again with the commitment input
// changed: a signature that still verifies does not commit to the
// challenge (SIGHASH_ANYONECANPAY, or a script anyone can satisfy) and is
// refused. Matching the listed previous outputs against the chain is the
// caller's job (a verifier's own node).
//
// The package imports only btcd and the standard library, so koshverify
// and third parties can vendor it. The format is specified in
// docs/proofs.md, section 4.12.
package control
