package oracle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kosh-reserve/kosh/money"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Source defaults.
const (
	// DefaultTimeout bounds a fetch when SourceConfig.Timeout is zero.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBodyBytes bounds a response body when
	// SourceConfig.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = 1 << 20
	// MaxFutureSkew is how far ahead of the local clock a source's
	// timestamp may be before the quote is refused.
	MaxFutureSkew = time.Minute
)

// ErrSource is wrapped by every error of Source.Fetch about what the source
// answered (status, content type, size, JSON, pointer, price, time), as
// opposed to a transport failure or cancellation.
var ErrSource = errors.New("bad source response")

// SourceConfig configures one HTTP(S) JSON price source.
type SourceConfig struct {
	// Name identifies the source in quotes, logs and errors; unique
	// within an Oracle.
	Name string
	// URL is the http:// or https:// endpoint answered with a JSON
	// document by GET.
	URL string
	// Pointer is the RFC 6901 JSON pointer to the price in the document,
	// e.g. "/bitcoin/inr". The value must be a JSON number or a string
	// holding one (see ParsePrice).
	Pointer string
	// TimePointer optionally points to the quote's time in the document:
	// a JSON number of Unix seconds (an integer) or an RFC 3339 string.
	// Empty: the price is timed when the response arrives.
	TimePointer string
	// Exponent scales the quoted number: price = quoted × 10^Exponent.
	// Zero for a source quoting whole currency units per BTC, -2 for one
	// quoting cents per BTC, 8 for one quoting units per sat. Within
	// [-18, 18].
	Exponent int
	// Timeout bounds one fetch, connection to last byte; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxBodyBytes bounds the response body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Source fetches a price from one configured HTTP(S) JSON endpoint. It is
// safe for concurrent use.
type Source struct {
	cfg     SourceConfig
	url     string
	ptr     Pointer
	timePtr *Pointer
	client  *http.Client
	now     func() time.Time
}

// SourceOption adjusts a Source.
type SourceOption func(*Source)

// WithSourceHTTPClient makes the source use c (its Timeout and
// CheckRedirect are ignored: the source applies its own).
func WithSourceHTTPClient(c *http.Client) SourceOption {
	return func(s *Source) {
		if c != nil {
			s.client = &http.Client{Transport: c.Transport, Jar: c.Jar}
		}
	}
}

// WithSourceClock makes the source read time from now instead of
// time.Now.
func WithSourceClock(now func() time.Time) SourceOption {
	return func(s *Source) {
		if now != nil {
			s.now = now
		}
	}
}

// NewSource validates cfg and returns its Source.
func NewSource(cfg SourceConfig, opts ...SourceOption) (*Source, error) {
	if cfg.Name == "" {
		return nil, errors.New("price source: name is empty")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("price source %s: url: %w", cfg.Name, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("price source %s: url %q: scheme must be http or https", cfg.Name, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("price source %s: url %q has no host", cfg.Name, u.Redacted())
	}
	if cfg.Pointer == "" {
		return nil, fmt.Errorf("price source %s: pointer is empty (the price cannot be the whole document)", cfg.Name)
	}
	ptr, err := ParsePointer(cfg.Pointer)
	if err != nil {
		return nil, fmt.Errorf("price source %s: pointer: %w", cfg.Name, err)
	}
	s := &Source{cfg: cfg, url: u.String(), ptr: ptr, now: time.Now}
	if cfg.TimePointer != "" {
		tp, err := ParsePointer(cfg.TimePointer)
		if err != nil {
			return nil, fmt.Errorf("price source %s: time pointer: %w", cfg.Name, err)
		}
		s.timePtr = &tp
	}
	if cfg.Exponent < -MaxScale || cfg.Exponent > MaxScale {
		return nil, fmt.Errorf("price source %s: exponent %d outside [-%d, %d]", cfg.Name, cfg.Exponent, MaxScale, MaxScale)
	}
	if cfg.Timeout < 0 || cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("price source %s: negative timeout or body limit", cfg.Name)
	}
	if s.cfg.Timeout == 0 {
		s.cfg.Timeout = DefaultTimeout
	}
	if s.cfg.MaxBodyBytes == 0 {
		s.cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s.client = &http.Client{}
	for _, o := range opts {
		o(s)
	}
	// Redirects are refused: the configured URL is the source.
	s.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return s, nil
}

// Name returns the source's configured name.
func (s *Source) Name() string { return s.cfg.Name }

// Config returns the source's configuration with defaults filled in.
func (s *Source) Config() SourceConfig { return s.cfg }

// Fetch GETs the source's URL and returns the price it quotes (already
// scaled by Exponent) and the quote's time (from TimePointer, else the
// arrival of the response). It fails on: a transport error or the timeout;
// a status other than 200 (redirects are not followed); a Content-Type
// other than application/json or a +json type; a body over MaxBodyBytes;
// a body that is not exactly one JSON value; a pointer with no target; a
// target that is not a valid price (see ParsePrice); a time more than
// MaxFutureSkew ahead. Errors about the response wrap ErrSource.
func (s *Source) Fetch(ctx context.Context) (money.Price, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: %w", s.cfg.Name, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: %w: HTTP status %s", s.cfg.Name, ErrSource, resp.Status)
	}
	if err := checkContentType(resp.Header.Get("Content-Type")); err != nil {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: %w: %w", s.cfg.Name, ErrSource, err)
	}
	if resp.ContentLength > s.cfg.MaxBodyBytes {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: %w: body of %d bytes exceeds the limit of %d", s.cfg.Name, ErrSource, resp.ContentLength, s.cfg.MaxBodyBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxBodyBytes+1))
	if err != nil {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: read body: %w", s.cfg.Name, unwrapURLError(err))
	}
	if int64(len(body)) > s.cfg.MaxBodyBytes {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: %w: body exceeds the limit of %d bytes", s.cfg.Name, ErrSource, s.cfg.MaxBodyBytes)
	}
	arrived := s.now()
	p, t, err := s.parse(body, arrived)
	if err != nil {
		return money.Price{}, time.Time{}, fmt.Errorf("source %s: %w: %w", s.cfg.Name, ErrSource, err)
	}
	return p, t, nil
}

// parse extracts the price and time from a response body.
func (s *Source) parse(body []byte, arrived time.Time) (money.Price, time.Time, error) {
	doc, err := decodeJSON(body)
	if err != nil {
		return money.Price{}, time.Time{}, err
	}
	v, err := s.ptr.Eval(doc)
	if err != nil {
		return money.Price{}, time.Time{}, err
	}
	p, err := priceFromJSONValue(v)
	if err != nil {
		return money.Price{}, time.Time{}, fmt.Errorf("value at %q: %w", s.ptr, err)
	}
	if s.cfg.Exponent != 0 {
		if p, err = p.Shift(s.cfg.Exponent); err != nil {
			return money.Price{}, time.Time{}, fmt.Errorf("value at %q × 10^%d: %w", s.ptr, s.cfg.Exponent, err)
		}
	}
	t := arrived
	if s.timePtr != nil {
		tv, err := s.timePtr.Eval(doc)
		if err != nil {
			return money.Price{}, time.Time{}, fmt.Errorf("time: %w", err)
		}
		if t, err = parseQuoteTime(tv); err != nil {
			return money.Price{}, time.Time{}, fmt.Errorf("time at %q: %w", s.timePtr, err)
		}
		if t.After(arrived.Add(MaxFutureSkew)) {
			return money.Price{}, time.Time{}, fmt.Errorf("time %s is %s ahead of the local clock (max %s)", t.UTC().Format(time.RFC3339), t.Sub(arrived).Round(time.Second), MaxFutureSkew)
		}
	}
	return p, t, nil
}

// maxJSONDepth bounds the nesting of a source's document.
const maxJSONDepth = 64

// decodeJSON decodes exactly one JSON value, keeping numbers exact
// (json.Number) and refusing duplicate object members (which readers
// resolve differently) and nesting deeper than maxJSONDepth.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	doc, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: data after the first value")
	}
	return doc, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxJSONDepth)
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("object key %v is not a string", kt)
			}
			if _, dup := obj[k]; dup {
				return nil, fmt.Errorf("duplicate member %q", k)
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, err
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// parseQuoteTime reads a quote time: integer Unix seconds or RFC 3339.
func parseQuoteTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil {
			// Accept a whole number written with a fraction or exponent.
			r, ok := new(big.Rat).SetString(string(t))
			if !ok || !r.IsInt() || !r.Num().IsInt64() {
				return time.Time{}, fmt.Errorf("%s is not a whole number of Unix seconds", t)
			}
			n = r.Num().Int64()
		}
		if n <= 0 || n > 1<<40 {
			return time.Time{}, fmt.Errorf("%d Unix seconds is out of range", n)
		}
		return time.Unix(n, 0), nil
	case string:
		tt, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return time.Time{}, fmt.Errorf("not an RFC 3339 time: %w", err)
		}
		return tt, nil
	}
	return time.Time{}, fmt.Errorf("value is %s, not Unix seconds or an RFC 3339 string", jsonKind(v))
}

// checkContentType accepts application/json and any +json media type.
func checkContentType(ct string) error {
	if ct == "" {
		return errors.New("no Content-Type (want application/json)")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("Content-Type %q: %w", ct, err)
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("Content-Type %q is not JSON", mt)
	}
	return nil
}

// unwrapURLError drops the *url.Error wrapper (which repeats the URL, and
// may carry credentials in it) keeping the cause and the timeout meaning.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timed out: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

// priceFromJSONValue parses a price from a value decoded by encoding/json
// with UseNumber: a json.Number or a string.
func priceFromJSONValue(v any) (money.Price, error) {
	switch t := v.(type) {
	case json.Number:
		return money.ParsePrice(string(t))
	case string:
		return money.ParsePrice(t)
	default:
		return money.Price{}, fmt.Errorf("%w: value is %s, not a number or a string", money.ErrInvalidPrice, jsonKind(v))
	}
}
