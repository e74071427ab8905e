package sumtree

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/kosh-reserve/kosh/proofs/strictjson"
)

// Binary form (all integers big-endian):
//
//	version   u8   = 1
//	height    u8   0..32
//	leafIndex u32  < 2^height
//	height times, leaf level first:
//	  hash    32 bytes
//	  sum     u64  <= MaxSum
//
// Its length is exactly 6 + 40*height bytes (966 bytes at height 24).
const (
	proofHeaderLen  = 6
	proofSiblingLen = 40
)

// EncodedLen returns the length of the binary form of a proof of the given
// height.
func EncodedLen(height int) int { return proofHeaderLen + proofSiblingLen*height }

// MarshalBinary encodes the proof in its binary form. It refuses a proof
// that its decoder would reject.
func (p *Proof) MarshalBinary() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.AppendBinary(make([]byte, 0, EncodedLen(p.Height())))
}

// AppendBinary appends the binary form to b; it does not validate (see
// MarshalBinary).
func (p *Proof) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, ProofVersion, uint8(len(p.Siblings)))
	b = binary.BigEndian.AppendUint32(b, p.LeafIndex)
	for i := range p.Siblings {
		b = append(b, p.Siblings[i].Hash[:]...)
		b = binary.BigEndian.AppendUint64(b, p.Siblings[i].Sum)
	}
	return b, nil
}

// check enforces the rules a decoder enforces.
func (p *Proof) check() error {
	h := len(p.Siblings)
	if h > MaxHeight {
		return fail(ErrMalformedProof, "proof height %d exceeds the maximum of %d", h, MaxHeight)
	}
	if uint64(p.LeafIndex) >= 1<<h {
		return fail(ErrMalformedProof, "leaf index %d does not fit a tree of height %d", p.LeafIndex, h)
	}
	for l := range p.Siblings {
		if p.Siblings[l].Sum > MaxSum {
			return fail(ErrOverflow, "sibling sum at level %d exceeds the maximum sum", l)
		}
	}
	return nil
}

// UnmarshalBinary decodes the binary form. It rejects an unknown version, a
// height above MaxHeight, a length other than 6+40*height (so no trailing
// bytes), a leaf index outside the tree and any sum above MaxSum.
func (p *Proof) UnmarshalBinary(b []byte) error {
	if len(b) < proofHeaderLen {
		return fail(ErrMalformedProof, "proof is %d bytes, shorter than its 6-byte header", len(b))
	}
	if b[0] != ProofVersion {
		return fail(ErrMalformedProof, "proof version %d is unknown", b[0])
	}
	h := int(b[1])
	if h > MaxHeight {
		return fail(ErrMalformedProof, "proof height %d exceeds the maximum of %d", h, MaxHeight)
	}
	if len(b) != EncodedLen(h) {
		return fail(ErrMalformedProof, "proof of height %d must be %d bytes, not %d", h, EncodedLen(h), len(b))
	}
	q := Proof{LeafIndex: binary.BigEndian.Uint32(b[2:6]), Siblings: make([]Sibling, h)}
	for l := range q.Siblings {
		s := b[proofHeaderLen+proofSiblingLen*l:]
		copy(q.Siblings[l].Hash[:], s[:32])
		q.Siblings[l].Sum = binary.BigEndian.Uint64(s[32:40])
	}
	if err := q.check(); err != nil {
		return err
	}
	*p = q
	return nil
}

// proofJSON is the JSON form: hashes as lowercase hex, sums as decimal
// strings (JavaScript numbers cannot hold every uint64).
type proofJSON struct {
	Version   int           `json:"version"`
	Height    int           `json:"height"`
	LeafIndex int64         `json:"leaf_index"`
	Siblings  []siblingJSON `json:"siblings"`
}

type siblingJSON struct {
	Hash string `json:"hash"`
	Sum  string `json:"sum"`
}

// ProofShape is the shape of the JSON form (strictjson): every member
// required, the sums strings.
var ProofShape = strictjson.Object{
	{Name: "version", Shape: strictjson.Int},
	{Name: "height", Shape: strictjson.Int},
	{Name: "leaf_index", Shape: strictjson.Int},
	{Name: "siblings", Shape: strictjson.Array{Elem: strictjson.Object{
		{Name: "hash", Shape: strictjson.String},
		{Name: "sum", Shape: strictjson.String},
	}}},
}

// maxLeafIndex is the largest leaf index the formats hold (4 bytes).
const maxLeafIndex = 1<<32 - 1

// MarshalJSON encodes the proof as
//
//	{"version":1,"height":H,"leaf_index":N,
//	 "siblings":[{"hash":"<64 hex>","sum":"<decimal>"}, ...]}
func (p *Proof) MarshalJSON() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	j := proofJSON{Version: ProofVersion, Height: len(p.Siblings), LeafIndex: int64(p.LeafIndex),
		Siblings: make([]siblingJSON, len(p.Siblings))}
	for i, s := range p.Siblings {
		j.Siblings[i] = siblingJSON{Hash: hex.EncodeToString(s.Hash[:]), Sum: strconv.FormatUint(s.Sum, 10)}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the JSON form strictly: it must be strict JSON of
// ProofShape (no unknown, repeated, case-variant or missing member, no
// wrong type, no trailing data), and upper-case or short hex, sums with
// signs or leading zeros, a height that differs from the number of
// siblings, a leaf index outside the tree and sums above MaxSum are all
// rejected.
func (p *Proof) UnmarshalJSON(b []byte) error {
	var j proofJSON
	if err := decodeStrict(b, ProofShape, "proof", &j); err != nil {
		return err
	}
	if j.Version != ProofVersion {
		return fail(ErrMalformedProof, "proof version %d is unknown", j.Version)
	}
	if j.Height < 0 || j.Height > MaxHeight {
		return fail(ErrMalformedProof, "proof height %d is outside 0 to %d", j.Height, MaxHeight)
	}
	if len(j.Siblings) != j.Height {
		return fail(ErrMalformedProof, "proof height %d differs from its %d siblings", j.Height, len(j.Siblings))
	}
	if j.LeafIndex < 0 || j.LeafIndex > maxLeafIndex {
		return fail(ErrMalformedProof, "proof leaf index %d is outside 0 to %d", j.LeafIndex, maxLeafIndex)
	}
	q := Proof{LeafIndex: uint32(j.LeafIndex), Siblings: make([]Sibling, j.Height)}
	for l, s := range j.Siblings {
		if err := decodeHash32(&q.Siblings[l].Hash, s.Hash, "sibling hash"); err != nil {
			return err
		}
		v, err := parseSum(s.Sum)
		if err != nil {
			return fail(ErrMalformedProof, "sibling sum at level %d is not a decimal integer up to the maximum sum", l)
		}
		q.Siblings[l].Sum = v
	}
	if err := q.check(); err != nil {
		return err
	}
	*p = q
	return nil
}

// decodeStrict checks b against shape (strictjson) and decodes it into v,
// with the sentences both proof forms share; what names the shape.
func decodeStrict(b []byte, shape strictjson.Shape, what string, v any) error {
	if err := strictjson.Check(b, shape); err != nil {
		if errors.Is(err, strictjson.ErrSyntax) {
			return fail(ErrMalformedProof, "proof is not valid JSON (%v)", err)
		}
		return fail(ErrMalformedProof, "proof is not JSON of the documented %s shape (%v)", what, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		// Unreachable after Check, which leaves one reading of b.
		return fail(ErrMalformedProof, "proof is not JSON of the documented %s shape", what)
	}
	return nil
}

// parseSum parses a canonical decimal amount: digits only, no leading zero
// unless the value is 0, at most MaxSum.
func parseSum(s string) (uint64, error) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if v > MaxSum {
		return 0, strconv.ErrRange
	}
	return v, nil
}
