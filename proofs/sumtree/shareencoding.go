package sumtree

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/kosh-reserve/kosh/proofs/strictjson"
)

// Binary form of a share-set proof (all integers big-endian):
//
//	version  u8  = 2
//	height   u8  0..32
//	k        u8  1, 2 or 4
//	k times: position u32 (< 2^height), amount u64 (<= MaxSum)
//	count    u8  number of siblings, at most k·height
//	count times: hash 32 bytes, sum u64 (<= MaxSum)
//
// Its length is 4 + 12·k + 40·count bytes.
const (
	shareHeaderLen = 4
	shareEntryLen  = 12
)

// EncodedLen returns the length of the proof's binary form.
func (p *ShareProof) EncodedLen() int {
	return shareHeaderLen + shareEntryLen*len(p.Shares) + proofSiblingLen*len(p.Siblings)
}

// check enforces the rules a decoder enforces.
func (p *ShareProof) check() error {
	switch {
	case p.Height < 0 || p.Height > MaxHeight:
		return fail(ErrMalformedProof, "proof height %d is outside 0 to %d", p.Height, MaxHeight)
	case !ValidShares(len(p.Shares)):
		return fail(ErrMalformedProof, "proof has %d shares, not 1, 2 or 4", len(p.Shares))
	case len(p.Siblings) > len(p.Shares)*p.Height:
		return fail(ErrMalformedProof, "proof has %d siblings, more than %d shares of height %d can need", len(p.Siblings), len(p.Shares), p.Height)
	}
	for i, s := range p.Shares {
		if uint64(s.Position) >= 1<<p.Height {
			return fail(ErrMalformedProof, "share %d's position %d does not fit a tree of height %d", i, s.Position, p.Height)
		}
		if s.Amount > MaxSum {
			return fail(ErrOverflow, "share %d exceeds the maximum sum", i)
		}
	}
	for l := range p.Siblings {
		if p.Siblings[l].Sum > MaxSum {
			return fail(ErrOverflow, "sibling %d's sum exceeds the maximum sum", l)
		}
	}
	return nil
}

// MarshalBinary encodes the proof in its binary form. It refuses a proof
// that its decoder would reject.
func (p *ShareProof) MarshalBinary() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.AppendBinary(make([]byte, 0, p.EncodedLen()))
}

// AppendBinary appends the binary form to b; it does not validate (see
// MarshalBinary).
func (p *ShareProof) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, ShareProofVersion, uint8(p.Height), uint8(len(p.Shares)))
	for _, s := range p.Shares {
		b = binary.BigEndian.AppendUint32(b, s.Position)
		b = binary.BigEndian.AppendUint64(b, s.Amount)
	}
	b = append(b, uint8(len(p.Siblings)))
	for i := range p.Siblings {
		b = append(b, p.Siblings[i].Hash[:]...)
		b = binary.BigEndian.AppendUint64(b, p.Siblings[i].Sum)
	}
	return b, nil
}

// UnmarshalBinary decodes the binary form, rejecting an unknown version,
// anything check rejects and any length other than the one the counts
// give.
func (p *ShareProof) UnmarshalBinary(b []byte) error {
	if len(b) < shareHeaderLen-1 {
		return fail(ErrMalformedProof, "proof is %d bytes, shorter than its header", len(b))
	}
	if b[0] != ShareProofVersion {
		return fail(ErrMalformedProof, "proof version %d is unknown", b[0])
	}
	q := ShareProof{Height: int(b[1]), Shares: make([]SharePosition, b[2])}
	at := 3 + shareEntryLen*len(q.Shares)
	if len(b) < at+1 {
		return fail(ErrMalformedProof, "proof is %d bytes, shorter than its %d shares need", len(b), len(q.Shares))
	}
	for i := range q.Shares {
		e := b[3+shareEntryLen*i:]
		q.Shares[i] = SharePosition{Position: binary.BigEndian.Uint32(e), Amount: binary.BigEndian.Uint64(e[4:])}
	}
	q.Siblings = make([]Sibling, b[at])
	if want := shareHeaderLen + shareEntryLen*len(q.Shares) + proofSiblingLen*len(q.Siblings); len(b) != want {
		return fail(ErrMalformedProof, "proof of %d shares and %d siblings must be %d bytes, not %d", len(q.Shares), len(q.Siblings), want, len(b))
	}
	for l := range q.Siblings {
		s := b[at+1+proofSiblingLen*l:]
		copy(q.Siblings[l].Hash[:], s[:32])
		q.Siblings[l].Sum = binary.BigEndian.Uint64(s[32:40])
	}
	if err := q.check(); err != nil {
		return err
	}
	*p = q
	return nil
}

type shareProofJSON struct {
	Version  int           `json:"version"`
	Height   int           `json:"height"`
	Shares   []shareJSON   `json:"shares"`
	Siblings []siblingJSON `json:"siblings"`
}

type shareJSON struct {
	Position int64  `json:"position"`
	Amount   string `json:"amount"`
}

// ShareProofShape is the shape of the JSON form (strictjson).
var ShareProofShape = strictjson.Object{
	{Name: "version", Shape: strictjson.Int},
	{Name: "height", Shape: strictjson.Int},
	{Name: "shares", Shape: strictjson.Array{Elem: strictjson.Object{
		{Name: "position", Shape: strictjson.Int},
		{Name: "amount", Shape: strictjson.String},
	}}},
	{Name: "siblings", Shape: strictjson.Array{Elem: strictjson.Object{
		{Name: "hash", Shape: strictjson.String},
		{Name: "sum", Shape: strictjson.String},
	}}},
}

// MarshalJSON encodes the proof as
//
//	{"version":2,"height":H,"shares":[{"position":P,"amount":"<decimal>"}, …],
//	 "siblings":[{"hash":"<64 hex>","sum":"<decimal>"}, …]}
func (p *ShareProof) MarshalJSON() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	j := shareProofJSON{Version: ShareProofVersion, Height: p.Height,
		Shares: make([]shareJSON, len(p.Shares)), Siblings: make([]siblingJSON, len(p.Siblings))}
	for i, s := range p.Shares {
		j.Shares[i] = shareJSON{Position: int64(s.Position), Amount: strconv.FormatUint(s.Amount, 10)}
	}
	for i, s := range p.Siblings {
		j.Siblings[i] = siblingJSON{Hash: hex.EncodeToString(s.Hash[:]), Sum: strconv.FormatUint(s.Sum, 10)}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the JSON form strictly (ShareProofShape, then the
// version, the height, the share count, each position and amount, each
// sibling's hash and sum, in that order, and what check enforces).
func (p *ShareProof) UnmarshalJSON(b []byte) error {
	var j shareProofJSON
	if err := decodeStrict(b, ShareProofShape, "share-set proof", &j); err != nil {
		return err
	}
	if j.Version != ShareProofVersion {
		return fail(ErrMalformedProof, "proof version %d is unknown", j.Version)
	}
	if j.Height < 0 || j.Height > MaxHeight {
		return fail(ErrMalformedProof, "proof height %d is outside 0 to %d", j.Height, MaxHeight)
	}
	if !ValidShares(len(j.Shares)) {
		return fail(ErrMalformedProof, "proof has %d shares, not 1, 2 or 4", len(j.Shares))
	}
	q := ShareProof{Height: j.Height, Shares: make([]SharePosition, len(j.Shares)), Siblings: make([]Sibling, len(j.Siblings))}
	for i, s := range j.Shares {
		if s.Position < 0 || s.Position > maxLeafIndex {
			return fail(ErrMalformedProof, "share %d's position %d is outside 0 to %d", i, s.Position, maxLeafIndex)
		}
		v, err := parseSum(s.Amount)
		if err != nil {
			return fail(ErrMalformedProof, "share %d's amount is not a decimal integer up to the maximum sum", i)
		}
		q.Shares[i] = SharePosition{Position: uint32(s.Position), Amount: v}
	}
	for l, s := range j.Siblings {
		if err := decodeHash32(&q.Siblings[l].Hash, s.Hash, "sibling hash"); err != nil {
			return err
		}
		v, err := parseSum(s.Sum)
		if err != nil {
			return fail(ErrMalformedProof, "sibling %d's sum is not a decimal integer up to the maximum sum", l)
		}
		q.Siblings[l].Sum = v
	}
	if err := q.check(); err != nil {
		return err
	}
	*p = q
	return nil
}
