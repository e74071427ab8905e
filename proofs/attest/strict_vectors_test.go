package attest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/kosh-reserve/kosh/proofs/jcs"
	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/strictjson"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/proofs/verify"
)

// strictPath is the shared vector file of strict decoding (docs/proofs.md
// §1 and §8.2): documents of every kind a verifier reads, with the one
// verdict Go and the browser must both give.
const strictPath = "../../testdata/strict/documents.json"

type strictFile struct {
	Comment string `json:"comment"`
	// Attestation is the verified attestation the bundles are checked
	// against; IssuerKey the key the receipts must be signed by.
	Attestation string           `json:"attestation"`
	IssuerKey   string           `json:"issuer_key"`
	Documents   []strictDocument `json:"documents"`
	// Shapes are the Go shapes of the proof, the bundle and the
	// attestation, in the browser's schema form ("?name": optional,
	// [elem]: a list, "string", "int", "bool"), which its suite compares
	// with its own.
	Shapes map[string]any `json:"shapes"`
}

// schemaOf writes a shape in the browser's schema form.
func schemaOf(t *testing.T, s strictjson.Shape) any {
	switch s := s.(type) {
	case strictjson.Object:
		m := map[string]any{}
		for _, mb := range s {
			k := mb.Name
			if mb.Optional {
				k = "?" + k
			}
			m[k] = schemaOf(t, mb.Shape)
		}
		return m
	case strictjson.Array:
		return []any{schemaOf(t, s.Elem)}
	}
	switch s {
	case strictjson.String:
		return "string"
	case strictjson.Int:
		return "int"
	case strictjson.Bool:
		return "bool"
	}
	t.Fatalf("unknown shape %T", s)
	return nil
}

type strictDocument struct {
	Name string `json:"name"`
	// Kind is proof, bundle, receipt or attestation.
	Kind string `json:"kind"`
	// Document is the text exactly as a verifier receives it.
	Document string `json:"document"`
	// Error is the verdict: "" when the document verifies, else the one
	// sentence that rejects it.
	Error string `json:"error"`
}

// strictCase derives a document from a base by replacing the first
// occurrence of from with to (or by f). For receipts and attestations, which
// must be canonical, the result is re-canonicalized when it can be (not a
// repeated member), so that the strict reading, not the canonical form, is
// what it tests.
type strictCase struct {
	name, kind string
	base       string
	from, to   string
	f          func(string) string
	valid      bool
}

// strictVerdict is Go's verdict on one document of the file.
func strictVerdict(t *testing.T, f *strictFile, kind string, doc []byte) string {
	t.Helper()
	msg := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	switch kind {
	case "proof":
		var p sumtree.Proof
		return msg(p.UnmarshalJSON(doc))
	case "bundle":
		a, err := verify.Document([]byte(f.Attestation))
		if err != nil {
			t.Fatalf("the file's attestation: %v", err)
		}
		b, err := attest.ParseBundle(doc)
		if err != nil {
			return msg(err)
		}
		return msg(verify.Bundle(a, b))
	case "receipt":
		r, err := receipt.ParseReceipt(doc)
		if err != nil {
			return msg(err)
		}
		return msg(r.Verify(f.IssuerKey))
	case "attestation":
		_, err := verify.Document(doc)
		return msg(err)
	}
	t.Fatalf("unknown kind %q", kind)
	return ""
}

func buildStrictVectors(t *testing.T) *strictFile {
	fs := buildChain(t)
	a := fs[2]
	id := mustID(t, a.a)
	compact := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	bundle := func(acct string, bal uint64) string {
		b, err := attest.NewBundle(id, a.trees["SAT"], acct, int64(bal))
		if err != nil {
			t.Fatal(err)
		}
		return compact(b)
	}
	// The holder at leaf index 0: a missing leaf_index read as 0 would
	// verify.
	_, _, first, err := a.trees["SAT"].NewProofWriter().ProofAtPosition(0)
	if err != nil {
		t.Fatal(err)
	}
	B := bundle("acct-dana", 97_000_000)
	B0 := bundle(fixtureAccounts["SAT"][first].ID, fixtureAccounts["SAT"][first].Balance)
	if !strings.Contains(B0, `"leaf_index":0,`) || !strings.Contains(B, `"leaf_index":4,`) {
		t.Fatalf("the bundles' leaf indexes moved: %s / %s", B0, B)
	}
	var bm struct{ Proof json.RawMessage }
	if err := json.Unmarshal([]byte(B), &bm); err != nil {
		t.Fatal(err)
	}
	P := string(bm.Proof)
	A := string(mustMarshal(t, a.a))
	A2 := string(mustMarshal(t, buildChainVersion(t, 2)[2].a))
	AI := string(mustMarshal(t, buildIssuerChain(t)[0].a))
	// issuerProof is the span of the first issuer account's proof in AI.
	issuerProof := func(s string) (int, int) {
		i := strings.Index(s, `"proof":{"height"`)
		j := i + strings.Index(s[i:], `"version":1}`) + len(`"version":1}`)
		return i, j
	}
	R1, err := os.ReadFile(filepath.Join(vectorDir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vf struct {
		Receipts []struct{ Name, Document string } `json:"receipts"`
	}
	vb, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(vb, &vf); err != nil {
		t.Fatal(err)
	}
	var R2 string
	for _, r := range vf.Receipts {
		if r.Name == "batched receipt, first of three" {
			R2 = r.Document
		}
	}
	if R2 == "" {
		t.Fatal("no version 2 receipt in vectors.json")
	}
	const hash0 = `"hash":"`
	cases := []strictCase{
		{name: "valid", kind: "proof", base: P, valid: true},
		{name: "valid, indented", kind: "proof", base: P, valid: true, f: func(s string) string {
			var b bytes.Buffer
			if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}},
		{name: "valid, a member name escaped", kind: "proof", base: P, from: `"leaf_index"`, to: `"leaf\u005findex"`, valid: true},
		{name: "unknown member", kind: "proof", base: P, from: `"version":1`, to: `"version":1,"extra":true`},
		{name: "unknown member in a sibling", kind: "proof", base: P, from: hash0, to: `"note":"x",` + hash0},
		{name: "member repeated with the same value", kind: "proof", base: P, from: `"version":1`, to: `"version":1,"version":1`},
		{name: "member repeated with another value", kind: "proof", base: P, from: `"leaf_index":4`, to: `"leaf_index":0,"leaf_index":4`},
		{name: "case-variant member", kind: "proof", base: P, from: `"leaf_index"`, to: `"Leaf_Index"`},
		{name: "case-variant sibling member", kind: "proof", base: P, from: `"hash"`, to: `"HASH"`},
		{name: "leaf_index missing", kind: "proof", base: P, from: `"leaf_index":4,`, to: ``},
		{name: "version missing", kind: "proof", base: P, from: `"version":1,`, to: ``},
		{name: "sibling sum missing", kind: "proof", base: P, from: `,"sum":"0"}`, to: `}`},
		{name: "sum as a number", kind: "proof", base: P, from: `"sum":"0"`, to: `"sum":0`},
		{name: "height as a string", kind: "proof", base: P, from: `"height":4`, to: `"height":"4"`},
		{name: "height as a fraction", kind: "proof", base: P, from: `"height":4`, to: `"height":4.0`},
		{name: "height with an exponent", kind: "proof", base: P, from: `"height":4`, to: `"height":4e0`},
		{name: "leaf_index -0", kind: "proof", base: P, from: `"leaf_index":4`, to: `"leaf_index":-0`},
		{name: "leaf_index beyond 2^32", kind: "proof", base: P, from: `"leaf_index":4`, to: `"leaf_index":4294967300`},
		{name: "leaf_index beyond 2^53", kind: "proof", base: P, from: `"leaf_index":4`, to: `"leaf_index":9007199254740993`},
		{name: "siblings null", kind: "proof", base: P, f: func(s string) string { return s[:strings.Index(s, `"siblings":`)] + `"siblings":null}` }},
		{name: "trailing data", kind: "proof", base: P, f: func(s string) string { return s + ` {}` }},
		{name: "a list, not an object", kind: "proof", base: P, f: func(s string) string { return "[" + s + "]" }},
		{name: "lone surrogate in a member name", kind: "proof", base: P, from: `"version"`, to: `"version\udc00"`},

		{name: "valid", kind: "bundle", base: B, valid: true},
		{name: "valid, holder at leaf index 0", kind: "bundle", base: B0, valid: true},
		{name: "unknown member", kind: "bundle", base: B, from: `"version":1`, to: `"version":1,"extra":1`},
		{name: "balance repeated, the first higher", kind: "bundle", base: B, from: `"balance":"97000000"`, to: `"balance":"98000000","balance":"97000000"`},
		{name: "case-variant member", kind: "bundle", base: B, from: `"balance"`, to: `"Balance"`},
		{name: "case-variant proof member", kind: "bundle", base: B, from: `"leaf_index"`, to: `"LEAF_INDEX"`},
		{name: "attestation missing", kind: "bundle", base: B, from: `"attestation":"` + id + `",`, to: ``},
		{name: "proof missing", kind: "bundle", base: B, f: func(s string) string { return s[:strings.Index(s, `,"proof":`)] + `}` }},
		{name: "leaf_index missing, holder at leaf index 0", kind: "bundle", base: B0, from: `"leaf_index":0,`, to: ``},
		{name: "balance as a number", kind: "bundle", base: B, from: `"balance":"97000000"`, to: `"balance":97000000`},
		{name: "version as a string", kind: "bundle", base: B, from: `"version":1`, to: `"version":"1"`},
		{name: "version 1.0", kind: "bundle", base: B, from: `"version":1`, to: `"version":1.0`},
		{name: "version 2", kind: "bundle", base: B, from: `"version":1`, to: `"version":2`},
		{name: "proof null", kind: "bundle", base: B, f: func(s string) string { return s[:strings.Index(s, `"proof":`)] + `"proof":null}` }},
		{name: "trailing data", kind: "bundle", base: B, f: func(s string) string { return s + `x` }},
		{name: "upper-case salt", kind: "bundle", base: B, f: func(s string) string {
			i := strings.Index(s, `"salt":"`) + len(`"salt":"`)
			return s[:i] + strings.ToUpper(s[i:i+64]) + s[i+64:]
		}},
		{name: "balance with a leading zero", kind: "bundle", base: B, from: `"balance":"97000000"`, to: `"balance":"097000000"`},
		{name: "upper-case sibling hash", kind: "bundle", base: B, f: func(s string) string {
			i := strings.Index(s, hash0) + len(hash0)
			return s[:i] + strings.ToUpper(s[i:i+64]) + s[i+64:]
		}},
		{name: "lone surrogate in the account", kind: "bundle", base: B, from: `"account":"acct-dana"`, to: `"account":"acct-dana\ud800"`},

		{name: "valid, version 1", kind: "receipt", base: string(R1), valid: true},
		{name: "valid, version 2", kind: "receipt", base: R2, valid: true},
		{name: "unknown member", kind: "receipt", base: string(R1), from: `"version":1`, to: `"version":1,"extra":1`},
		{name: "member repeated", kind: "receipt", base: string(R1), from: `"seq":"2999"`, to: `"seq":"2999","seq":"2999"`},
		{name: "case-variant member", kind: "receipt", base: string(R1), from: `"balance"`, to: `"Balance"`},
		{name: "case-variant batch member", kind: "receipt", base: R2, from: `"index"`, to: `"Index"`},
		{name: "time missing", kind: "receipt", base: string(R1), f: func(s string) string {
			i := strings.Index(s, `"time":`)
			j := i + strings.Index(s[i:], `",`) + 2
			return s[:i] + s[j:]
		}},
		{name: "batch path missing", kind: "receipt", base: R2, f: func(s string) string {
			i := strings.Index(s, `,"path":[`)
			j := i + strings.Index(s[i:], `]`) + 1
			return s[:i] + s[j:]
		}},
		{name: "seq as a number", kind: "receipt", base: string(R1), from: `"seq":"2999"`, to: `"seq":2999`},
		{name: "batch index as a string", kind: "receipt", base: R2, from: `"index":0`, to: `"index":"0"`},
		{name: "empty nonce", kind: "receipt", base: R2, f: func(s string) string {
			i := strings.Index(s, `"nonce":"`) + len(`"nonce":"`)
			return s[:i] + s[i+32:]
		}},
		{name: "signature null", kind: "receipt", base: string(R1), f: func(s string) string {
			i := strings.Index(s, `"signature":"`) + len(`"signature":`)
			return s[:i] + `null` + s[i+130:]
		}},

		{name: "valid, version 1", kind: "attestation", base: A, valid: true},
		{name: "valid, version 2", kind: "attestation", base: A2, valid: true},
		{name: "unknown member", kind: "attestation", base: A, from: `"version":1`, to: `"version":1,"extra":1`},
		{name: "unknown nested member", kind: "attestation", base: A, from: `"block":{`, to: `"block":{"time":"x",`},
		{name: "member repeated", kind: "attestation", base: A, from: `"stale":true`, to: `"stale":false,"stale":true`},
		{name: "case-variant member", kind: "attestation", base: A, from: `"stale":`, to: `"Stale":`},
		{name: "case-variant nested member", kind: "attestation", base: A, from: `"block":{"hash"`, to: `"block":{"Hash"`},
		{name: "prev missing", kind: "attestation", base: A, f: func(s string) string {
			i := strings.Index(s, `"prev":"`)
			return s[:i] + s[i+len(`"prev":"`)+64+2:]
		}},
		{name: "liability account count missing", kind: "attestation", base: A, f: func(s string) string {
			i := strings.Index(s, `"accounts":"`)
			j := i + strings.Index(s[i:], `",`) + 2
			return s[:i] + s[j:]
		}},
		{name: "amount as a number", kind: "attestation", base: A, from: `"journal_cutoff":"3000"`, to: `"journal_cutoff":3000`},
		{name: "integer as a string", kind: "attestation", base: A, from: `"seq":3`, to: `"seq":"3"`},
		{name: "integer with a fraction", kind: "attestation", base: A, from: `"seq":3`, to: `"seq":3.5`},
		{name: "list null", kind: "attestation", base: A, from: `"stale_sources":["bob"]`, to: `"stale_sources":null`},
		{name: "optional member empty", kind: "attestation", base: A, f: func(s string) string {
			i := strings.Index(s, `"descriptor":"`) + len(`"descriptor":"`)
			return s[:i] + s[i+strings.IndexByte(s[i:], '"'):]
		}},
		{name: "case-variant member, version 2", kind: "attestation", base: A2, from: `"tx":`, to: `"TX":`},
		{name: "whitespace added", kind: "attestation", base: A, from: `"version":1`, to: `"version": 1`},
		{name: "valid, version 2 with issuer accounts", kind: "attestation", base: AI, valid: true},
		{name: "unknown member in an issuer account's proof", kind: "attestation", base: AI, from: `"proof":{"height":4`, to: `"proof":{"extra":1,"height":4`},
		{name: "case-variant issuer account member", kind: "attestation", base: AI, from: `"name":"fees"`, to: `"Name":"fees"`},
		{name: "issuer account salt missing", kind: "attestation", base: AI, f: func(s string) string {
			i := strings.Index(s, `,"salt":"`)
			return s[:i] + s[i+len(`,"salt":"`)+64+1:]
		}},
		{name: "issuer account proof null", kind: "attestation", base: AI, f: func(s string) string {
			i, j := issuerProof(s)
			return s[:i] + `"proof":null` + s[j:]
		}},
		{name: "issuer accounts empty", kind: "attestation", base: AI, f: func(s string) string {
			i := strings.Index(s, `"issuer_accounts":[`) + len(`"issuer_accounts":[`)
			return s[:i] + s[strings.Index(s, `],"issuer_key"`):]
		}},
		{name: "upper-case issuer account salt", kind: "attestation", base: AI, f: func(s string) string {
			i := strings.Index(s, `"salt":"`) + len(`"salt":"`)
			return s[:i] + strings.ToUpper(s[i:i+64]) + s[i+64:]
		}},
		{name: "issuer account sibling sum with a leading zero", kind: "attestation", base: AI, from: `"sum":"`, to: `"sum":"0`},
		{name: "issuer account proof of height 3", kind: "attestation", base: AI, f: func(s string) string {
			i, j := issuerProof(s)
			return s[:i] + strings.Replace(s[i:j], `"height":4`, `"height":3`, 1) + s[j:]
		}},
	}
	f := &strictFile{
		Comment: "Strict decoding (docs/proofs.md §1): documents of each kind a verifier reads, each with the verdict " +
			"Go and the browser both give (\"\": it verifies; bundles against the attestation below, receipts under " +
			"issuer_key; the browser does not read receipts). Regenerate: go test ./proofs/attest -run TestStrictVectors -update",
		Attestation: A,
		IssuerKey:   attest.IssuerKeyOf(issuerKey),
		Shapes: map[string]any{
			"proof":       schemaOf(t, sumtree.ProofShape),
			"bundle":      schemaOf(t, attest.BundleShape),
			"attestation": schemaOf(t, attest.AttestationShape),
		},
	}
	for _, c := range cases {
		doc := c.base
		if c.f != nil {
			doc = c.f(doc)
		} else if c.from != "" {
			if !strings.Contains(doc, c.from) {
				t.Fatalf("%s %q: %q is not in the base document", c.kind, c.name, c.from)
			}
			doc = strings.Replace(doc, c.from, c.to, 1)
		}
		if c.kind == "receipt" || c.kind == "attestation" {
			if cb, err := jcs.Canonicalize([]byte(doc)); err == nil && c.name != "whitespace added" {
				doc = string(cb)
			}
		}
		if !c.valid && doc == c.base {
			t.Fatalf("%s %q: the document is unchanged", c.kind, c.name)
		}
		v := strictVerdict(t, f, c.kind, []byte(doc))
		if c.valid != (v == "") {
			t.Errorf("%s %q: verdict %q", c.kind, c.name, v)
		}
		f.Documents = append(f.Documents, strictDocument{Name: c.name, Kind: c.kind, Document: doc, Error: v})
	}
	return f
}

// TestStrictVectors regenerates testdata/strict/documents.json and compares
// it byte for byte (-update rewrites it), then re-reads the file and checks
// every verdict: every valid document verifies and every other one fails,
// with the same sentence the browser suite (web/testdata/vectors.js,
// "strict") requires.
func TestStrictVectors(t *testing.T) {
	f := buildStrictVectors(t)
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(strictPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(strictPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(strictPath)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, out) {
		t.Fatalf("%s differs from what the code produces (run with -update after checking why)", strictPath)
	}
	var file strictFile
	if err := json.Unmarshal(got, &file); err != nil {
		t.Fatal(err)
	}
	for _, d := range file.Documents {
		if v := strictVerdict(t, &file, d.Kind, []byte(d.Document)); v != d.Error {
			t.Errorf("%s %q: %q, want %q", d.Kind, d.Name, v, d.Error)
		}
	}
}
