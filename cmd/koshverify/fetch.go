package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
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
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %s: %w", src, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s gave HTTP status %s", src, resp.Status)
	}
	return readLimited(resp.Body, src)
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

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
