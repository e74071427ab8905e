package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshots writes the page, verified green, at desktop and phone
// width, with the version 1 and the version 2 fixture (page-v2-*), to the
// directory in KOSH_SCREENSHOTS (make screenshots). It is a
// tool for review, not a check, so it runs only when asked.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("KOSH_SCREENSHOTS")
	if dir == "" {
		t.Skip("set KOSH_SCREENSHOTS=<dir> (make screenshots) to write screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	_, url := pageServer(t)
	v2 := httptest.NewServer(testMux(newFixtureFrom(t, chainFiles(t, "chain-v2"), latestV2FixtureID)))
	defer v2.Close()
	for _, s := range []struct {
		name   string
		w, h   int64
		mobile bool
		url    string
	}{{"desktop", 1280, 900, false, url}, {"phone", 390, 844, true, url},
		{"v2-desktop", 1280, 900, false, v2.URL}, {"v2-phone", 390, 844, true, v2.URL}} {
		url := s.url
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if s.mobile {
			opts = append(opts, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
		}
		b.do(t, chromedp.EmulateViewport(s.w, s.h, opts...), chromedp.Navigate(url+"/"), chromedp.WaitEnabled(chromedp.ID("verify-btn")))
		if cls, msg := b.click(t, "verify-btn", "verify-result"); cls == "" || msg == "" {
			t.Fatalf("%s: verification did not finish", s.name)
		}
		img := bget(t, b, chromedp.FullScreenshot(85)) // JPEG at quality 85
		path := filepath.Join(dir, "page-"+s.name+".jpg")
		if err := os.WriteFile(path, img, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, len(img))
		if s.name == "desktop" {
			// The first screen, for the README.
			bget(t, b, chromedp.Evaluate[bool](`(window.scrollTo(0, 0), true)`))
			top := bget(t, b, chromedp.CaptureScreenshot())
			path := filepath.Join(dir, "page-top.png")
			if err := os.WriteFile(path, top, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes)", path, len(top))
		}
	}
	b.noErrors(t)
}
