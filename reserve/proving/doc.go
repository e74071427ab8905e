// Package proving keeps koshd's proofs of control over its reserve outputs
// (docs/proofs.md 4.12): BIP-127 proof-of-reserves transactions, checked
// with proofs/control and stored with the outputs they prove.
//
// Proofs arrive two ways. Cold keys: Export builds a PSBT over the outputs
// to prove, committing to the issuer key and the chain watcher's tip, with
// every field a signer needs to find its keys (witness UTXOs, BIP-32 and
// taproot derivations, witness scripts); the operator signs it offline with
// any PSBT signer and Import checks and stores the result, refusing a wrong,
// partial or foreign proof with a message that names the output and why.
// Hot keys: an lnd node proves its own wallet outputs through walletrpc's
// FinalizePsbt on the same kind of PSBT (package reserve/lightning), and Add
// stores the result.
//
// A proof made at block X keeps an output proven while it is unspent and
// X + MaxAge is not passed, and while block X stays in the best chain
// (Refresh): Status says which outputs count, and why the others do not.
package proving
