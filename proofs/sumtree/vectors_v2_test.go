package sumtree

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/taghash"
)

// Regenerate with: go test ./proofs/sumtree -run TestVectorsV2 -update
const vectorsV2Path = "../../testdata/sumtree/vectors_v2.json"

type v2File struct {
	Description string      `json:"description"`
	Tags        []vectorTag `json:"tags"`
	Cases       []v2Case    `json:"cases"`
	Invalid     []v2Verify  `json:"verify_failures"`
	BadEncoding []vectorBad `json:"decode_failures"`
}

type v2Holding struct {
	ID      string `json:"id"`
	Balance string `json:"balance"`
	Seq     string `json:"seq"`
}

type v2Root struct {
	Hash     string `json:"hash"`
	Sum      string `json:"sum"`
	Height   int    `json:"height"`
	Accounts uint64 `json:"accounts"`
	Shares   int    `json:"shares"`
	Window   int    `json:"window"`
	TreeID   string `json:"tree_id"`
}

type v2Leaf struct {
	Position int    `json:"position"`
	Holding  int    `json:"holding"`
	Share    int    `json:"share"`
	Amount   string `json:"amount"`
	LeafHash string `json:"leaf_hash"`
}

type v2Account struct {
	Holding    int      `json:"holding"`
	Salt       string   `json:"salt"`
	Commitment string   `json:"commitment"`
	Shares     []string `json:"shares"`
}

type v2Window struct {
	Index int      `json:"index"`
	Key   string   `json:"key"`
	Perm  []uint32 `json:"perm"`
}

type v2Proof struct {
	Holding int             `json:"holding"`
	Salt    string          `json:"salt"`
	Binary  string          `json:"binary"`
	JSON    json.RawMessage `json:"json"`
}

type v2Case struct {
	Name         string      `json:"name"`
	Seed         string      `json:"seed"`
	AssetCode    string      `json:"asset_code"`
	Holdings     []v2Holding `json:"holdings"`
	ShuffleKey   string      `json:"shuffle_key"`
	AccountOrder []uint32    `json:"account_order"`
	Windows      []v2Window  `json:"windows"`
	Accounts     []v2Account `json:"accounts"`
	Leaves       []v2Leaf    `json:"leaves"`
	Root         v2Root      `json:"root"`
	Proofs       []v2Proof   `json:"proofs"`
}

type v2Verify struct {
	Name      string          `json:"name"`
	Root      v2Root          `json:"root"`
	AssetCode string          `json:"asset_code"`
	AccountID string          `json:"account_id"`
	Seq       string          `json:"seq"`
	Salt      string          `json:"salt"`
	Balance   string          `json:"balance"`
	Proof     json.RawMessage `json:"proof"`
	Error     string          `json:"error"`
}

type v2Spec struct {
	name         string
	seed         byte
	asset        string
	k, w, height int
	hs           []Holding
	proofs       []int // nil: all
}

func v2Specs() []v2Spec {
	return []v2Spec{
		{"three accounts, two shares, one window", 11, "SAT", 2, 10, -1,
			[]Holding{{"alice", 10, 1}, {"bob", 20, 4}, {"carol", 30, 2}}, nil},
		{"five accounts, four shares, windows of 4 positions (a partial last window)", 12, "INR", 4, 2, -1,
			[]Holding{{"u-1", 0, 1}, {"u-2", 1, 2}, {"u-3", 4611686018427387903, 3}, {"u-4", 4611686018427387903, 9}, {"u-5", 0, 5}}, nil},
		{"twenty-one accounts, two shares, windows of 8 positions", 13, "SAT", 2, 3, -1,
			mkHoldings(21, func(i int) uint64 { return uint64(i%5)*7 + 1 }), nil},
		{"one account, one share, height 0", 14, "SAT", 1, 10, -1, []Holding{{"solo", 5, 8}}, nil},
		{"no accounts, height 3", 15, "SAT", 2, 10, 3, nil, nil},
		{"unicode id, two shares, height 4", 16, "INR", 2, 10, 4, []Holding{{"हिंदी-खाता", 100, 6}, {"x-long", 200, 7}}, nil},
		// 129 draws of the account shuffle: past ChaCha8Rand's first round
		// of 124 outputs (docs/proofs.md 3.8).
		{"one hundred and thirty accounts, two shares, windows of 16 positions", 17, "SAT", 2, 4, -1,
			mkHoldings(130, func(i int) uint64 { return uint64(7 * i) }), []int{0, 64, 129}},
	}
}

func v2root(r ShareRoot) v2Root {
	return v2Root{Hash: hx(r.Hash[:]), Sum: strconv.FormatUint(r.Sum, 10), Height: r.Height, Accounts: r.Count,
		Shares: r.Shares, Window: r.Window, TreeID: hx(r.TreeID[:])}
}

func (r v2Root) decode(t testing.TB) ShareRoot {
	t.Helper()
	var s ShareRoot
	h, err := hex.DecodeString(r.Hash)
	if err != nil || len(h) != 32 {
		t.Fatalf("root hash %q", r.Hash)
	}
	copy(s.Hash[:], h)
	id, err := hex.DecodeString(r.TreeID)
	if err != nil || len(id) != 32 {
		t.Fatalf("tree id %q", r.TreeID)
	}
	copy(s.TreeID[:], id)
	s.Sum, err = strconv.ParseUint(r.Sum, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s.Height, s.Count, s.Shares, s.Window = r.Height, r.Accounts, r.Shares, r.Window
	return s
}

func generateV2(t *testing.T) *v2File {
	f := &v2File{
		Description: "Kosh liability tree version 2 (proofs/sumtree Build2, share-set proofs) test vectors; see docs/proofs.md 3.15 and 8.1. " +
			"Hashes are lowercase hex, amounts and sequences decimal strings. Regenerate: go test ./proofs/sumtree -run TestVectorsV2 -update",
	}
	for _, tag := range []string{"kosh/tree", "kosh/salt", "kosh/account/2", "kosh/split", "kosh/leaf/2", "kosh/node", "kosh/pad", TagShuffle, "kosh/window"} {
		f.Tags = append(f.Tags, vectorTag{Tag: tag, Prefix: hx(sha256Sum([]byte(tag)))})
	}
	var trees []*ShareTree
	for _, s := range v2Specs() {
		seed := seedOf(s.seed)
		opts := []ShareOption{WithShares(s.k), WithWindow(s.w)}
		if s.height >= 0 {
			opts = append(opts, WithShareHeight(s.height))
		}
		tr := mustBuild2(t, s.asset, seed, s.hs, opts...)
		trees = append(trees, tr)
		key := shuffleKey(tr.head)
		c := v2Case{Name: s.name, Seed: hx(seed[:]), AssetCode: s.asset, Holdings: []v2Holding{},
			ShuffleKey: hx(key[:]), AccountOrder: append([]uint32{}, tr.order...), Windows: []v2Window{},
			Accounts: []v2Account{}, Leaves: []v2Leaf{}, Root: v2root(tr.Root()), Proofs: []v2Proof{}}
		if c.AccountOrder == nil {
			c.AccountOrder = []uint32{}
		}
		for _, h := range s.hs {
			c.Holdings = append(c.Holdings, v2Holding{h.ID, strconv.FormatUint(h.Balance, 10), strconv.FormatUint(h.Seq, 10)})
		}
		for i, h := range s.hs {
			salt := DeriveSalt(seed, s.asset, h.ID)
			cm := Commitment2(tr.treeID, salt, s.asset, h.Seq, h.ID)
			a := v2Account{Holding: i, Salt: hx(salt[:]), Commitment: hx(cm[:])}
			for _, sh := range SplitShares(salt, h.Balance, s.k) {
				a.Shares = append(a.Shares, strconv.FormatUint(sh, 10))
			}
			c.Accounts = append(c.Accounts, a)
		}
		if len(s.hs) > 0 {
			v := newWindowView()
			for g := 0; g*tr.perWindow < len(s.hs); g++ {
				if err := v.build(tr, g, nil); err != nil {
					t.Fatal(err)
				}
				wk := windowKey(tr.head, uint64(g))
				c.Windows = append(c.Windows, v2Window{g, hx(wk[:]), slices.Clone(v.perm)})
				for q, slot := range v.perm {
					r, i := int(slot)/s.k, int(slot)%s.k
					hi := int(tr.order[g*tr.perWindow+r])
					lf := v.lv[0][q]
					c.Leaves = append(c.Leaves, v2Leaf{int(v.base) + q, hi, i, strconv.FormatUint(lf.sum, 10), hx(lf.hash[:])})
				}
			}
		}
		idx := s.proofs
		if idx == nil {
			for i := range s.hs {
				idx = append(idx, i)
			}
		}
		for _, i := range idx {
			p, salt, _, err := tr.Proof(s.hs[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			bin, _ := p.MarshalBinary()
			js, _ := json.Marshal(p)
			c.Proofs = append(c.Proofs, v2Proof{i, hx(salt[:]), hx(bin), js})
		}
		f.Cases = append(f.Cases, c)
	}

	// Verification failures, against the third case (21 accounts, 42
	// leaves, windows of 8): the holder with a share at 32 … 39 and both
	// shares below 40, whose level-3 sibling covers positions 40 … 47.
	tr := trees[2]
	var hi int
	var base *ShareProof
	var salt Salt
	_ = tr.EachProof(func(p *ShareProof, s Salt, i int) error {
		if base == nil && p.Shares[0].Position >= 32 && p.Shares[0].Position < 40 && p.Shares[1].Position < 40 &&
			p.Shares[0].Amount != p.Shares[1].Amount && p.Shares[1].Amount > 0 {
			base, salt, hi = cloneShareProof(p), s, i
		}
		return nil
	})
	if base == nil {
		t.Fatal("no holder for the failure vectors")
	}
	h := tr.holdings[hi]
	other := tr.holdings[(hi+1)%len(tr.holdings)]
	otherProof, otherSalt, _, _ := tr.Proof(other.ID)
	type in struct {
		root         ShareRoot
		asset, id    string
		seq, balance uint64
		salt         Salt
		p            *ShareProof
	}
	fails := []struct {
		name string
		mod  func(*in)
	}{
		{"balance raised by one", func(x *in) { x.balance++ }},
		{"the same root read as another asset (relabelled)", func(x *in) { x.asset = "INR" }},
		{"another tree id (another seed)", func(x *in) { x.root.TreeID = TreeID(seedOf(99), "SAT") }},
		{"an older journal sequence", func(x *in) { x.seq-- }},
		{"salt of another account", func(x *in) { x.salt = otherSalt }},
		{"another account's proof", func(x *in) { x.p = cloneShareProof(otherProof) }},
		{"shares swapped", func(x *in) { x.p.Shares[0].Amount, x.p.Shares[1].Amount = x.p.Shares[1].Amount, x.p.Shares[0].Amount }},
		{"shares moved: one raised, one lowered", func(x *in) { x.p.Shares[0].Amount++; x.p.Shares[1].Amount-- }},
		{"both shares at one position", func(x *in) { x.p.Shares[1].Position = x.p.Shares[0].Position }},
		{"a share outside the window", func(x *in) { x.p.Shares[1].Position = x.p.Shares[0].Position - 8 }},
		{"a share past the leaves", func(x *in) { x.p.Shares[1].Position = 42 }},
		{"sibling hash flipped", func(x *in) { x.p.Siblings[2].Hash[31] ^= 1 }},
		{"sibling sum raised by one", func(x *in) { x.p.Siblings[0].Sum++ }},
		{"a sibling too many", func(x *in) { x.p.Siblings = append(x.p.Siblings, Sibling{}) }},
		{"a sibling too few", func(x *in) { x.p.Siblings = x.p.Siblings[:len(x.p.Siblings)-1] }},
		{"height differs from the attested", func(x *in) { x.root.Height = 7 }},
		{"attested share count 4", func(x *in) { x.root.Shares = 4 }},
		{"attested share count 3", func(x *in) { x.root.Shares = 3 }},
		{"attested window above the height", func(x *in) { x.root.Window = 7 }},
		{"attested total lowered by one", func(x *in) { x.root.Sum-- }},
		{"attested account count lowered: a sibling past the leaves has a sum", func(x *in) { x.root.Count = 20 }},
		{"attested account count too large for the height", func(x *in) { x.root.Count = 33 }},
	}
	for _, fc := range fails {
		x := in{tr.Root(), "SAT", h.ID, h.Seq, h.Balance, salt, cloneShareProof(base)}
		fc.mod(&x)
		err := VerifyShares(x.root, x.asset, x.id, x.seq, x.salt, x.balance, x.p)
		if err == nil {
			t.Fatalf("failure vector %q verifies", fc.name)
		}
		js, err2 := json.Marshal(x.p)
		if err2 != nil {
			t.Fatalf("%s: %v", fc.name, err2)
		}
		f.Invalid = append(f.Invalid, v2Verify{Name: fc.name, Root: v2root(x.root), AssetCode: x.asset, AccountID: x.id,
			Seq: strconv.FormatUint(x.seq, 10), Salt: hx(x.salt[:]), Balance: strconv.FormatUint(x.balance, 10),
			Proof: js, Error: err.Error()})
	}

	// Decode failures of the JSON and binary forms.
	good, _ := json.Marshal(base)
	bin, _ := base.MarshalBinary()
	rep := func(old, new string) string { return string(bytes.Replace(good, []byte(old), []byte(new), 1)) }
	for _, d := range []struct{ name, json string }{
		{"version 1", rep(`"version":2`, `"version":1`)},
		{"unknown member", rep(`{"version"`, `{"leaf_index":0,"version"`)},
		{"case-variant member", rep(`"height"`, `"Height"`)},
		{"missing member", rep(`"height":6,`, ``)},
		{"repeated member", rep(`"height":6,`, `"height":6,"height":6,`)},
		{"amount as a number", rep(`"amount":"`+strconv.FormatUint(base.Shares[0].Amount, 10)+`"`, `"amount":`+strconv.FormatUint(base.Shares[0].Amount, 10))},
		{"amount with a leading zero", rep(`"amount":"`, `"amount":"0`)},
		{"three shares", rep(`"shares":[`, `"shares":[{"position":0,"amount":"0"},`)},
		{"position above 2^32-1", rep(`"position":`+strconv.Itoa(int(base.Shares[0].Position)), `"position":4294967296`)},
		{"upper-case hex", string(bytes.Replace(good, []byte(hx(base.Siblings[0].Hash[:])), bytes.ToUpper([]byte(hx(base.Siblings[0].Hash[:]))), 1))},
		{"height 33", rep(`"height":6`, `"height":33`)},
		{"trailing data", string(good) + " {}"},
	} {
		var p ShareProof
		err := p.UnmarshalJSON([]byte(d.json))
		if err == nil {
			t.Fatalf("decode failure %q decodes", d.name)
		}
		f.BadEncoding = append(f.BadEncoding, vectorBad{Name: "json: " + d.name, JSON: d.json, Error: err.Error()})
	}
	for _, d := range []struct {
		name string
		b    []byte
	}{
		{"version 1", append([]byte{1}, bin[1:]...)},
		{"a trailing byte", append(slices.Clone(bin), 0)},
		{"one byte short", bin[:len(bin)-1]},
		{"three shares", append([]byte{2, bin[1], 3}, bin[3:]...)},
	} {
		var p ShareProof
		err := p.UnmarshalBinary(d.b)
		if err == nil {
			t.Fatalf("decode failure %q decodes", d.name)
		}
		f.BadEncoding = append(f.BadEncoding, vectorBad{Name: "binary: " + d.name, Binary: hx(d.b), Error: err.Error()})
	}
	return f
}

// TestVectorsV2 regenerates testdata/sumtree/vectors_v2.json and compares
// it byte for byte, then checks the file against the reference
// implementation and VerifyShares.
func TestVectorsV2(t *testing.T) {
	f := generateV2(t)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(vectorsV2Path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(vectorsV2Path)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	if !bytes.Equal(old, b) {
		t.Fatalf("%s differs from what the code generates (regenerate with -update and review the diff)", vectorsV2Path)
	}
	var g v2File
	if err := json.Unmarshal(old, &g); err != nil {
		t.Fatal(err)
	}
	for _, tg := range g.Tags {
		if p := taghash.New(tg.Tag); hx(sha256Sum([]byte(tg.Tag))) != tg.Prefix || p.Name() != tg.Tag {
			t.Fatalf("tag %s", tg.Tag)
		}
	}
	for _, c := range g.Cases {
		root := c.Root.decode(t)
		for _, pv := range c.Proofs {
			h := c.Holdings[pv.Holding]
			var p ShareProof
			if err := p.UnmarshalJSON(pv.JSON); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			var q ShareProof
			bin, _ := hex.DecodeString(pv.Binary)
			if err := q.UnmarshalBinary(bin); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			var salt Salt
			if err := salt.UnmarshalText([]byte(pv.Salt)); err != nil {
				t.Fatal(err)
			}
			bal, _ := strconv.ParseUint(h.Balance, 10, 64)
			seq, _ := strconv.ParseUint(h.Seq, 10, 64)
			for _, pp := range []*ShareProof{&p, &q} {
				if err := VerifyShares(root, c.AssetCode, h.ID, seq, salt, bal, pp); err != nil {
					t.Fatalf("%s, holding %d: %v", c.Name, pv.Holding, err)
				}
			}
		}
	}
	for _, v := range g.Invalid {
		var p ShareProof
		if err := p.UnmarshalJSON(v.Proof); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		var salt Salt
		_ = salt.UnmarshalText([]byte(v.Salt))
		bal, _ := strconv.ParseUint(v.Balance, 10, 64)
		seq, _ := strconv.ParseUint(v.Seq, 10, 64)
		err := VerifyShares(v.Root.decode(t), v.AssetCode, v.AccountID, seq, salt, bal, &p)
		var e *Error
		if !errors.As(err, &e) || e.Msg != v.Error {
			t.Fatalf("%s: %v, want %q", v.Name, err, v.Error)
		}
	}
}
