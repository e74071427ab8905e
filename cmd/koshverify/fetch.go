package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxFetch bounds every file or download, in bytes.
const maxFetch = 64 << 20

// isURL reports whether s names an http(s) resource rather than a file.
func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// load reads a file or fetches a URL. Plain http is allowed only to a
// loopback host; anything else must be https. The body is limited to
// maxFetch bytes.
func load(ctx context.Context, src string) ([]byte, error) {
	if !isURL(src) {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("cannot open %s: %w", src, err)
		}
		defer f.Close()
		return readLimited(f, src)
	}
	u, err := url.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid URL: %w", src, err)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("refusing plain http to %s: use https, or http only to a loopback address", u.Host)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot request %s: %w", src, err)
	}
	client := &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("too many redirects")
		}
		if r.URL.Scheme == "http" && !isLoopback(r.URL.Hostname()) {
			return fmt.Errorf("refusing a redirect to plain http at %s", r.URL.Host)
		}
		return nil
	}}
	for attempt := 1; ; attempt++ {
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("cannot fetch %s: %w", src, err)
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < maxAttempts {
			// koshd rate-limits its public files per client: following a
			// long chain, wait as told and ask again.
			resp.Body.Close()
			t := time.NewTimer(retryAfter(resp.Header.Get("Retry-After")))
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("fetching %s: still rate limited (HTTP 429) after %d attempts: %w", src, attempt, ctx.Err())
			}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetching %s gave HTTP status %s", src, resp.Status)
		}
		return readLimited(resp.Body, src)
	}
}

// maxAttempts bounds how often one URL is asked for while the server
// answers 429 Too Many Requests.
const maxAttempts = 10

// retryAfter is how long a 429's Retry-After header (whole seconds) says to
// wait: 1 to 30 seconds, 1 if the header is missing or not a number.
func retryAfter(h string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || s < 1 {
		s = 1
	}
	return time.Duration(min(s, 30)) * time.Second
}

func readLimited(r io.Reader, src string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFetch+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", src, err)
	}
	if len(b) > maxFetch {
		return nil, fmt.Errorf("%s is larger than the limit of %d bytes", src, maxFetch)
	}
	return b, nil
}

// isLoopback reports whether host is localhost (any case, as DNS names
// are) or a loopback address. koshverify keeps its own copy of koshd's
// loopback.Host: it imports nothing of the server.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
