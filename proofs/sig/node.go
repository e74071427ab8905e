package sig

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/tv42/zbase32"
)

// NodeMessagePrefix is prepended to every message before a Lightning node
// signs it, exactly as lnd's SignMessage and VerifyMessage do.
const NodeMessagePrefix = "Lightning Signed Message:"

// NodeSignatureSize is the length of a compact recoverable ECDSA signature:
// one header byte (27 + recovery id, + 4 for a compressed key) and r, s.
const NodeSignatureSize = 65

// ErrWrongNode matches (errors.Is) the error VerifyNodeMessage returns when
// the signature is well formed but was made by another key than the listed
// node's. That error is a *WrongNodeError.
var ErrWrongNode = errors.New("node signature was made by another key than the listed node")

// WrongNodeError reports a node signature made by Signer instead of Listed
// (both 33-byte compressed keys in hex).
type WrongNodeError struct {
	Signer, Listed string
}

// Error implements error.
func (e *WrongNodeError) Error() string {
	return fmt.Sprintf("node signature was made by %s, not by the listed node %s", e.Signer, e.Listed)
}

// Is makes errors.Is(err, ErrWrongNode) true.
func (e *WrongNodeError) Is(target error) bool { return target == ErrWrongNode }

// NodeMessageDigest returns the 32-byte hash a Lightning node signs for msg:
// double SHA-256 of NodeMessagePrefix || msg.
func NodeMessageDigest(msg []byte) [32]byte {
	buf := make([]byte, 0, len(NodeMessagePrefix)+len(msg))
	buf = append(buf, NodeMessagePrefix...)
	buf = append(buf, msg...)
	return chainhash.DoubleHashH(buf)
}

// SignNodeMessage signs msg as lnd's SignMessage RPC does (prefix, double
// SHA-256, compact recoverable ECDSA for a compressed key, zbase32). Kosh
// verifies signatures that real lnd nodes make; this function exists to make
// test vectors and demo data without an lnd.
func SignNodeMessage(priv *btcec.PrivateKey, msg []byte) (string, error) {
	if priv == nil {
		return "", errors.New("cannot sign a node message without a private key")
	}
	digest := NodeMessageDigest(msg)
	compact := ecdsa.SignCompact(priv, digest[:], true)
	return zbase32.EncodeToString(compact), nil
}

// RecoverNodeKey returns the public key that made the zbase32-encoded
// Lightning message signature zbase32Sig over msg. Every well-formed
// signature recovers some key, so this alone proves nothing: compare the key
// with the node's, or call VerifyNodeMessage.
func RecoverNodeKey(msg []byte, zbase32Sig string) (*btcec.PublicKey, error) {
	compact, err := zbase32.DecodeString(zbase32Sig)
	if err != nil {
		return nil, fmt.Errorf("node signature %q is not zbase32: %w", zbase32Sig, err)
	}
	if len(compact) != NodeSignatureSize {
		return nil, fmt.Errorf("node signature %q decodes to %d bytes instead of %d", zbase32Sig, len(compact), NodeSignatureSize)
	}
	digest := NodeMessageDigest(msg)
	pub, _, err := ecdsa.RecoverCompact(compact, digest[:])
	if err != nil {
		return nil, fmt.Errorf("node signature %q is not a valid recoverable signature: %w", zbase32Sig, err)
	}
	return pub, nil
}

// VerifyNodeMessage checks that zbase32Sig, in the format lnd's SignMessage
// produces, is a signature over msg by the Lightning node whose identity key
// is nodePubKeyHex (33-byte compressed key, 66 lower-case hex characters). It
// needs no lnd and no channel graph.
func VerifyNodeMessage(msg []byte, zbase32Sig string, nodePubKeyHex string) error {
	var nodeKey [btcec.PubKeyBytesLenCompressed]byte
	if err := decodeLowerHex(nodeKey[:], nodePubKeyHex); err != nil {
		return fmt.Errorf("node key %q is not %d lower-case hex characters: %w", nodePubKeyHex, 2*len(nodeKey), err)
	}
	if _, err := btcec.ParsePubKey(nodeKey[:]); err != nil {
		return fmt.Errorf("node key %s is not a valid compressed secp256k1 public key: %w", nodePubKeyHex, err)
	}
	pub, err := RecoverNodeKey(msg, zbase32Sig)
	if err != nil {
		return err
	}
	if got := pub.SerializeCompressed(); !bytes.Equal(got, nodeKey[:]) {
		return &WrongNodeError{Signer: hex.EncodeToString(got), Listed: nodePubKeyHex}
	}
	return nil
}
