package web

import (
	"html/template"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/money"
)

// view is what the template renders: PageData plus derived strings.
type view struct {
	*PageData
	Now        time.Time
	Status     Status
	Headline   string
	Assets     []assetView
	Latest     *attView
	List       []attView
	Chart      template.HTML
	CovChart   template.HTML
	BaseURL    string
	LatestURL  string
	Mainnet    bool
	StaticHash map[string]string
}

type assetView struct {
	Asset
	Status Status
	Note   string
	// ReservesFiat is the rupee view of a fiat peg: all counted reserves
	// valued in its currency at its price, rounded down; empty for a sat
	// peg or without a usable price.
	ReservesFiat string
}

type attView struct {
	Attestation
	URL string
	Age string
}

// statusRank orders statuses from best to worst.
func statusRank(s Status) int {
	switch s {
	case StatusBacked:
		return 0
	case StatusWarning:
		return 1
	case StatusUnderBacked:
		return 2
	case StatusStale:
		return 3
	}
	return 3
}

// AssetStatus derives an asset's status from its figures: stale if its
// inputs are stale, under-backed below the policy minimum, warning below
// the warning level, backed otherwise. An asset with no supply is backed.
func AssetStatus(a *Asset) Status {
	switch {
	case a.Stale || a.Price != nil && a.Price.Stale:
		return StatusStale
	case a.Supply > 0 && a.CoverageBps < a.MinCoverageBps:
		return StatusUnderBacked
	case a.Supply > 0 && a.WarnCoverageBps > 0 && a.CoverageBps < a.WarnCoverageBps:
		return StatusWarning
	}
	return StatusBacked
}

func (h *handler) view(d *PageData, r *http.Request) *view {
	v := &view{PageData: d, Now: d.Now, Mainnet: d.Network == "" || d.Network == "mainnet"}
	if v.Now.IsZero() {
		v.Now = time.Now()
	}
	worst := StatusBacked
	if d.Reserves.Stale {
		worst = StatusStale
	}
	for _, a := range d.Assets {
		av := assetView{Asset: a, Status: a.Status}
		if av.Status == "" {
			av.Status = AssetStatus(&a)
		}
		av.Note = assetNote(&av)
		if a.Peg == "fiat" && a.Price != nil && !a.Price.Stale {
			av.ReservesFiat = FiatValue(d.Reserves.CountedSats, a.Price, a.Decimals)
		}
		if statusRank(av.Status) > statusRank(worst) {
			worst = av.Status
		}
		v.Assets = append(v.Assets, av)
	}
	v.Status = d.Status
	if v.Status == "" {
		v.Status = worst
	}
	v.Headline = headline(v.Status)
	for _, a := range d.Attestations {
		v.List = append(v.List, h.attView(a, v.Now))
	}
	if d.Latest != nil {
		av := h.attView(*d.Latest, v.Now)
		v.Latest = &av
	}
	v.BaseURL = strings.TrimSuffix(h.opts.PublicURL, "/")
	if v.BaseURL == "" {
		scheme := "https"
		if r.TLS == nil {
			scheme = "http"
		}
		v.BaseURL = scheme + "://" + r.Host
	}
	if v.Latest != nil {
		v.LatestURL = v.Latest.URL
		if strings.HasPrefix(v.LatestURL, "/") {
			v.LatestURL = v.BaseURL + v.LatestURL
		}
	}
	v.Chart, v.CovChart = historyCharts(d.History)
	return v
}

// FiatValue values sats at the price p (units of p.Currency per BTC) with
// decimals places, rounded down (against the issuer): money.SatsInUnits,
// floored. 100000000 sats at ("654321012", 2, "INR"), 2 → "INR
// 6,543,210.12". Empty if p is unusable.
func FiatValue(sats int64, p *Price, decimals int) string {
	c, ok := new(big.Int).SetString(p.Coefficient, 10)
	if !ok || c.Sign() < 0 || p.Scale < 0 || p.Scale > math.MaxUint8 || decimals < 0 || decimals > math.MaxUint32 || sats < 0 {
		return ""
	}
	v, err := money.SatsInUnits(sats, money.Price{Coefficient: c, Scale: uint8(p.Scale)}, uint32(decimals))
	if err != nil {
		return ""
	}
	return p.Currency + " " + FormatDecimal(money.Round(v, money.Floor).String(), decimals)
}

func (h *handler) attView(a Attestation, now time.Time) attView {
	u := strings.NewReplacer("{id}", a.ID, "{seq}", strconv.FormatInt(a.Seq, 10), "{file}", a.File).Replace(h.opts.AttestationURL)
	return attView{Attestation: a, URL: u, Age: FormatAge(a.Time, now)}
}

func headline(s Status) string {
	switch s {
	case StatusBacked:
		return "Fully backed"
	case StatusWarning:
		return "Backed, close to the policy minimum"
	case StatusUnderBacked:
		return "Under-backed"
	}
	return "Stale: reserves not recently confirmed"
}

func assetNote(a *assetView) string {
	switch a.Status {
	case StatusStale:
		return "Inputs are stale: minting is paused until reserves (and the price) are fresh again."
	case StatusUnderBacked:
		return "Coverage is below the policy minimum of " + FormatRatio(a.MinCoverageBps) + ": minting is blocked."
	case StatusWarning:
		return "Coverage is above the policy minimum of " + FormatRatio(a.MinCoverageBps) + " but below the warning level of " + FormatRatio(a.WarnCoverageBps) + "."
	}
	if a.Supply == 0 {
		return "Nothing issued yet."
	}
	return "Coverage is at or above the policy minimum of " + FormatRatio(a.MinCoverageBps) + "."
}

func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		"btc":     FormatBTC,
		"sats":    FormatSats,
		"int":     FormatInt,
		"units":   FormatUnits,
		"ratio":   FormatRatio,
		"percent": FormatPercent,
		"time":    FormatTime,
		"age":     FormatAge,
		"short":   shortHex,
		"price": func(p *Price, decimals int) string {
			return FormatPrice(p.Coefficient, p.Scale, p.Currency, decimals)
		},
		"statusClass": func(s Status) string { return "st-" + string(s) },
		"statusWord": func(s Status) string {
			switch s {
			case StatusBacked:
				return "Backed"
			case StatusWarning:
				return "Warning"
			case StatusUnderBacked:
				return "Under-backed"
			}
			return "Stale"
		},
		"kindWord": func(k string) string {
			if k == KindLightning {
				return "Lightning"
			}
			return "On-chain"
		},
		"uncounted": func(s ReserveSource) int64 {
			if s.ReportedSats > s.CountedSats {
				return s.ReportedSats - s.CountedSats
			}
			return 0
		},
	}
}
