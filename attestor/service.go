package attestor

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/kosh-reserve/kosh/ledger"
	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/reserve/lightning"
)

// Signed is a composed and signed attestation document.
type Signed struct {
	// ID is the attestation's hash, hex: what the next one names.
	ID string
	// Document is the signed JSON, byte for byte as published.
	Document []byte
	// Stale is the document's stale flag.
	Stale bool
	// Prices are the prices the document states, stored beside it.
	Prices []AttestedPrice
}

// Composer turns frozen inputs into a signed attestation document. Node
// signatures are gathered through sign (nil: none configured).
type Composer interface {
	Compose(ctx context.Context, in Inputs, key *btcec.PrivateKey, nodes []NodeSigner) (Signed, error)
}

// NodeSigner has an lnd node sign a message with its identity key.
type NodeSigner interface {
	Name() string
	CanSign() bool
	SignMessage(ctx context.Context, msg []byte) (string, error)
}

var _ NodeSigner = (*lightning.Source)(nil)

// Config configures a Service.
type Config struct {
	// DB stores attestations (store/attestdb).
	DB       Store
	Ledger   Freezer
	Reserves ReserveSource
	Composer Composer
	// Nodes are the Lightning sources that may sign.
	Nodes []NodeSigner
	// Key is the issuer's attestation key.
	Key *btcec.PrivateKey
	// Dir receives every attestation as <seq>-<id>.json and latest.json,
	// a static file set that can be mirrored ("" : no files).
	Dir string
	// Tree is how the liability trees are built.
	Tree TreeShape
	// History finds an account's last journal entry, for absence
	// statements (nil: none are made).
	History AccountHistory
	// MinConf is the counting rule's confirmations when no chain source
	// states it.
	MinConf int64
	// CountClaimed is the counting rule of claimed channels.
	CountClaimed bool
	Now          func() time.Time
	Log          *slog.Logger
	// Anchors gives the newest confirmed bitcoin anchor each attestation
	// lists (nil: anchoring is not configured, none is listed).
	Anchors Anchors
	// OnPublished is told of each published attestation (metrics).
	OnPublished func(p Published, took time.Duration)
}

// Service makes, stores and serves attestations.
type Service struct {
	cfg Config

	mu    sync.Mutex // guards trees
	trees treeCache
}

// treeCache keeps the trees of the latest attestation, so that holders
// fetching their proofs do not rebuild them.
type treeCache struct {
	seq   int64
	trees map[string]*sumtree.ShareTree
}

// AccountHistory finds the last journal entry of an account in an asset at
// or before a sequence (the ledger does).
type AccountHistory interface {
	LastEntrySeq(ctx context.Context, asset, account string, atOrBefore int64) (int64, error)
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg}
}

// Attest makes one attestation: freeze, build, sign, store, write. The
// caller serializes calls (the Scheduler does).
func (s *Service) Attest(ctx context.Context, trigger string) (Published, error) {
	start := s.cfg.Now()
	prev, err := s.cfg.DB.LatestAttestation(ctx)
	if err != nil && !errors.Is(err, ErrNotStored) {
		return Published{}, err
	}
	in, err := gather(ctx, s.cfg.Reserves, s.cfg.Ledger, s.cfg.Tree, start)
	if err != nil {
		return Published{}, err
	}
	in.Seq, in.PrevID, in.PrevDocument = prev.Seq+1, prev.ID, []byte(prev.Document)
	in.CountClaimed = s.cfg.CountClaimed
	if in.Anchor, err = s.anchor(ctx, in.PrevDocument); err != nil {
		return Published{}, err
	}
	if in.MinConf == 0 {
		in.MinConf = s.cfg.MinConf
	}
	if err := s.checkMoved(ctx, prev, in); err != nil {
		return Published{}, err
	}
	if err := s.pruneSpent(ctx, &in); err != nil {
		return Published{}, err
	}
	// A damaged database file (seen by any statement so far) is never
	// attested from.
	if err := s.cfg.DB.Corrupt(); err != nil {
		return Published{}, fmt.Errorf("attestation %d not made: %w", in.Seq, err)
	}
	signed, err := s.cfg.Composer.Compose(ctx, in, s.cfg.Key, s.cfg.Nodes)
	if err != nil {
		return Published{}, fmt.Errorf("compose attestation %d: %w", in.Seq, err)
	}
	row := Published{Seq: in.Seq, ID: signed.ID, PrevID: in.PrevID, Height: in.Chain.Height,
		BlockHash: in.Chain.Hash, CreatedAt: in.Time.UnixMilli(), Stale: signed.Stale,
		CutoffSeq: in.Ledger.CutoffSeq, Seed: append([]byte(nil), in.Seed[:]...), Document: string(signed.Document)}
	var balances []AttestedBalance
	for _, fa := range in.Ledger.Assets {
		for _, b := range fa.Balances {
			balances = append(balances, AttestedBalance{Asset: fa.Asset.Code, AccountID: b.AccountID, Balance: b.Balance, LastSeq: b.LastSeq})
		}
	}
	if err := s.cfg.DB.InsertAttestation(ctx, row, balances, signed.Prices); err != nil {
		return Published{}, err
	}
	s.mu.Lock()
	s.trees = treeCache{seq: row.Seq, trees: map[string]*sumtree.ShareTree{}}
	for i, fa := range in.Ledger.Assets {
		s.trees.trees[fa.Asset.Code] = in.Trees[i]
	}
	s.mu.Unlock()
	if err := s.writeFiles(row); err != nil {
		// The attestation is stored and served; the mirror copy can be
		// rewritten. Say so loudly.
		s.cfg.Log.Error("attestation stored but its static file was not written", "seq", row.Seq, "err", err)
	}
	took := s.cfg.Now().Sub(start)
	s.cfg.Log.Info("attestation published", "seq", row.Seq, "id", row.ID, "height", row.Height,
		"stale", row.Stale, "trigger", trigger, "took", took)
	if s.cfg.OnPublished != nil {
		s.cfg.OnPublished(row, took)
	}
	return row, nil
}

// writeFiles writes <seq>-<id>.json and latest.json atomically.
func (s *Service) writeFiles(row Published) error {
	if s.cfg.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("attestation directory: %w", err)
	}
	if seq, id, ok := latestFile(s.cfg.Dir); ok && seq >= row.Seq && id != row.ID {
		// The directory has seen a longer history than the database: a
		// mirror of that history must not be overwritten with a fork.
		return fmt.Errorf("latest.json in %s is attestation %d (%s); attestation %d is not written over it: "+
			"the database and the attestation directory belong to different histories", s.cfg.Dir, seq, id, row.Seq)
	}
	for _, name := range []string{FileName(row), "latest.json"} {
		tmp, err := os.CreateTemp(s.cfg.Dir, ".tmp-*")
		if err != nil {
			return fmt.Errorf("write attestation file: %w", err)
		}
		_, werr := tmp.WriteString(row.Document)
		serr := tmp.Sync()
		cerr := tmp.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("write attestation file: %w", err)
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("write attestation file: %w", err)
		}
		if err := os.Rename(tmp.Name(), filepath.Join(s.cfg.Dir, name)); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("write attestation file: %w", err)
		}
	}
	return nil
}

// latestFile reads the sequence number and id of the attestation in dir's
// latest.json; ok is false when there is none or it cannot be read.
func latestFile(dir string) (seq int64, id string, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, "latest.json"))
	if err != nil {
		return 0, "", false
	}
	a, err := attest.Parse(b)
	if err != nil {
		return 0, "", false
	}
	if id, err = a.ID(); err != nil {
		return 0, "", false
	}
	return a.Seq, id, true
}

// FileName is the static file name of an attestation.
func FileName(row Published) string {
	return fmt.Sprintf("%06d-%s.json", row.Seq, row.ID)
}

// Latest returns the newest attestation.
func (s *Service) Latest(ctx context.Context) (Published, error) {
	row, err := s.cfg.DB.LatestAttestation(ctx)
	if errors.Is(err, ErrNotStored) {
		return row, fmt.Errorf("%w: no attestation has been published yet", ledger.ErrNotFound)
	}
	return row, err
}

// ByID returns one attestation; "latest" names the newest.
func (s *Service) ByID(ctx context.Context, id string) (Published, error) {
	if id == "latest" {
		return s.Latest(ctx)
	}
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return Published{}, fmt.Errorf("%w: attestation id must be 64 lower-case hex characters (its hash), got %q",
			ledger.ErrInvalidArgument, truncate(id))
	}
	row, err := s.cfg.DB.AttestationByID(ctx, id)
	if errors.Is(err, ErrNotStored) {
		return row, fmt.Errorf("%w: no attestation %s", ledger.ErrNotFound, id)
	}
	return row, err
}

// List pages through attestations, newest first.
func (s *Service) List(ctx context.Context, before int64, limit int) ([]Published, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	return s.cfg.DB.Attestations(ctx, before, limit)
}

// Bundle returns account's inclusion bundle for asset in the attestation
// named id ("" or "latest": the newest): version 2 for a version 3
// attestation, version 1 for older ones. An account that held none of the
// asset at the cut-off is not in the tree: that is a NotFound that says so
// (Absence makes the signed statement of it).
func (s *Service) Bundle(ctx context.Context, id, asset, account string) (*attest.Bundle, error) {
	row, doc, err := s.published(ctx, id, asset)
	if err != nil {
		return nil, err
	}
	if doc.Version < 3 {
		bals, err := s.cfg.DB.AttestedBalances(ctx, row.Seq, asset)
		if err != nil {
			return nil, err
		}
		t, err := rebuildV1(ctx, row, doc, asset, bals)
		if err != nil {
			return nil, err
		}
		bal, ok := t.Balance(account)
		if !ok {
			return nil, notInTree(row, account, asset)
		}
		return attest.NewBundle(row.ID, t, account, int64(bal))
	}
	t, err := s.tree(ctx, row, doc, asset)
	if err != nil {
		return nil, err
	}
	if _, ok := t.Holding(account); !ok {
		return nil, notInTree(row, account, asset)
	}
	return attest.NewBundle2(row.ID, t, account)
}

func notInTree(row Published, account, asset string) error {
	return fmt.Errorf("%w: account %s held no %s at attestation %d (journal cut-off %d), so it is not in that liability tree",
		ledger.ErrNotFound, account, asset, row.Seq, row.CutoffSeq)
}

// ErrInTree is returned by Absence for an account that is in the tree.
var ErrInTree = errors.New("the account is in the liability tree")

// Absence returns the issuer's signed statement that account is not in
// asset's liability tree of the version 3 attestation named id, naming the
// account's last entry in the asset at or before the cut-off
// (docs/proofs.md 5.1). It fails with ErrInTree for an account that is in
// the tree (its bundle is the answer).
func (s *Service) Absence(ctx context.Context, id, asset, account string) (*attest.Absence, error) {
	if s.cfg.History == nil || s.cfg.Key == nil {
		return nil, fmt.Errorf("absence statements are not configured")
	}
	row, doc, err := s.published(ctx, id, asset)
	if err != nil {
		return nil, err
	}
	if doc.Version < 3 {
		return nil, fmt.Errorf("%w: attestation %d is version %d; absence statements are made for version 3 attestations", ledger.ErrNotFound, row.Seq, doc.Version)
	}
	t, err := s.tree(ctx, row, doc, asset)
	if err != nil {
		return nil, err
	}
	if h, ok := t.Holding(account); ok {
		return nil, fmt.Errorf("%w: account %s held %d %s at attestation %d; ask for its inclusion proof", ErrInTree, account, h.Balance, asset, row.Seq)
	}
	last, err := s.cfg.History.LastEntrySeq(ctx, asset, account, row.CutoffSeq)
	if err != nil {
		return nil, fmt.Errorf("last entry of %s in %s: %w", account, asset, err)
	}
	st := &attest.Absence{Version: attest.AbsenceVersion, Attestation: row.ID, Seq: row.Seq, Asset: asset, Account: account, LastSeq: last}
	if err := st.Sign(s.cfg.Key); err != nil {
		return nil, err
	}
	return st, nil
}

// published finds the attestation named id and checks that it lists asset.
func (s *Service) published(ctx context.Context, id, asset string) (Published, *attest.Attestation, error) {
	if id == "" {
		id = "latest"
	}
	row, err := s.ByID(ctx, id)
	if err != nil {
		return Published{}, nil, err
	}
	doc, err := attest.Parse([]byte(row.Document))
	if err != nil {
		return Published{}, nil, fmt.Errorf("attestation %d: %w", row.Seq, err)
	}
	for i := range doc.Assets {
		if doc.Assets[i].Code == asset {
			return row, doc, nil
		}
	}
	return Published{}, nil, fmt.Errorf("%w: attestation %d lists no asset %q", ledger.ErrNotFound, row.Seq, asset)
}

// tree returns the version 2 liability tree of asset in attestation row,
// from the cache or rebuilt from the frozen balances and the stored seed
// at the published shape, checked against the published root: a proof
// that cannot verify must fail here, not at the holder's end.
func (s *Service) tree(ctx context.Context, row Published, doc *attest.Attestation, asset string) (*sumtree.ShareTree, error) {
	s.mu.Lock()
	if s.trees.seq == row.Seq {
		if t, ok := s.trees.trees[asset]; ok {
			s.mu.Unlock()
			return t, nil
		}
	}
	s.mu.Unlock()
	bals, err := s.cfg.DB.AttestedBalances(ctx, row.Seq, asset)
	if err != nil {
		return nil, err
	}
	as := assetOf(doc, asset)
	want, err := as.ShareRoot()
	if err != nil {
		return nil, fmt.Errorf("attestation %d: %w", row.Seq, err)
	}
	frozen := make([]ledger.FrozenBalance, len(bals))
	for i, b := range bals {
		frozen[i] = ledger.FrozenBalance{AccountID: b.AccountID, Balance: b.Balance, LastSeq: b.LastSeq}
	}
	// A published window of 0 (a tree of height 0) is what any window
	// gives at that height; 0 in TreeShape would mean the default.
	t, err := buildTree(ctx, asset, seedOf(row), frozen, TreeShape{Height: want.Height, Shares: want.Shares, Window: max(want.Window, 1)})
	if err != nil {
		return nil, fmt.Errorf("rebuild the %s tree of attestation %d: %w", asset, row.Seq, err)
	}
	if got := t.Root(); got != want {
		return nil, fmt.Errorf("the rebuilt %s tree of attestation %d has root %x, not the published %s: its stored balances or seed were altered",
			asset, row.Seq, got.Hash, as.Liabilities.Root)
	}
	return t, nil
}

// rebuildV1 rebuilds the version 1 tree of an attestation of version 1 or
// 2 and checks it against the published root.
func rebuildV1(ctx context.Context, row Published, doc *attest.Attestation, asset string, bals []AttestedBalance) (*sumtree.Tree, error) {
	as := assetOf(doc, asset)
	accts := make([]sumtree.Account, len(bals))
	for i, b := range bals {
		accts[i] = sumtree.Account{ID: b.AccountID, Balance: uint64(b.Balance)}
	}
	t, err := sumtree.Build(ctx, asset, seedOf(row), accts, sumtree.WithHeight(as.Liabilities.Height))
	if err != nil {
		return nil, fmt.Errorf("rebuild the %s tree of attestation %d: %w", asset, row.Seq, err)
	}
	if root := t.Root(); hex.EncodeToString(root.Hash[:]) != as.Liabilities.Root {
		return nil, fmt.Errorf("the rebuilt %s tree of attestation %d has root %x, not the published %s: its stored balances or seed were altered",
			asset, row.Seq, root.Hash, as.Liabilities.Root)
	}
	return t, nil
}

// seedOf returns the attestation's stored secret seed.
func seedOf(row Published) [32]byte {
	var seed [32]byte
	copy(seed[:], row.Seed)
	return seed
}

func assetOf(doc *attest.Attestation, code string) *attest.Asset {
	for i := range doc.Assets {
		if doc.Assets[i].Code == code {
			return &doc.Assets[i]
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
