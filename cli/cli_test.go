package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/cli"
	"github.com/kosh-reserve/kosh/daemon"
	"github.com/kosh-reserve/kosh/store"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// issuerMethods walks IssuerService in the compiled descriptors.
func issuerMethods(t *testing.T) []protoreflect.MethodDescriptor {
	t.Helper()
	svc := koshv1.File_kosh_v1_kosh_proto.Services().ByName("IssuerService")
	if svc == nil {
		t.Fatal("kosh.v1.IssuerService is not in the descriptors")
	}
	var out []protoreflect.MethodDescriptor
	for i := 0; i < svc.Methods().Len(); i++ {
		out = append(out, svc.Methods().Get(i))
	}
	if len(out) < 10 {
		t.Fatalf("IssuerService has only %d methods; the walk is broken", len(out))
	}
	return out
}

// run calls cli.Main and returns stdout, stderr and the error.
func run(args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	err := cli.Main(args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// TestEveryMethodHasCommand proves every IssuerService RPC is a koshcli
// subcommand with a one-line summary, shown in both the command list and the
// subcommand's own help, with a flag for every request field; and that no
// summary names an RPC that does not exist.
func TestEveryMethodHasCommand(t *testing.T) {
	methods := issuerMethods(t)
	_, list, err := run("-h")
	if err != nil {
		t.Fatalf("koshcli -h: %v", err)
	}
	names := map[string]bool{}
	for _, m := range methods {
		name := string(m.Name())
		names[name] = true
		sum := cli.Summaries[name]
		switch {
		case strings.TrimSpace(sum) == "":
			t.Errorf("%s has no summary in cli.Summaries", name)
			continue
		case strings.ContainsAny(sum, "\r\n"):
			t.Errorf("%s: summary %q is not one line", name, sum)
		}
		cmd := cli.CommandName(m)
		if !strings.Contains(list, cmd) || !strings.Contains(list, sum) {
			t.Errorf("koshcli -h does not list %s with its summary %q", cmd, sum)
		}
		_, help, err := run(cmd, "-h")
		if err != nil {
			t.Errorf("koshcli %s -h: %v", cmd, err)
			continue
		}
		if !strings.Contains(help, "usage: koshcli "+cmd) || !strings.Contains(help, sum) {
			t.Errorf("koshcli %s -h prints no usage with the summary:\n%s", cmd, help)
		}
		fields := m.Input().Fields()
		for j := 0; j < fields.Len(); j++ {
			if f := string(fields.Get(j).Name()); !strings.Contains(help, "-"+f) {
				t.Errorf("koshcli %s has no --%s flag for request field %s", cmd, f, f)
			}
		}
	}
	for name := range cli.Summaries {
		if !names[name] {
			t.Errorf("cli.Summaries has a stale entry %s: no such IssuerService method", name)
		}
	}
	if got := cli.Summaries["GetReserves"]; !strings.Contains(got, "show the live reserve snapshot") {
		t.Errorf("GetReserves summary %q does not say it shows the live reserve snapshot", got)
	}
	if _, _, err := run("nosuchcommand"); err == nil || !strings.Contains(err.Error(), `unknown command "nosuchcommand"`) {
		t.Errorf("unknown command: got %v", err)
	}
}

// TestGlobalFlags proves the lncli-style connection flags exist.
func TestGlobalFlags(t *testing.T) {
	_, help, err := run("-h")
	if err != nil {
		t.Fatalf("koshcli -h: %v", err)
	}
	for _, f := range []string{"-macaroonpath", "-tlscertpath", "-rpcserver"} {
		if !strings.Contains(help, f) {
			t.Errorf("koshcli -h lists no %s flag:\n%s", f, help)
		}
	}
	// The flags are really parsed: a certificate path that does not exist
	// is the error, before any dialing.
	_, _, err = run("--rpcserver", "127.0.0.1:1", "--tlscertpath", "/nonexistent/tls.cert",
		"--macaroonpath", "/nonexistent/admin.macaroon", "listassets")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/tls.cert") {
		t.Errorf("--tlscertpath not honoured: got %v", err)
	}
}

// TestEndToEnd starts a real koshd in-process and drives it with koshcli
// subcommands, checking their JSON output: create an asset and two
// accounts, list them, see mint refused for lack of reserves, read the
// supply.
func TestEndToEnd(t *testing.T) {
	cfg := daemon.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.RPCListen = "127.0.0.1:0"
	cfg.RESTListen = "127.0.0.1:0"
	cfg.DB.Backend = string(store.SQLite)
	d, err := daemon.Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start koshd: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("stop koshd: %v", err)
		}
	})
	dc := d.Config()
	global := []string{"--rpcserver", d.RPCAddr(), "--tlscertpath", dc.TLSCertPath(),
		"--macaroonpath", dc.MacaroonPath("admin"), "--timeout", "30s"}
	koshcli := func(args ...string) (map[string]any, error) {
		t.Helper()
		out, _, err := run(append(append([]string{}, global...), args...)...)
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(out), &obj); err != nil {
			t.Fatalf("koshcli %s: output is not a JSON object: %v\n%s", args[0], err, out)
		}
		return obj, nil
	}
	must := func(args ...string) map[string]any {
		t.Helper()
		obj, err := koshcli(args...)
		if err != nil {
			t.Fatalf("koshcli %s: %v", strings.Join(args, " "), err)
		}
		return obj
	}

	asset := must("createasset", "--code", "KSH", "--name", "Kosh test token", "--decimals", "2", "--peg", "sat")
	a, _ := asset["asset"].(map[string]any)
	if a["code"] != "KSH" || a["name"] != "Kosh test token" || a["decimals"] != float64(2) || a["peg"] != "PEG_SAT" {
		t.Errorf("createasset output: %v", asset)
	}

	var ids []string
	for _, label := range []string{"alice", "bob"} {
		resp := must("createaccount", "--label", label)
		acct, _ := resp["account"].(map[string]any)
		id, _ := acct["id"].(string)
		if len(id) != 36 || acct["label"] != label {
			t.Errorf("createaccount %s output: %v", label, resp)
		}
		if mac, _ := resp["wallet_macaroon"].(string); len(mac) < 32 {
			t.Errorf("createaccount %s printed no wallet macaroon: %v", label, resp)
		}
		ids = append(ids, id)
	}

	list := must("listaccounts", "--page_size", "10")
	accts, _ := list["accounts"].([]any)
	if len(accts) != 2 {
		t.Fatalf("listaccounts: got %d accounts, want 2: %v", len(accts), list)
	}
	for i, x := range accts {
		if m, _ := x.(map[string]any); m["id"] != ids[i] {
			t.Errorf("listaccounts[%d] = %v, want id %s", i, x, ids[i])
		}
	}

	_, err = koshcli("mint", "--asset", "KSH", "--account_id", ids[0], "--amount", "1000")
	if err == nil {
		t.Fatal("mint with no reserve source succeeded")
	}
	for _, want := range []string{"FailedPrecondition", "no reserve source is configured"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("mint refusal %q does not contain %q", err, want)
		}
	}

	sup := must("getsupply", "--asset", "KSH")
	// int64 fields are JSON strings in protojson.
	if sup["asset"] != "KSH" || sup["supply"] != "0" || sup["journal_total"] != "0" || sup["consistent"] != true {
		t.Errorf("getsupply after the refused mint: %v", sup)
	}

	// Aliases reach the same RPC.
	if short := must("supply", "--asset", "KSH"); short["asset"] != "KSH" || short["supply"] != "0" {
		t.Errorf("koshcli supply (alias of getsupply): %v", short)
	}
	if snap, _ := must("reserves")["snapshot"].(map[string]any); snap == nil || snap["usable"] != false ||
		!strings.Contains(fmt.Sprint(snap["problem"]), "no reserve source is configured") {
		t.Errorf("koshcli reserves (alias of getreserves) with no source: %v", snap)
	}

	// A bad flag value is refused before anything is sent.
	if _, err := koshcli("mint", "--asset", "KSH", "--account_id", ids[0], "--amount", "ten"); err == nil ||
		!strings.Contains(err.Error(), "bad option value") {
		t.Errorf("mint --amount ten: got %v", err)
	}
	// The readonly macaroon cannot create accounts.
	ro := append(append([]string{}, global...), "--macaroonpath", dc.MacaroonPath("readonly"), "createaccount", "--label", "eve")
	if _, _, err := run(ro...); err == nil || !strings.Contains(err.Error(), "PermissionDenied") {
		t.Errorf("createaccount with the readonly macaroon: got %v", err)
	}
}
