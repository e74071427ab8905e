package sumtree

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Regenerate with: go test ./proofs/sumtree -run TestVectors -update
var update = flag.Bool("update", false, "rewrite testdata/sumtree/vectors.json and the fuzz seed corpora")

const vectorsPath = "../../testdata/sumtree/vectors.json"

type vectorFile struct {
	Description string         `json:"description"`
	MaxSum      string         `json:"max_sum"`
	Tags        []vectorTag    `json:"tags"`
	Cases       []vectorCase   `json:"cases"`
	Invalid     []vectorVerify `json:"verify_failures"`
	BadEncoding []vectorBad    `json:"decode_failures"`
}

type vectorTag struct {
	Tag    string `json:"tag"`
	Prefix string `json:"prefix_sha256"`
}

type vectorAccount struct {
	ID      string `json:"id"`
	Balance string `json:"balance"`
}

type vectorLeaf struct {
	Position     int    `json:"position"`
	AccountIndex int    `json:"account_index"`
	Salt         string `json:"salt"`
	Commitment   string `json:"commitment"`
	LeafHash     string `json:"leaf_hash"`
}

type vectorPad struct {
	Level int    `json:"level"`
	Index uint64 `json:"index"`
	Hash  string `json:"hash"`
}

type vectorRoot struct {
	Hash   string `json:"hash"`
	Sum    string `json:"sum"`
	Height int    `json:"height"`
	Count  uint64 `json:"count"`
}

type vectorProof struct {
	AccountIndex int             `json:"account_index"`
	Salt         string          `json:"salt"`
	Binary       string          `json:"binary"`
	JSON         json.RawMessage `json:"json"`
}

type vectorCase struct {
	Name       string          `json:"name"`
	Seed       string          `json:"seed"`
	AssetCode  string          `json:"asset_code"`
	Height     int             `json:"height"`
	Accounts   []vectorAccount `json:"accounts"`
	ShuffleKey string          `json:"shuffle_key"`
	LeafOrder  []uint32        `json:"leaf_order"`
	Leaves     []vectorLeaf    `json:"leaves"`
	Pads       []vectorPad     `json:"pads"`
	Root       vectorRoot      `json:"root"`
	Proofs     []vectorProof   `json:"proofs"`
}

type vectorVerify struct {
	Name      string     `json:"name"`
	Root      vectorRoot `json:"root"`
	AccountID string     `json:"account_id"`
	Salt      string     `json:"salt"`
	Balance   string     `json:"balance"`
	Proof     string     `json:"proof"`
	Error     string     `json:"error"`
}

type vectorBad struct {
	Name   string `json:"name"`
	Binary string `json:"binary,omitempty"`
	JSON   string `json:"json,omitempty"`
	Error  string `json:"error"`
}

type caseSpec struct {
	name   string
	seed   byte
	asset  string
	height int // -1: default bucket
	accts  []Account
	proofs []int // account indexes; nil: all
}

func vectorSpecs() []caseSpec {
	return []caseSpec{
		{"three accounts, height 2", 1, "SAT", 2, []Account{{"alice", 10}, {"bob", 20}, {"carol", 30}}, nil},
		{"five accounts totalling exactly the maximum sum, height 3", 2, "INR", 3, []Account{
			{"u-1", 0}, {"u-2", 1}, {"u-3", 4611686018427387903}, {"u-4", 4611686018427387903}, {"u-5", 0}}, nil},
		{"one account at the maximum sum, height 2", 3, "SAT", 2, []Account{{"whale", MaxSum}}, nil},
		{"one account, height 0", 4, "SAT", 0, []Account{{"solo", 5}}, nil},
		{"no accounts, height 3", 5, "SAT", 3, nil, nil},
		{"unicode and long id, height 1", 6, "INR", 1, []Account{
			{"हिंदी-खाता", 100}, {string(bytes.Repeat([]byte("x"), 100)), 200}}, nil},
		{"twenty accounts, default height 16", 7, "SAT", -1, mkAccounts(20, func(i int) uint64 { return uint64(1000 * (i + 1)) }), []int{0, 19}},
		// 129 draws of the shuffle: past the 124 outputs of ChaCha8Rand's
		// first round, so leaf_order pins its re-keying (docs/proofs.md 3.8).
		{"one hundred and thirty accounts, the shuffle past its re-keying, height 8", 8, "SAT", 8, mkAccounts(130, func(i int) uint64 { return uint64(7 * i) }), []int{0, 64, 129}},
	}
}

func hx(b []byte) string { return hex.EncodeToString(b) }

func root2v(r Root) vectorRoot {
	return vectorRoot{Hash: hx(r.Hash[:]), Sum: strconv.FormatUint(r.Sum, 10), Height: r.Height, Count: r.Count}
}

func generateVectors(t *testing.T) (*vectorFile, map[string][][]byte) {
	f := &vectorFile{
		Description: "Kosh liability tree (proofs/sumtree) test vectors; see docs/proofs.md, section Test vectors. " +
			"Hashes are lowercase hex, amounts decimal strings. Regenerate: go test ./proofs/sumtree -run TestVectors -update",
		MaxSum: strconv.FormatUint(MaxSum, 10),
	}
	for _, tag := range []string{"kosh/salt", "kosh/account", "kosh/leaf", "kosh/node", "kosh/pad", TagShuffle} {
		f.Tags = append(f.Tags, vectorTag{Tag: tag, Prefix: hx(sha256Sum([]byte(tag)))})
	}
	var firstTree *Tree
	for _, s := range vectorSpecs() {
		seed := seedOf(s.seed)
		var opts []Option
		if s.height >= 0 {
			opts = append(opts, WithHeight(s.height))
		}
		tr := mustBuild(t, s.asset, seed, s.accts, opts...)
		if firstTree == nil {
			firstTree = tr
		}
		key := shuffleKey(tr.head)
		c := vectorCase{Name: s.name, Seed: hx(seed[:]), AssetCode: s.asset, Height: tr.Height(),
			Accounts: []vectorAccount{}, ShuffleKey: hx(key[:]), LeafOrder: append([]uint32{}, tr.order...),
			Leaves: []vectorLeaf{}, Pads: []vectorPad{}, Root: root2v(tr.Root()), Proofs: []vectorProof{}}
		for _, a := range s.accts {
			c.Accounts = append(c.Accounts, vectorAccount{a.ID, strconv.FormatUint(a.Balance, 10)})
		}
		for p, i := range tr.order {
			a := s.accts[i]
			salt := DeriveSalt(seed, s.asset, a.ID)
			cm := Commitment(salt, a.ID)
			lh := tr.levels[0][p].hash
			c.Leaves = append(c.Leaves, vectorLeaf{p, int(i), hx(salt[:]), hx(cm[:]), hx(lh[:])})
		}
		for l := 0; l < tr.Height(); l++ {
			if n := len(tr.levels[l]); n%2 == 1 {
				c.Pads = append(c.Pads, vectorPad{l, uint64(n), hx(tr.pads[l].hash[:])})
			}
		}
		if len(s.accts) == 0 {
			c.Pads = append(c.Pads, vectorPad{tr.Height(), 0, hx(tr.root.hash[:])})
		}
		idx := s.proofs
		if idx == nil {
			for i := range s.accts {
				idx = append(idx, i)
			}
		}
		for _, i := range idx {
			p, salt, err := tr.ProofAt(i)
			if err != nil {
				t.Fatal(err)
			}
			bin, _ := p.MarshalBinary()
			js, _ := json.Marshal(p)
			c.Proofs = append(c.Proofs, vectorProof{i, hx(salt[:]), hx(bin), js})
		}
		f.Cases = append(f.Cases, c)
	}

	// Verification failures, all against the first case.
	tr := firstTree
	r := tr.Root()
	p, salt, _ := tr.ProofAt(1)
	acct := tr.accounts[1]
	fails := []struct {
		name string
		mod  func(*Root, *Salt, *uint64, *Proof)
	}{
		{"balance raised by one", func(_ *Root, _ *Salt, b *uint64, _ *Proof) { *b++ }},
		{"salt of another account", func(_ *Root, s *Salt, _ *uint64, _ *Proof) { _, *s, _ = tr.ProofAt(0) }},
		{"sibling hash changed", func(_ *Root, _ *Salt, _ *uint64, p *Proof) { p.Siblings[0].Hash[0] ^= 1 }},
		{"sibling sum lowered", func(_ *Root, _ *Salt, _ *uint64, p *Proof) { p.Siblings[1].Sum-- }},
		{"leaf index changed", func(_ *Root, _ *Salt, _ *uint64, p *Proof) { p.LeafIndex ^= 1 }},
		{"attested total raised", func(r *Root, _ *Salt, _ *uint64, _ *Proof) { r.Sum++ }},
		{"siblings overflow", func(_ *Root, _ *Salt, _ *uint64, p *Proof) {
			p.Siblings[0].Sum, p.Siblings[1].Sum = MaxSum-5, MaxSum-5
		}},
		{"attested height differs", func(r *Root, _ *Salt, _ *uint64, _ *Proof) { r.Height = 3; r.Count = 3 }},
	}
	for _, fc := range fails {
		rr, ss, bb, pp := r, salt, acct.Balance, clone(p)
		fc.mod(&rr, &ss, &bb, pp)
		err := VerifyInclusion(rr, acct.ID, ss, bb, pp)
		if err == nil {
			t.Fatalf("vector %q verified", fc.name)
		}
		bin, _ := pp.AppendBinary(nil)
		f.Invalid = append(f.Invalid, vectorVerify{fc.name, root2v(rr), acct.ID, hx(ss[:]),
			strconv.FormatUint(bb, 10), hx(bin), err.Error()})
	}

	// Trees holding more real accounts than the count they are published
	// with (same hash and total): a proof at the last position below the
	// count has a sibling past it that is not padding, and a proof at the
	// count itself has a leaf index that is not below it.
	for _, lc := range []struct {
		name        string
		m, n, h, at int
	}{
		{"real leaf past the attested account count (level 0)", 4, 3, 2, 2},
		{"real leaves past the attested account count (level 2)", 6, 4, 3, 3},
		{"leaf index at the attested account count", 4, 3, 2, 3},
	} {
		accts := mkAccounts(lc.m, func(i int) uint64 { return uint64(10 * (i + 1)) })
		lt := mustBuild(t, "SAT", seedOf(8), accts, WithHeight(lc.h))
		lr := lt.Root()
		lr.Count = uint64(lc.n)
		lp, ls, li, err := lt.NewProofWriter().ProofAtPosition(lc.at)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyInclusion(lt.Root(), accts[li].ID, ls, accts[li].Balance, lp); err != nil {
			t.Fatalf("vector %q: honest proof: %v", lc.name, err)
		}
		err = VerifyInclusion(lr, accts[li].ID, ls, accts[li].Balance, lp)
		if err == nil {
			t.Fatalf("vector %q verified", lc.name)
		}
		bin, _ := lp.AppendBinary(nil)
		f.Invalid = append(f.Invalid, vectorVerify{lc.name, root2v(lr), accts[li].ID, hx(ls[:]),
			strconv.FormatUint(accts[li].Balance, 10), hx(bin), err.Error()})
	}

	// Decoding failures.
	good, _ := p.MarshalBinary()
	bads := []struct {
		name string
		b    []byte
	}{
		{"unknown version 2", append([]byte{2}, good[1:]...)},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"truncated", good[:len(good)-1]},
		{"height above 32", append([]byte{1, 33}, good[2:]...)},
		{"leaf index outside the tree", append([]byte{1, 2, 0, 0, 0, 4}, good[6:]...)},
		{"sibling sum above the maximum", func() []byte { b := bytes.Clone(good); b[6+32] = 0x80; return b }()},
	}
	seeds := map[string][][]byte{}
	for _, bc := range bads {
		var q Proof
		err := q.UnmarshalBinary(bc.b)
		if err == nil {
			t.Fatalf("bad vector %q decoded", bc.name)
		}
		f.BadEncoding = append(f.BadEncoding, vectorBad{Name: bc.name, Binary: hx(bc.b), Error: err.Error()})
		seeds["FuzzProofBinary"] = append(seeds["FuzzProofBinary"], bc.b)
	}
	good64 := hx(p.Siblings[0].Hash[:])
	badJSON := []struct{ name, s string }{
		{"sum as a JSON number", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + good64 + `","sum":1}]}`},
		{"sum with leading zero", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + good64 + `","sum":"01"}]}`},
		{"upper-case hex", `{"version":1,"height":1,"leaf_index":0,"siblings":[{"hash":"` + hexUpper(good64) + `","sum":"1"}]}`},
		{"height differs from siblings", `{"version":1,"height":2,"leaf_index":0,"siblings":[{"hash":"` + good64 + `","sum":"1"}]}`},
		{"unknown field", `{"version":1,"height":0,"leaf_index":0,"siblings":[],"extra":true}`},
	}
	for _, bc := range badJSON {
		var q Proof
		err := json.Unmarshal([]byte(bc.s), &q)
		if err == nil {
			t.Fatalf("bad JSON vector %q decoded", bc.name)
		}
		var e *Error
		msg := err.Error()
		if asError(err, &e) {
			msg = e.Msg
		}
		f.BadEncoding = append(f.BadEncoding, vectorBad{Name: bc.name, JSON: bc.s, Error: msg})
		seeds["FuzzProofJSON"] = append(seeds["FuzzProofJSON"], []byte(bc.s))
	}
	for _, c := range f.Cases {
		for _, pr := range c.Proofs {
			b, _ := hex.DecodeString(pr.Binary)
			seeds["FuzzProofBinary"] = append(seeds["FuzzProofBinary"], b)
			seeds["FuzzProofJSON"] = append(seeds["FuzzProofJSON"], pr.JSON)
		}
	}
	for _, v := range f.Invalid {
		b, _ := hex.DecodeString(v.Proof)
		seeds["FuzzVerify"] = append(seeds["FuzzVerify"], b)
	}
	seeds["FuzzVerify"] = append(seeds["FuzzVerify"], good)
	return f, seeds
}

func hexUpper(s string) string { return string(bytes.ToUpper([]byte(s))) }

// TestVectors checks that the committed vectors are exactly what the code
// produces, then re-verifies every vector through the public API only, as
// another implementation would.
func TestVectors(t *testing.T) {
	f, seeds := generateVectors(t)
	got, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(vectorsPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		for name, list := range seeds {
			dir := filepath.Join("testdata", "fuzz", name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for i, b := range list {
				body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
				if name == "FuzzVerify" {
					body = "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\nuint64(" + strconv.Itoa(i%3) + ")\n"
				}
				p := filepath.Join(dir, fmt.Sprintf("vector-%02d", i))
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	want, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("read vectors (generate with -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the code; if the format change is intended, run go test -run TestVectors -update", vectorsPath)
	}

	// Independent re-check from the file alone.
	var file vectorFile
	if err := json.Unmarshal(want, &file); err != nil {
		t.Fatal(err)
	}
	for _, c := range file.Cases {
		var seed [32]byte
		mustHex(t, seed[:], c.Seed)
		root := parseRoot(t, c.Root)
		for _, l := range c.Leaves {
			a := c.Accounts[l.AccountIndex]
			salt := refSalt(seed, c.AssetCode, a.ID)
			if hx(salt[:]) != l.Salt {
				t.Errorf("%s: salt of %q", c.Name, a.ID)
			}
		}
		for _, pr := range c.Proofs {
			a := c.Accounts[pr.AccountIndex]
			var salt Salt
			mustHex(t, salt[:], pr.Salt)
			bal, _ := strconv.ParseUint(a.Balance, 10, 64)
			b, _ := hex.DecodeString(pr.Binary)
			var pb, pj Proof
			if err := pb.UnmarshalBinary(b); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if err := json.Unmarshal(pr.JSON, &pj); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			for _, p := range []*Proof{&pb, &pj} {
				if err := VerifyInclusion(root, a.ID, salt, bal, p); err != nil {
					t.Errorf("%s: proof of %q: %v", c.Name, a.ID, err)
				}
			}
		}
	}
	for _, v := range file.Invalid {
		var salt Salt
		mustHex(t, salt[:], v.Salt)
		bal, _ := strconv.ParseUint(v.Balance, 10, 64)
		b, _ := hex.DecodeString(v.Proof)
		var p Proof
		err := p.UnmarshalBinary(b)
		if err == nil {
			err = VerifyInclusion(parseRoot(t, v.Root), v.AccountID, salt, bal, &p)
		}
		if err == nil || err.Error() != v.Error {
			t.Errorf("verify failure %q: got %v, want %q", v.Name, err, v.Error)
		}
	}
}

func parseRoot(t *testing.T, v vectorRoot) Root {
	var r Root
	mustHex(t, r.Hash[:], v.Hash)
	r.Sum, _ = strconv.ParseUint(v.Sum, 10, 64)
	r.Height, r.Count = v.Height, v.Count
	return r
}

func mustHex(t *testing.T, dst []byte, s string) {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		t.Fatalf("bad hex %q", s)
	}
	copy(dst, b)
}
