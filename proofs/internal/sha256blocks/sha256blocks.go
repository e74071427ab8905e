// Package sha256blocks runs the SHA-256 compression function over whole
// 64-byte blocks, on one message or on two at once, and exposes the
// chaining value. It is for tree builders that hash millions of short
// messages after a precomputed tag prefix (package sumtree): they restore
// the prefix's state by copying eight words, pad the message themselves
// and read the digest straight from the state, with none of hash.Hash's
// buffering, and hash two independent messages together where the CPU can
// overlap them.
//
// On amd64 with the SHA extensions it uses SHA-NI: Blocks is the SHA-NI
// path of Go's crypto/sha256, and Blocks2 interleaves two such streams,
// which on a CPU whose SHA256RNDS2 latency exceeds its issue interval
// (every AMD Zen, recent Intel cores) does two blocks in little more than
// the time of one. Elsewhere, and with the purego build tag, it runs Go's
// portable block function. Every path is checked against crypto/sha256.
package sha256blocks

import (
	"encoding/binary"
	"fmt"
)

// BlockSize is the size of a SHA-256 block in bytes.
const BlockSize = 64

// State is a SHA-256 chaining value: the eight working words between
// blocks, and the digest once a padded message has been absorbed.
type State [8]uint32

// IV is SHA-256's initial chaining value (FIPS 180-4, 5.3.3).
var IV = State{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// Blocks absorbs p into s. len(p) must be a multiple of BlockSize.
func Blocks(s *State, p []byte) {
	if len(p)%BlockSize != 0 {
		panic(fmt.Sprintf("sha256blocks: %d bytes is not a whole number of blocks", len(p)))
	}
	blocks(s, p)
}

// Blocks2 absorbs p1 into s1 and p2 into s2, two independent messages at
// once. p1 and p2 must have the same length, a multiple of BlockSize; s1
// and s2 must not be the same state.
func Blocks2(s1, s2 *State, p1, p2 []byte) {
	if len(p1) != len(p2) || len(p1)%BlockSize != 0 {
		panic(fmt.Sprintf("sha256blocks: %d and %d bytes are not the same whole number of blocks", len(p1), len(p2)))
	}
	blocks2(s1, s2, p1, p2)
}

// Digest returns the chaining value as bytes, big-endian: the SHA-256
// digest when the message's padding has been absorbed.
func (s *State) Digest() [32]byte {
	var d [32]byte
	for i, v := range s {
		binary.BigEndian.PutUint32(d[4*i:], v)
	}
	return d
}

// Implementation names the block function in use: "SHA-NI" or "generic".
func Implementation() string {
	if useSHANI {
		return "SHA-NI"
	}
	return "generic"
}
