package oracle

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/kvopt"
	"github.com/kosh-reserve/kosh/loopback"
)

// Options configures the price oracle that values fiat-pegged assets
// (docs/oracle.md). Sources are grouped by currency: one oracle per
// currency, sharing the policy options below.
type Options struct {
	Sources          []string      `long:"source" description:"An HTTP(S) JSON price source (repeatable): name=a,currency=INR,url=https://example.com/btc,pointer=/data/price[,timepointer=/data/time][,scale=2][,timeout=10s]. scale=N divides the quoted number by 10^N (2 for a source quoting paise per BTC; negative multiplies). url must be https, or http on a loopback address"`
	ManualCurrencies []string      `long:"manualcurrency" description:"A currency with no sources, priced only by SetManualPrice (repeatable), e.g. INR"`
	MinSources       int           `long:"minsources" description:"Fresh sources that must agree for a price, per currency (0: more than half of the currency's sources)"`
	SpreadBps        int64         `long:"spreadbps" description:"Largest deviation, in basis points, of a source from the median of the fresh prices for it to agree (100 = 1%)"`
	PollInterval     time.Duration `long:"pollinterval" description:"How often every price source is polled"`
	MaxAge           time.Duration `long:"maxage" description:"A source's price older than this is not fresh; with too few fresh sources the price is stale and fiat mints stop"`
}

// Oracle defaults.
const (
	DefaultSpreadBps    = 200
	DefaultPollInterval = time.Minute
	DefaultSourceMaxAge = 5 * time.Minute
)

// DefaultOptions is the [oracle] group's defaults: no sources.
func DefaultOptions() Options {
	return Options{SpreadBps: DefaultSpreadBps, PollInterval: DefaultPollInterval,
		MaxAge: DefaultSourceMaxAge}
}

var currencyCodeRE = regexp.MustCompile(`^[A-Z]{3}$`)

// Configured reports whether any currency is priced (by sources or by hand).
func (c Options) Configured() bool { return len(c.Sources) > 0 || len(c.ManualCurrencies) > 0 }

// Validate checks the [oracle] options for mistakes a person can fix.
func (c Options) Validate() error {
	_, err := c.Configs()
	return err
}

// Configs parses and checks the options into one Config per
// currency.
func (c Options) Configs() (map[string]Config, error) {
	if !c.Configured() {
		return nil, nil
	}
	if c.PollInterval <= 0 {
		return nil, fmt.Errorf("--oracle.pollinterval must be positive, got %s", c.PollInterval)
	}
	if c.MaxAge <= c.PollInterval {
		return nil, fmt.Errorf("--oracle.maxage %s must be longer than --oracle.pollinterval %s, or every price goes stale between two polls",
			c.MaxAge, c.PollInterval)
	}
	if c.SpreadBps <= 0 || c.SpreadBps > BasisPoints {
		return nil, fmt.Errorf("--oracle.spreadbps must be 1 to %d (100 = 1%%), got %d", BasisPoints, c.SpreadBps)
	}
	if c.MinSources < 0 {
		return nil, fmt.Errorf("--oracle.minsources must be 0 (more than half of each currency's sources) or positive, got %d", c.MinSources)
	}
	out := map[string]Config{}
	names := map[string]bool{}
	for _, spec := range c.Sources {
		cur, sc, err := parseSource(spec)
		if err != nil {
			return nil, err
		}
		if names[sc.Name] {
			return nil, fmt.Errorf("--oracle.source: two sources are named %q; give each a name of its own", sc.Name)
		}
		names[sc.Name] = true
		oc := out[cur]
		oc.Currency = cur
		oc.Sources = append(oc.Sources, sc)
		out[cur] = oc
	}
	for cur, oc := range out {
		n := len(oc.Sources)
		oc.MinSources = c.MinSources
		if oc.MinSources == 0 {
			oc.MinSources = n/2 + 1
		}
		if oc.MinSources > n {
			return nil, fmt.Errorf("--oracle.minsources=%d but %s has only %d source(s): add --oracle.source lines with currency=%s or lower --oracle.minsources",
				oc.MinSources, cur, n, cur)
		}
		oc.MaxSpreadBps, oc.Interval, oc.MaxAge = c.SpreadBps, c.PollInterval, c.MaxAge
		out[cur] = oc
	}
	for _, cur := range c.ManualCurrencies {
		if !currencyCodeRE.MatchString(cur) {
			return nil, fmt.Errorf("--oracle.manualcurrency %q is not an ISO 4217 code of 3 capital letters (e.g. INR)", cur)
		}
		if _, ok := out[cur]; ok {
			return nil, fmt.Errorf("--oracle.manualcurrency %s also has --oracle.source lines; a currency is priced by sources (a manual price can still override them) or by hand only, not both", cur)
		}
		out[cur] = Config{Currency: cur, MaxAge: c.MaxAge, Interval: c.PollInterval}
	}
	return out, nil
}

// parseSource parses
// "name=a,currency=INR,url=https://...,pointer=/p[,timepointer=/t][,scale=2][,timeout=10s]".
func parseSource(spec string) (string, SourceConfig, error) {
	var sc SourceConfig
	f, err := kvopt.Parse("--oracle.source", spec, "name", "currency", "url", "pointer", "timepointer", "scale", "timeout")
	if err != nil {
		return "", sc, err
	}
	if err := f.Require("name=a,currency=INR,url=https://prices.example/btc-inr,pointer=/data/price",
		"name", "currency", "url", "pointer"); err != nil {
		return "", sc, err
	}
	sc.Name, sc.URL, sc.Pointer, sc.TimePointer = f.String("name"), f.String("url"), f.String("pointer"), f.String("timepointer")
	cur := f.String("currency")
	if f.Has("scale") {
		n, err := strconv.Atoi(f.String("scale"))
		if err != nil || n < -MaxScale || n > MaxScale {
			return "", sc, f.Errorf("scale %q must be an integer from -%d to %d (the quoted number is divided by 10^scale)",
				f.String("scale"), MaxScale, MaxScale)
		}
		sc.Exponent = -n
	}
	if sc.Timeout, err = f.Duration("timeout", 0); err != nil {
		return "", sc, err
	}
	if strings.ContainsAny(sc.Name, " \t\"") {
		return "", sc, f.Errorf("name %q must not contain spaces or quotes", sc.Name)
	}
	if !currencyCodeRE.MatchString(cur) {
		return "", sc, f.Errorf("currency %q is not an ISO 4217 code of 3 capital letters (e.g. INR)", cur)
	}
	u, err := url.Parse(sc.URL)
	if err != nil {
		return "", sc, f.Errorf("url: %v", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && u.Host != "":
		if !loopback.Host(u.Hostname()) {
			return "", sc, f.Errorf("url %s is plain http to a non-loopback host; use https (a price read in clear text can be changed on the way)", u.Redacted())
		}
	default:
		return "", sc, f.Errorf("url %q must be https://host/... (or http:// on a loopback address)", u.Redacted())
	}
	if u.User != nil {
		return "", sc, f.Errorf("url must not carry a user or password")
	}
	if _, err := NewSource(sc); err != nil {
		return "", sc, f.Errorf("%v", err)
	}
	return cur, sc, nil
}
