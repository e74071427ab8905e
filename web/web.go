// Package web serves Kosh's public proof-of-reserves page.
//
// The page is rendered on the server with html/template from a PageData
// that a DataSource (implemented by koshd) provides: status per asset,
// reserves by source and class, liabilities, coverage against policy, the
// latest attestation, a history chart drawn as SVG on the server (readable
// with JavaScript off) and the list of signed attestation files. Every
// asset is embedded; nothing is loaded from another host, and a strict
// Content-Security-Policy forbids inline scripts.
//
// The embedded script static/verify.js re-implements the verification half
// of proofs/jcs, proofs/sig, proofs/sumtree, proofs/attest and
// proofs/control in plain JavaScript (WebCrypto SHA-256, BigInt
// secp256k1), so a visitor can check the displayed attestation's
// signatures, sums and proofs of control, and their own inclusion proof,
// in the browser; page.js shows the verdict with which outputs count, why
// the others do not, which channels are only claimed and what is left to
// koshverify. It passes the same vectors as the Go code (testdata/), which
// the browser tests of this package run in headless Chromium.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DataSource is what the page needs from the daemon.
type DataSource interface {
	// Page returns everything the page shows, read at one instant.
	Page(ctx context.Context) (*PageData, error)
	// Attestation returns the signed attestation document with the given
	// id (hex hash) byte for byte as published, or an error wrapping
	// ErrNotFound.
	Attestation(ctx context.Context, id string) ([]byte, error)
}

// ErrNotFound is what DataSource.Attestation wraps for an unknown id.
var ErrNotFound = errors.New("not found")

// Status is the state of an asset, or of the whole issuer.
type Status string

// Statuses, from best to worst.
const (
	// StatusBacked: coverage at or above the asset's warning level (or its
	// policy minimum when it has no warning level), reserves fresh.
	StatusBacked Status = "backed"
	// StatusWarning: coverage at or above the policy minimum but below the
	// warning level.
	StatusWarning Status = "warning"
	// StatusUnderBacked: coverage below the policy minimum.
	StatusUnderBacked Status = "under-backed"
	// StatusStale: a reserve source (or the price of a fiat peg) is past its
	// max age, so the figures cannot be relied on.
	StatusStale Status = "stale"
)

// PageData is everything the page shows. Amounts are integers in base
// units: sats for reserves, the asset's base unit (sats, paise) for
// liabilities.
type PageData struct {
	// Issuer is the issuer's name, shown as the page title.
	Issuer string
	// Network is the bitcoin network ("mainnet", "testnet", "signet",
	// "regtest"); shown as a badge unless mainnet.
	Network string
	// Now is the instant the data was read; ages are relative to it. Zero
	// means the time of the request.
	Now time.Time
	// Status is the issuer's overall status; empty: derived from the assets
	// (the worst of them) and the staleness of the reserves.
	Status Status
	// Reserves are the live reserves.
	Reserves Reserves
	// Assets are the issued assets with their liabilities and coverage.
	Assets []Asset
	// Coverage is the live coverage of all liabilities by counted reserves.
	Coverage Coverage
	// Latest is the latest attestation; nil before the first one.
	Latest *Attestation
	// History is the coverage history, oldest first (typically one point
	// per attestation). Fewer than two points draw no chart.
	History []HistoryPoint
	// Attestations lists published attestations, newest first.
	Attestations []Attestation
}

// Reserves are the live reserves, by source and class.
type Reserves struct {
	// Height and BlockHash are the best block the reserves were read at.
	Height    int64
	BlockHash string
	// Time of the reserve snapshot.
	Time time.Time
	// Stale is true when some source is past its max age.
	Stale bool
	// Sources: the on-chain wallet and each Lightning node.
	Sources []ReserveSource
	// CountedSats is the total that counts toward coverage under the
	// counting rules (after confirmations, channel reserves, haircuts).
	CountedSats int64
	// ReportedSats is the total reported by the sources, counted or not.
	ReportedSats int64
}

// Source kinds.
const (
	KindOnchain   = "onchain"
	KindLightning = "lightning"
)

// ReserveSource is one source of reserves.
type ReserveSource struct {
	// Name is the operator's name for the source ("cold storage", "lnd-1").
	Name string
	// Kind is KindOnchain or KindLightning.
	Kind string
	// ID identifies it publicly: a Lightning node's public key; empty for
	// on-chain.
	ID string
	// CountedSats counts toward coverage.
	CountedSats int64
	// ReportedSats is what the source reports in all, counted or not
	// (unconfirmed outputs, pending channels, channel reserves, haircuts).
	ReportedSats int64
	// Detail is a short plain-language note ("12 outputs, 6+ confirmations",
	// "3 channels").
	Detail string
	// LastSeen is when the source was last heard from.
	LastSeen time.Time
	// Stale is true when the source is past its max age.
	Stale bool
}

// Asset is one issued asset.
type Asset struct {
	// Code ("SAT", "INR") and Name ("Community sats", "Digital rupee").
	Code string
	Name string
	// Decimals of the display unit (base units per unit = 10^Decimals).
	Decimals int
	// Peg is "sat" (one base unit is one sat of reserve) or "fiat".
	Peg string
	// Currency is the ISO 4217 code of a fiat peg ("INR"); empty for sat.
	Currency string
	// Supply is the issued amount in base units (paise, sats).
	Supply int64
	// Accounts holding the asset.
	Accounts int64
	// BackingSats is what Supply is worth in sats at coverage 1.00 (equal to
	// Supply for a sat peg; at Price for a fiat peg), rounded up.
	BackingSats int64
	// Price is the price of one bitcoin for a fiat peg; nil otherwise.
	Price *Price
	// CoverageBps is the asset's coverage in basis points (10000 = 1.00).
	CoverageBps int64
	// MinCoverageBps is the policy minimum; WarnCoverageBps the warning
	// level (0: none).
	MinCoverageBps  int64
	WarnCoverageBps int64
	// Stale is true when the asset's inputs (reserves, price) are stale.
	Stale bool
	// Status; empty: derived from the figures above.
	Status Status
}

// Price is the price of one bitcoin: Coefficient / 10^Scale units of
// Currency (a decimal string, it may exceed int64).
type Price struct {
	Coefficient string
	Scale       int
	Currency    string
	Time        time.Time
	// Source names the oracle(s), or "manual" for an issuer-set price.
	Source string
	Stale  bool
}

// Coverage is the coverage of all liabilities by counted reserves.
type Coverage struct {
	// CountedSats are the counted reserves.
	CountedSats int64
	// BackingSats is what all liabilities are worth at 1.00.
	BackingSats int64
	// RequiredSats is what the liabilities need at each asset's policy
	// minimum.
	RequiredSats int64
	// Bps is CountedSats / BackingSats × 10000, rounded down (clamped to
	// the int64 range); 0 when nothing is outstanding.
	Bps int64
}

// Anchor is the bitcoin anchor an attestation lists (docs/proofs.md
// 4.14): the transaction Txid in block Height commits to attestation Seq,
// whose id is ID, with Commitment.
type Anchor struct {
	Seq        int64
	ID         string
	Txid       string
	Height     int64
	BlockHash  string
	Commitment string
	// Behind is how many blocks the anchor is below the attested block.
	Behind int64
}

// ListedOutput is an on-chain output an attestation lists, with the
// source that reported it ("chain" or an lnd node's name).
type ListedOutput struct {
	Outpoint string
	Sats     int64
	Source   string
}

// Moved is what of an attestation's listed outputs is spent now, as
// koshd's chain watcher (at block Height) and its lnd nodes' last polls see
// it: an issuer's statement, which koshverify checks with the reader's node.
type Moved struct {
	Outputs int
	Sats    int64
	Height  int64
}

// Attestation describes one published attestation.
type Attestation struct {
	// ID is the attestation's hash, 64 hex.
	ID string
	// Seq numbers attestations from 1.
	Seq int64
	// Height and BlockHash are the attested block.
	Height    int64
	BlockHash string
	// Time the inputs were frozen.
	Time time.Time
	// IssuerKey is the issuer's x-only key, 64 hex.
	IssuerKey string
	// Stale is true when the attested reserves were stale.
	Stale bool
	// CountedSats, BackingSats and CoverageBps are the attested figures.
	CountedSats int64
	BackingSats int64
	CoverageBps int64
	// Backed is the attested verdict: counted reserves ≥ required.
	Backed bool
	// File is the static file name ("000001-<id>.json"), if any; used by
	// the {file} placeholder of Options.AttestationURL.
	File string
	// Version is the attestation format version (1, 2 or 3).
	Version int
	// Anchor is the bitcoin anchor the attestation lists (nil: none).
	Anchor *Anchor
	// Listed are the on-chain outputs the attestation lists.
	Listed []ListedOutput
	// Moved is what of Listed koshd's own sources see spent since (nil:
	// not known; set for the latest attestation by the page's source).
	Moved *Moved
	// Evidence is what a version 2 attestation says of its reserves'
	// evidence; nil for version 1.
	Evidence *Evidence
}

// Evidence is what a version 2 attestation states of its reserves: which
// on-chain outputs count (each with a proof of control, docs/proofs.md
// 4.12) and why the others do not, and which channels are announced or
// only claimed (4.13). The page shows it as the document says it; the
// in-browser check verifies the proofs and shows its own account.
type Evidence struct {
	// Listed and Counted are the numbers of listed and counted outputs;
	// CountedSats is the counted outputs' total (before the class rule).
	Listed, Counted int
	CountedSats     int64
	// MinConfirmations and ProofMaxAge are the counting rules an output
	// meets to count.
	MinConfirmations int64
	ProofMaxAge      int64
	// Uncounted are the listed outputs that do not count, with the reason
	// (at most 20; MoreUncounted says how many more).
	Uncounted     []UncountedOutput
	MoreUncounted int
	// Announced is the number of announced channels.
	Announced int
	// Claimed are the channels with no third-party evidence (at most 20;
	// MoreClaimed says how many more); ClaimedSats is what they claim in
	// all; ClaimedCount says whether the counting rules count them.
	Claimed      []ClaimedChannel
	MoreClaimed  int
	ClaimedSats  int64
	ClaimedCount bool
}

// UncountedOutput is a listed output that does not count.
type UncountedOutput struct {
	Outpoint string
	Sats     int64
	// Reason is attest.UncountedReason's ("no proof of control", …).
	Reason string
}

// ClaimedChannel is a channel the node claims, with no third-party
// evidence that it is the node's.
type ClaimedChannel struct {
	ChannelPoint string
	// Node is the operator's name of the node.
	Node string
	// Sats is what the channel counts before the claimed-channel rule.
	Sats int64
}

// HistoryPoint is one point of the history chart.
type HistoryPoint struct {
	Time            time.Time
	ReservesSats    int64
	LiabilitiesSats int64
	CoverageBps     int64
}

// Options configure the page.
type Options struct {
	// AttestationURL is the link pattern of an attestation document, with
	// the placeholders {id}, {seq} and {file}. Default
	// "/attestations/{id}.json", which this handler serves from
	// DataSource.Attestation. "/v1/public/attestations/{id}" links to the
	// REST API (whose reply wraps the document; the in-browser verifier
	// unwraps it).
	AttestationURL string
	// PublicURL is the page's public base URL ("https://reserves.example"),
	// used in the koshverify commands; empty: taken from the request.
	PublicURL string
	// Log receives render and data-source errors; nil: slog.Default().
	Log *slog.Logger
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every response: nothing from other
// hosts, no inline script or style.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type handler struct {
	src    DataSource
	opts   Options
	tmpl   *template.Template
	static map[string]staticFile
	mux    *http.ServeMux
}

type staticFile struct {
	body  []byte
	ctype string
	etag  string
}

// New returns the page's handler. Mount it at "/": it serves "/",
// "/static/…" and "/attestations/{id}.json".
func New(src DataSource, opts Options) http.Handler {
	if opts.AttestationURL == "" {
		opts.AttestationURL = "/attestations/{id}.json"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	h := &handler{src: src, opts: opts, static: map[string]staticFile{}}
	h.tmpl = template.Must(template.New("").Funcs(h.funcs()).ParseFS(templateFS, "templates/*.html"))
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.static["/"+p] = staticFile{body: b, ctype: contentType(p), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("web: embedded assets unreadable: " + err.Error())
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("GET /static/", h.asset)
	h.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/static/favicon.svg"
		h.asset(w, r)
	})
	h.mux.HandleFunc("GET /attestations/{name}", h.attestation)
	return h
}

func contentType(p string) string {
	switch {
	case strings.HasSuffix(p, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(p, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(p, ".svg"):
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

func (h *handler) asset(w http.ResponseWriter, r *http.Request) {
	f, ok := h.static[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

func (h *handler) attestation(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("name"), ".json")
	if seq, rest, found := strings.Cut(id, "-"); found && isDigits(seq) {
		id = rest // the static file name, <seq>-<id>.json, as koshverify --chain fetches it
	}
	if !ok || !isHex(id) {
		http.NotFound(w, r)
		return
	}
	doc, err := h.src.Attestation(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.opts.Log.Error("web: attestation unavailable", "id", id, "err", err)
		http.Error(w, "attestation unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `inline; filename="`+id+`.json"`)
	w.Header().Set("Cache-Control", "public, max-age=3600, immutable")
	w.Write(doc)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	d, err := h.src.Page(r.Context())
	if err != nil {
		h.opts.Log.Error("web: page data unavailable", "err", err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		h.tmpl.ExecuteTemplate(w, "error.html", nil)
		return
	}
	v := h.view(d, r)
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, "page.html", v); err != nil {
		h.opts.Log.Error("web: render page", "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}
