// Package headless starts Debian's Chromium without a display, through
// chromedp, and collects every error the page reports (console errors and
// assertions, uncaught exceptions, log errors such as CSP violations and
// failed loads). The browser tests in web/ and the demo's page check both
// use it, so "no console errors" means one thing.
package headless

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Config says which Chromium to run and how.
type Config struct {
	// Path is the browser binary (Debian: /usr/bin/chromium).
	Path string
	// ProfileDir is a fresh user data directory.
	ProfileDir string
	// Width and Height of the window.
	Width, Height int
	// IgnoreCertErrors accepts any TLS certificate: only for a loopback
	// page served with koshd's self-signed certificate.
	IgnoreCertErrors bool
}

// Browser is one running Chromium.
type Browser struct {
	// Ctx runs chromedp actions in the browser's tab.
	Ctx    context.Context
	cancel func()

	mu   sync.Mutex
	errs []string
}

// Start launches Chromium; Close stops it.
func Start(ctx context.Context, cfg Config) (*Browser, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(cfg.Path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(cfg.ProfileDir),
		chromedp.WindowSize(cfg.Width, cfg.Height),
	}
	if cfg.IgnoreCertErrors {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors", true))
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelC := chromedp.NewContext(actx)
	b := &Browser{Ctx: bctx, cancel: func() { cancelC(); cancelA() }}
	if err := chromedp.Listen(bctx, b.record); err != nil {
		b.Close()
		return nil, fmt.Errorf("start Chromium %s: %w", cfg.Path, err)
	}
	for name, enable := range map[string]cdp.Command[cdp.Empty, cdp.Empty]{"Runtime": runtime.Enable, "Log": log.Enable} {
		if _, err := chromedp.Call(bctx, enable, cdp.Empty{}); err != nil {
			b.Close()
			return nil, fmt.Errorf("%s.enable: %w", name, err)
		}
	}
	return b, nil
}

// record keeps what the page reports as an error.
func (b *Browser) record(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			msg = "log: " + ev.Entry.Text + " " + ev.Entry.URL
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.errs = append(b.errs, msg)
		b.mu.Unlock()
	}
}

// Errors returns every error the browser has reported so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// Close stops the browser.
func (b *Browser) Close() { b.cancel() }
