package proving

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/kosh-reserve/kosh/proofs/control"
)

// DefaultMaxAge is how many blocks a proof stays good for by default:
// 4320, about 30 days.
const DefaultMaxAge = 4320

// ErrRefused wraps every reason Import refuses a proof; the message names
// the outputs and what is wrong with each.
var ErrRefused = errors.New("proof of control refused")

// Config configures a Book.
type Config struct {
	// DB stores the proofs (store/provingdb).
	DB Store
	// IssuerKey is the issuer's x-only key, 64 hex: what proofs commit to.
	IssuerKey string
	// MaxAge is how many blocks a proof stays good for (default
	// DefaultMaxAge).
	MaxAge int64
	Log    *slog.Logger
	Now    func() time.Time
}

// Proof is a stored proof of control.
type Proof struct {
	ID     int64
	Source string
	*control.Proof
}

// Status is what the book says of one output at one block.
type Status struct {
	// Proof is the output's newest proof (nil: none, or its challenge
	// block left the best chain).
	Proof *Proof
	// Counts is true when the proof is good at the block asked about.
	Counts bool
	// Why says why the output does not count ("" when it does).
	Why string
}

// Book holds the proofs: in the database, and in memory for the counting
// that runs at every chain sync.
type Book struct {
	cfg Config

	mu       sync.RWMutex
	proofs   map[int64]*Proof
	byOutput map[string]int64 // outpoint -> newest proof id
	gone     map[int64]bool   // proofs whose challenge block left the best chain
}

// New loads the stored proofs.
func New(ctx context.Context, cfg Config) (*Book, error) {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Book{cfg: cfg, proofs: map[int64]*Proof{}, byOutput: map[string]int64{}, gone: map[int64]bool{}}
	rows, outs, err := cfg.DB.ControlProofs(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		p, err := decodeRow(r, cfg.IssuerKey)
		if err != nil {
			return nil, fmt.Errorf("stored proof of control %d: %w", r.ID, err)
		}
		b.proofs[r.ID] = p
	}
	for _, o := range outs {
		b.byOutput[o.Outpoint] = o.ProofID
	}
	return b, nil
}

// MaxAge is how many blocks a proof stays good for.
func (b *Book) MaxAge() int64 { return b.cfg.MaxAge }

// IssuerKey is the key proofs commit to.
func (b *Book) IssuerKey() string { return b.cfg.IssuerKey }

// Status says whether outpoint counts at block height (the attested block
// or the tip): it has a proof made at X with X <= height <= X + MaxAge whose
// block is still in the best chain.
func (b *Book) Status(outpoint string, height int64) Status {
	b.mu.RLock()
	defer b.mu.RUnlock()
	id, ok := b.byOutput[outpoint]
	if !ok {
		return Status{Why: "no proof of control"}
	}
	p := b.proofs[id]
	if b.gone[id] {
		return Status{Why: fmt.Sprintf("its proof of control commits to block %d %s, no longer in the best chain", p.Challenge.Height, p.Challenge.Hash)}
	}
	x := p.Challenge.Height
	switch {
	case x > height:
		return Status{Proof: p, Why: fmt.Sprintf("its proof of control is from block %d, after block %d", x, height)}
	case height-x > b.cfg.MaxAge:
		return Status{Proof: p, Why: fmt.Sprintf("its proof of control from block %d is older than %d blocks", x, b.cfg.MaxAge)}
	}
	return Status{Proof: p, Counts: true}
}

// Refresh marks the proofs whose challenge block is no longer the block at
// its height in the best chain (a reorganisation), and unmarks those whose
// block is back. hashAt returns the best chain's block hash at a height
// ("" when unknown, which leaves a proof as it is).
func (b *Book) Refresh(hashAt func(height int64) string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	checked := map[int64]string{}
	for id, p := range b.proofs {
		h, ok := checked[p.Challenge.Height]
		if !ok {
			h = hashAt(p.Challenge.Height)
			checked[p.Challenge.Height] = h
		}
		if h == "" {
			continue
		}
		was := b.gone[id]
		now := h != p.Challenge.Hash
		if now != was {
			if now {
				b.gone[id] = true
				b.cfg.Log.Warn("a proof of control's challenge block left the best chain; its outputs stop counting until proven again",
					"proof", id, "height", p.Challenge.Height, "block", p.Challenge.Hash)
			} else {
				delete(b.gone, id)
			}
		}
	}
}

// Add checks a proof and stores it as the proof of every output it
// proves; source says who made it. Inputs that do not verify are refused
// with the proof.
func (b *Book) Add(ctx context.Context, p *control.Proof, source string) (*Proof, error) {
	if p.Challenge.IssuerKey != b.cfg.IssuerKey {
		return nil, fmt.Errorf("%w: the proof commits to issuer key %s, not to this issuer's %s", ErrRefused, p.Challenge.IssuerKey, b.cfg.IssuerKey)
	}
	proven, errs := p.Verify()
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrRefused, errors.Join(errs...))
	}
	var txBuf bytes.Buffer
	if err := p.Tx.Serialize(&txBuf); err != nil {
		return nil, err
	}
	ops := make([]string, len(proven))
	for i, op := range proven {
		ops[i] = op.String()
	}
	row := StoredProof{Height: p.Challenge.Height, BlockHash: p.Challenge.Hash, Tx: txBuf.Bytes(),
		Prevouts: encodePrevouts(p.PrevOuts), Source: source, CreatedAt: b.cfg.Now().UnixMicro()}
	row, err := b.cfg.DB.InsertControlProof(ctx, row, ops)
	if err != nil {
		return nil, err
	}
	stored := &Proof{ID: row.ID, Source: source, Proof: p}
	b.mu.Lock()
	b.proofs[row.ID] = stored
	for _, op := range ops {
		if old, ok := b.byOutput[op]; !ok || b.proofs[old].Challenge.Height <= p.Challenge.Height {
			b.byOutput[op] = row.ID
		}
	}
	b.mu.Unlock()
	b.cfg.Log.Info("proof of control stored", "proof", row.ID, "source", source, "outputs", len(ops),
		"block", p.Challenge.Height)
	return stored, nil
}

// Proven lists the outputs with a proof, sorted, and the block of each
// proof: for the operator's listing.
func (b *Book) Proven() []ProvenOutput {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]ProvenOutput, 0, len(b.byOutput))
	for op, id := range b.byOutput {
		p := b.proofs[id]
		out = append(out, ProvenOutput{Outpoint: op, ProofID: id, Height: p.Challenge.Height, Source: p.Source})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Outpoint < out[j].Outpoint })
	return out
}

// ProvenOutput is one output with a proof.
type ProvenOutput struct {
	Outpoint string
	ProofID  int64
	Height   int64
	Source   string
}

// encodePrevouts encodes the previous outputs as the store keeps them:
// for each, value (8 bytes big-endian), script length (4) and script.
func encodePrevouts(ps []control.PrevOut) []byte {
	var b []byte
	for _, p := range ps {
		b = binary.BigEndian.AppendUint64(b, uint64(p.Value))
		b = binary.BigEndian.AppendUint32(b, uint32(len(p.Script)))
		b = append(b, p.Script...)
	}
	return b
}

func decodePrevouts(b []byte) ([]control.PrevOut, error) {
	var out []control.PrevOut
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, errors.New("truncated previous outputs")
		}
		v := int64(binary.BigEndian.Uint64(b))
		n := int(binary.BigEndian.Uint32(b[8:]))
		b = b[12:]
		if n > len(b) {
			return nil, errors.New("truncated previous output script")
		}
		out = append(out, control.PrevOut{Value: v, Script: bytes.Clone(b[:n])})
		b = b[n:]
	}
	return out, nil
}

func decodeRow(r StoredProof, issuerKey string) (*Proof, error) {
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(r.Tx)); err != nil {
		return nil, fmt.Errorf("decode transaction: %w", err)
	}
	prev, err := decodePrevouts(r.Prevouts)
	if err != nil {
		return nil, err
	}
	return &Proof{ID: r.ID, Source: r.Source, Proof: &control.Proof{
		Challenge: control.Challenge{IssuerKey: issuerKey, Height: r.Height, Hash: r.BlockHash}, Tx: tx, PrevOuts: prev}}, nil
}

// findChallenge finds the block among blocks whose challenge the
// commitment outpoint op commits to.
func findChallenge(issuerKey string, op wire.OutPoint, blocks []Block) (control.Challenge, bool) {
	for i := len(blocks) - 1; i >= 0; i-- {
		c := control.Challenge{IssuerKey: issuerKey, Height: blocks[i].Height, Hash: blocks[i].Hash}
		if c.Commitment() == op {
			return c, true
		}
	}
	return control.Challenge{}, false
}

var _ = chainhash.Hash{}
var _ = strconv.Itoa
