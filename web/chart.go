package web

import (
	"fmt"
	"html/template"
	"strings"
)

// Chart geometry, in SVG user units (the SVG scales to its container).
const (
	chartW   = 640
	chartH   = 220
	padLeft  = 8
	padRight = 8
	padTop   = 24
	padBot   = 26
)

// historyCharts draws, server-side, two SVG charts from the history:
// reserves and liabilities (BTC), and coverage (ratio). Fewer than two
// points draw nothing. Coordinates are plotting positions, not money: they
// may be rounded freely; every printed figure is formatted from integers.
func historyCharts(pts []HistoryPoint) (template.HTML, template.HTML) {
	if len(pts) < 2 {
		return "", ""
	}
	var maxSats, maxBps int64 = 1, 1
	for _, p := range pts {
		maxSats = max(maxSats, p.ReservesSats, p.LiabilitiesSats)
		maxBps = max(maxBps, p.CoverageBps)
	}
	t0, t1 := pts[0].Time, pts[len(pts)-1].Time
	span := t1.Sub(t0).Seconds()
	x := func(i int) float64 {
		var f float64
		if span > 0 {
			f = pts[i].Time.Sub(t0).Seconds() / span
		} else {
			f = float64(i) / float64(len(pts)-1)
		}
		return padLeft + f*(chartW-padLeft-padRight)
	}
	y := func(v, top int64) float64 {
		return padTop + (1-float64(v)/float64(top))*(chartH-padTop-padBot)
	}
	line := func(get func(HistoryPoint) int64, top int64) string {
		var b strings.Builder
		for i, p := range pts {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(get(p), top))
		}
		return strings.TrimSpace(b.String())
	}
	axis := func(b *strings.Builder, topLabel string) {
		fmt.Fprintf(b, `<line class="grid" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padLeft, padTop, chartW-padRight, padTop)
		fmt.Fprintf(b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padLeft, chartH-padBot, chartW-padRight, chartH-padBot)
		fmt.Fprintf(b, `<text class="lbl" x="%d" y="%d">%s</text>`, padLeft, padTop-8, template.HTMLEscapeString(topLabel))
		fmt.Fprintf(b, `<text class="lbl" x="%d" y="%d">%s</text>`, padLeft, chartH-8, template.HTMLEscapeString(t0.UTC().Format("2006-01-02 15:04")))
		fmt.Fprintf(b, `<text class="lbl" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-padRight, chartH-8, template.HTMLEscapeString(t1.UTC().Format("2006-01-02 15:04")))
	}
	last := pts[len(pts)-1]

	var a strings.Builder
	fmt.Fprintf(&a, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="ch1t">`, chartW, chartH)
	fmt.Fprintf(&a, `<title id="ch1t">Reserves and liabilities over %d attestations; latest: reserves %s, liabilities %s</title>`,
		len(pts), FormatBTC(last.ReservesSats), FormatBTC(last.LiabilitiesSats))
	axis(&a, "max "+FormatBTC(maxSats))
	fmt.Fprintf(&a, `<polyline class="l-res" points="%s"/>`, line(func(p HistoryPoint) int64 { return p.ReservesSats }, maxSats))
	fmt.Fprintf(&a, `<polyline class="l-liab" points="%s"/>`, line(func(p HistoryPoint) int64 { return p.LiabilitiesSats }, maxSats))
	a.WriteString(`</svg>`)

	var c strings.Builder
	top := max(maxBps, 10000)
	fmt.Fprintf(&c, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="ch2t">`, chartW, chartH)
	fmt.Fprintf(&c, `<title id="ch2t">Coverage over %d attestations; latest %s</title>`, len(pts), FormatRatio(last.CoverageBps))
	axis(&c, "max "+FormatRatio(top))
	fmt.Fprintf(&c, `<line class="one" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padLeft, y(10000, top), chartW-padRight, y(10000, top))
	fmt.Fprintf(&c, `<text class="lbl" x="%d" y="%.1f" text-anchor="end">1.00</text>`, chartW-padRight, y(10000, top)-4)
	fmt.Fprintf(&c, `<polyline class="l-cov" points="%s"/>`, line(func(p HistoryPoint) int64 { return p.CoverageBps }, top))
	c.WriteString(`</svg>`)
	return template.HTML(a.String()), template.HTML(c.String())
}
