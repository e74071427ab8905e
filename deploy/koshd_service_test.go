// Package deploy_test checks the files shipped in deploy/ against koshd
// itself: the systemd unit's command line must be one koshd accepts, and its
// stop timeout must leave koshd the time its graceful shutdown may take.
package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	flags "github.com/jessevdk/go-flags"
	"github.com/kosh-reserve/kosh/daemon"
)

const unitFile = "koshd.service"

// unit is a parsed systemd unit: section -> key -> values, in order (a key
// may repeat, as ReadWritePaths may).
type unit map[string]map[string][]string

// parseUnit reads a systemd unit file: [Section] headers, Key=Value lines,
// '#' and ';' comments, and lines continued with a trailing backslash.
func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	var cont string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cont != "" {
			line = cont + " " + line
			cont = ""
		}
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`)
			continue
		}
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a Key=Value line in a section: %q", path, n, line)
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// one returns the single value of section.key, failing if it is missing or
// repeated.
func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	vs := u[section][key]
	if len(vs) != 1 {
		t.Fatalf("[%s] %s is set %d times, want once", section, key, len(vs))
	}
	return vs[0]
}

// splitExec splits a command line the way systemd does for the simple cases
// a unit should use: words separated by spaces, "double" or 'single' quoted
// words. A leading prefix such as '-' or '@' is refused: the unit has none.
func splitExec(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == '\\':
			return nil, fmt.Errorf("backslash escapes are not supported: %q", s)
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// systemdDuration parses a systemd time span: a bare number of seconds, or
// units such as "30s", "1min 30s", "2m", "500ms".
func systemdDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	norm := strings.ReplaceAll(s, " ", "")
	norm = regexp.MustCompile(`(\d)min`).ReplaceAllString(norm, "${1}m")
	norm = regexp.MustCompile(`(\d)sec`).ReplaceAllString(norm, "${1}s")
	d, err := time.ParseDuration(norm)
	if err != nil {
		return 0, fmt.Errorf("time span %q: %w", s, err)
	}
	return d, nil
}

// execStartConfig parses the unit's ExecStart arguments with koshd's own
// flag parser (the one daemon.LoadConfig uses, over the same Config), on top
// of koshd's defaults, and returns the binary and the resulting Config.
func execStartConfig(t *testing.T, u unit) (string, []string, daemon.Config) {
	t.Helper()
	words, err := splitExec(u.one(t, "Service", "ExecStart"))
	if err != nil {
		t.Fatal(err)
	}
	if len(words) == 0 {
		t.Fatal("ExecStart is empty")
	}
	bin, args := words[0], words[1:]
	cfg := daemon.DefaultConfig()
	rest, err := flags.NewParser(&cfg, flags.HelpFlag|flags.PassDoubleDash).ParseArgs(args)
	if err != nil {
		t.Fatalf("koshd refuses ExecStart's arguments %q: %v", args, err)
	}
	if len(rest) != 0 {
		t.Fatalf("ExecStart passes koshd positional arguments it ignores: %q", rest)
	}
	return bin, args, cfg
}

// TestUnitFlagsAreKoshdFlags: every flag the unit passes koshd is one koshd
// has and accepts with that value (an unknown or misspelt flag makes koshd
// exit at start, which systemd would only show as a restart loop).
func TestUnitFlagsAreKoshdFlags(t *testing.T) {
	u := parseUnit(t, unitFile)
	bin, args, cfg := execStartConfig(t, u)
	if filepath.Base(bin) != "koshd" || !filepath.IsAbs(bin) {
		t.Errorf("ExecStart runs %q, want an absolute path to koshd", bin)
	}
	if len(args) == 0 {
		t.Error("ExecStart passes no flags: koshd would use ~/.kosh of the service user")
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "--") || !strings.Contains(a, "=") {
			t.Errorf("ExecStart argument %q: write flags as --name=value", a)
		}
	}
	// koshd does not expand '~' and the service has no useful working
	// directory: every path must be absolute.
	for name, p := range map[string]string{"--datadir": cfg.DataDir, "--configfile": cfg.ConfigFile} {
		if p != "" && !filepath.IsAbs(p) {
			t.Errorf("%s=%s is not an absolute path", name, p)
		}
	}
	// The data directory is where koshd writes (keys, macaroons, database,
	// attestations): under ProtectSystem=strict it must be writable.
	writable := false
	for _, v := range u["Service"]["ReadWritePaths"] {
		for _, p := range strings.Fields(v) {
			p = strings.TrimLeft(p, "-+")
			if rel, err := filepath.Rel(p, cfg.DataDir); err == nil && !strings.HasPrefix(rel, "..") {
				writable = true
			}
		}
	}
	if !writable {
		t.Errorf("--datadir=%s is not under ReadWritePaths %q", cfg.DataDir, u["Service"]["ReadWritePaths"])
	}
}

// TestUnitFlagCheckCatchesTypos proves the check above can fail: the
// parser refuses a flag koshd does not have, and one with a bad value.
func TestUnitFlagCheckCatchesTypos(t *testing.T) {
	for _, args := range [][]string{
		{"--datadri=/var/lib/kosh"},
		{"--shutdowntimeout=soon"},
		{"--network=moonnet"},
	} {
		cfg := daemon.DefaultConfig()
		if _, err := flags.NewParser(&cfg, flags.HelpFlag|flags.PassDoubleDash).ParseArgs(args); err == nil {
			t.Errorf("koshd's parser accepts %q", args)
		}
	}
}

// TestUnitHardening: the unit runs koshd as its own user, with the system
// read-only and no way to gain privileges.
func TestUnitHardening(t *testing.T) {
	u := parseUnit(t, unitFile)
	for key, want := range map[string]string{
		"ProtectSystem":   "strict",
		"NoNewPrivileges": "yes",
		"PrivateTmp":      "yes",
	} {
		if got := u.one(t, "Service", key); got != want {
			t.Errorf("%s=%s, want %s", key, got, want)
		}
	}
	for _, key := range []string{"User", "Group"} {
		if got := u.one(t, "Service", key); got == "" || got == "root" || got == "0" {
			t.Errorf("%s=%q: run koshd as a dedicated user", key, got)
		}
	}
}

// TestUnitStopTimeout: systemd's TimeoutStopSec (after which it sends
// SIGKILL) is above the shutdowntimeout koshd runs with, so that the
// graceful shutdown is never cut short. The sample koshd.conf quotes the
// unit's value; it must match.
func TestUnitStopTimeout(t *testing.T) {
	u := parseUnit(t, unitFile)
	_, _, cfg := execStartConfig(t, u)
	stop, err := systemdDuration(u.one(t, "Service", "TimeoutStopSec"))
	if err != nil {
		t.Fatal(err)
	}
	def := daemon.DefaultConfig().ShutdownTimeout
	if def <= 0 {
		t.Fatalf("koshd's default shutdowntimeout is %v", def)
	}
	// cfg holds the default unless ExecStart overrides it.
	for _, st := range []time.Duration{def, cfg.ShutdownTimeout} {
		if stop <= st {
			t.Errorf("TimeoutStopSec=%v is not above koshd's shutdowntimeout %v", stop, st)
		}
	}

	conf, err := os.ReadFile("koshd.conf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`systemd unit uses TimeoutStopSec=([0-9a-z]+)`).FindSubmatch(conf)
	if m == nil {
		t.Fatal("koshd.conf no longer quotes the unit's TimeoutStopSec; update this test")
	}
	quoted, err := systemdDuration(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if quoted != stop {
		t.Errorf("koshd.conf says the unit uses TimeoutStopSec=%s; the unit has %v", m[1], stop)
	}
}

func TestSystemdDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30":       30 * time.Second,
		"30s":      30 * time.Second,
		"1min 30s": 90 * time.Second,
		"2min":     2 * time.Minute,
		"500ms":    500 * time.Millisecond,
	} {
		got, err := systemdDuration(in)
		if err != nil || got != want {
			t.Errorf("systemdDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
