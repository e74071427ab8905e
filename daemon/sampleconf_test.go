package daemon_test

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	flags "github.com/jessevdk/go-flags"
	"github.com/kosh-reserve/kosh/daemon"
)

// sampleConf is the annotated sample configuration shipped in deploy/.
const sampleConf = "../deploy/koshd.conf"

// configOptions walks a go-flags configuration struct and returns every
// option's ini key (its long name with the group namespaces) mapped to
// whether it is a slice (a repeatable option).
func configOptions(t reflect.Type, prefix string, out map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if long, ok := f.Tag.Lookup("long"); ok {
			out[prefix+long] = f.Type.Kind() == reflect.Slice
			continue
		}
		if _, ok := f.Tag.Lookup("group"); ok && f.Type.Kind() == reflect.Struct {
			ns := f.Tag.Get("namespace")
			p := prefix
			if ns != "" {
				p += ns + "."
			}
			configOptions(f.Type, p, out)
		}
	}
}

// sampleLine is one option line of the sample.
type sampleLine struct {
	lineNo           int
	section          string
	key, value       string
	example, enabled bool
}

var (
	sectionRE = regexp.MustCompile(`^\[([^\]]+)\]\s*$`)
	// "; key=value": an option commented out at its default.
	defaultRE = regexp.MustCompile(`^; ([a-z][a-z0-9.]*)=(.*)$`)
	// ";   key=value": an example inside the prose of an option.
	exampleRE = regexp.MustCompile(`^;\s{2,}([a-z][a-z0-9.]*)=(.*)$`)
	// "key=value": an option set by the sample.
	enabledRE = regexp.MustCompile(`^([a-z][a-z0-9.]*)\s*=(.*)$`)
)

func readSample(t *testing.T) []sampleLine {
	t.Helper()
	f, err := os.Open(sampleConf)
	if err != nil {
		t.Fatalf("open the sample config: %v", err)
	}
	defer f.Close()
	var out []sampleLine
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := sectionRE.FindStringSubmatch(line); m != nil {
			section = m[1]
			continue
		}
		l := sampleLine{lineNo: n, section: section}
		if m := defaultRE.FindStringSubmatch(line); m != nil {
			l.key, l.value = m[1], m[2]
		} else if m := exampleRE.FindStringSubmatch(line); m != nil {
			l.key, l.value, l.example = m[1], m[2], true
		} else if m := enabledRE.FindStringSubmatch(line); m != nil {
			l.key, l.value, l.enabled = m[1], strings.TrimSpace(m[2]), true
		} else {
			continue
		}
		if section == "" {
			t.Errorf("%s:%d: option %s is outside any [section]", sampleConf, n, l.key)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// parseLine parses one option line, in its section, into the default
// configuration with koshd's ini parser.
func parseLine(l sampleLine) (daemon.Config, error) {
	cfg := daemon.DefaultConfig()
	ini := flags.NewIniParser(flags.NewParser(&cfg, flags.None))
	err := ini.Parse(strings.NewReader("[" + l.section + "]\n" + l.key + "=" + l.value + "\n"))
	return cfg, err
}

// TestSampleConfig proves deploy/koshd.conf documents every option of
// daemon.Config (walking the struct's long tags through its groups), that
// every option line in it is one koshd's ini parser accepts in its section,
// that every value shown commented out is the real default, and that the
// whole file loads with daemon.LoadConfig.
func TestSampleConfig(t *testing.T) {
	want := map[string]bool{}
	configOptions(reflect.TypeOf(daemon.Config{}), "", want)
	if len(want) < 20 {
		t.Fatalf("found only %d options in daemon.Config; the walk is broken", len(want))
	}
	lines := readSample(t)
	documented := map[string]int{}
	for _, l := range lines {
		where := sampleConf + ":" + itoa(l.lineNo)
		cfg, err := parseLine(l)
		if err != nil {
			t.Errorf("%s: %s=%s does not parse in [%s]: %v", where, l.key, l.value, l.section, err)
			continue
		}
		if l.example {
			continue
		}
		if _, ok := want[l.key]; !ok {
			t.Errorf("%s: %s is not an option of daemon.Config", where, l.key)
			continue
		}
		documented[l.key]++
		if l.enabled {
			continue // set on purpose, not a default
		}
		// configfile and datadir default to paths that depend on the
		// user running koshd; a repeatable option's empty line adds
		// nothing. Every other commented-out value must be the default.
		if l.key == "configfile" || l.key == "datadir" || (want[l.key] && l.value == "") {
			continue
		}
		if def := daemon.DefaultConfig(); !reflect.DeepEqual(cfg, def) {
			t.Errorf("%s: ; %s=%s is shown as the default but changes the configuration (the default is different)",
				where, l.key, l.value)
		}
	}
	for key := range want {
		switch documented[key] {
		case 0:
			t.Errorf("option %s of daemon.Config is missing from %s", key, sampleConf)
		case 1:
		default:
			t.Errorf("option %s appears %d times in %s", key, documented[key], sampleConf)
		}
	}

	// The real loader reads the whole file.
	dir := t.TempDir()
	cfg, err := daemon.LoadConfig([]string{"--configfile", sampleConf, "--datadir", dir})
	if err != nil {
		t.Fatalf("daemon.LoadConfig(%s): %v", sampleConf, err)
	}
	def := daemon.DefaultConfig()
	def.DataDir, def.ConfigFile = dir, sampleConf
	if abs, err := filepath.Abs(dir); err == nil {
		def.DataDir = abs
	}
	if !reflect.DeepEqual(cfg, def) {
		t.Errorf("the sample, all commented out, loads as\n%+v\nwant the defaults\n%+v", cfg, def)
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
