// Package cli implements koshcli. Each IssuerService RPC becomes a
// subcommand named as lncli names its commands (the method name in lower
// case: "createasset", "mint", ...); the request's fields become flags of the
// same names; the response is printed as JSON with the proto field names.
package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Summaries are the one-line help of each command. A test checks that every
// IssuerService method has one.
var Summaries = map[string]string{
	"CreateAsset":         "define an asset (--code, --name, --decimals, --peg sat, --min_coverage_bps)",
	"ListAssets":          "list assets with their supply",
	"GetAsset":            "show one asset (--code)",
	"CreateAccount":       "open a holder account; prints its wallet macaroon (--label)",
	"ListAccounts":        "list accounts (--page_size, --page_token)",
	"GetAccount":          "show an account and its balances (--account_id)",
	"BakeWalletMacaroon":  "bake a new wallet macaroon for an account (--account_id)",
	"Mint":                "mint units to an account, if reserves back them (--asset, --account_id, --amount)",
	"Burn":                "burn units from an account (--asset, --account_id, --amount)",
	"Transfer":            "move units (--asset, --from_account_id, --to_account_id, --amount)",
	"GetSupply":           "show supply and the sums it must equal (--asset)",
	"ListJournal":         "page through the journal (--asset, --account_id, --after_seq, --limit)",
	"GetReserves":         "show the live reserve snapshot: every source, class, UTXO and channel",
	"Attest":              "publish a signed attestation now",
	"Anchor":              "anchor the newest attestation in bitcoin now (needs --anchor.lnd on koshd)",
	"ListFlaggedDeposits": "list on-chain deposits credited and then reorged out (act on them)",
	"GetPrices":           "show the oracle's price of each currency and every source's last quote",
	"SetManualPrice":      "override a currency's price by hand (--currency, --price, --valid_for_seconds, --clear, --reason)",
	"ExportControlProof":  "write the PSBT that proves control of watched outputs, to sign offline (--outpoints, repeatable; --all)",
	"ImportControlProof":  "import the signed proof PSBT (--psbts @file, repeatable for cosigners' copies)",
}

// Global options shared by every command.
type globals struct {
	rpcServer    string
	tlsCertPath  string
	macaroonPath string
	dataDir      string
	network      string
	timeout      time.Duration
}

func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".kosh"
	}
	return filepath.Join(home, ".kosh")
}

// Aliases are shorter names for common commands, as lncli has them.
var Aliases = map[string]string{
	"exportproof": "exportcontrolproof",
	"importproof": "importcontrolproof",
	"reserves":    "getreserves",
	"supply":      "getsupply",
	"prices":      "getprices",
}

// CommandName is the subcommand name of a method.
func CommandName(m protoreflect.MethodDescriptor) string {
	return strings.ToLower(string(m.Name()))
}

// Main runs koshcli with args (without the program name).
func Main(args []string, stdout, stderr io.Writer) error {
	svc := koshv1.File_kosh_v1_kosh_proto.Services().ByName("IssuerService")
	methods := map[string]protoreflect.MethodDescriptor{}
	for i := 0; i < svc.Methods().Len(); i++ {
		m := svc.Methods().Get(i)
		methods[CommandName(m)] = m
	}

	var g globals
	fs := flag.NewFlagSet("koshcli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&g.rpcServer, "rpcserver", "127.0.0.1:10019", "host:port of koshd's gRPC server")
	fs.StringVar(&g.dataDir, "datadir", defaultDataDir(), "koshd's data directory, for the default cert and macaroon paths")
	fs.StringVar(&g.network, "network", "regtest", "network, for the default macaroon path")
	fs.StringVar(&g.tlsCertPath, "tlscertpath", "", "koshd's TLS certificate (default <datadir>/tls.cert)")
	fs.StringVar(&g.macaroonPath, "macaroonpath", "", "macaroon to authenticate with (default <datadir>/<network>/admin.macaroon)")
	fs.DurationVar(&g.timeout, "timeout", 30*time.Second, "deadline of the call")
	fs.Usage = func() { usage(stderr, fs, methods) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() == 0 {
		usage(stderr, fs, methods)
		return errors.New("no command given")
	}
	name := fs.Arg(0)
	if full, ok := Aliases[name]; ok {
		name = full
	}
	m, ok := methods[name]
	if !ok {
		return fmt.Errorf("unknown command %q; run koshcli -h for the list", name)
	}
	if g.tlsCertPath == "" {
		g.tlsCertPath = filepath.Join(g.dataDir, "tls.cert")
	}
	if g.macaroonPath == "" {
		g.macaroonPath = filepath.Join(g.dataDir, g.network, "admin.macaroon")
	}
	req, err := parseRequest(m, fs.Args()[1:], stderr)
	if err != nil {
		return err
	}
	if req == nil {
		return nil // help was printed
	}
	resp, err := call(g, m, req)
	if err != nil {
		return err
	}
	out, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true, EmitUnpopulated: true}.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	fmt.Fprintln(stdout, string(out))
	return nil
}

func usage(w io.Writer, fs *flag.FlagSet, methods map[string]protoreflect.MethodDescriptor) {
	fmt.Fprintln(w, "usage: koshcli [global options] <command> [command options]")
	fmt.Fprintln(w, "\nglobal options:")
	fs.PrintDefaults()
	fmt.Fprintln(w, "\ncommands (koshcli <command> -h for its options):")
	names := make([]string, 0, len(methods))
	for n := range methods {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s %s\n", n, Summaries[string(methods[n].Name())])
	}
	aliases := make([]string, 0, len(Aliases))
	for a := range Aliases {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	fmt.Fprintln(w, "\naliases:")
	for _, a := range aliases {
		fmt.Fprintf(w, "  %-20s %s\n", a, Aliases[a])
	}
}

// parseRequest turns command flags into the method's request message. Each
// field of the request is a flag; values are handed to protojson, so they
// are checked exactly as the REST gateway checks them. A missing
// idempotency_key is generated (and echoed back in the response).
func parseRequest(m protoreflect.MethodDescriptor, args []string, stderr io.Writer) (proto.Message, error) {
	in := m.Input()
	fs := flag.NewFlagSet(CommandName(m), flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := map[string]*string{}
	lists := map[string]*listFlag{}
	fields := in.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if f.IsList() {
			lists[string(f.Name())] = &listFlag{}
			fs.Var(lists[string(f.Name())], string(f.Name()), "repeatable "+f.Kind().String()+"; @path reads a value from a file")
			continue
		}
		help := string(f.Kind().String())
		if f.Kind() == protoreflect.EnumKind {
			var names []string
			for j := 1; j < f.Enum().Values().Len(); j++ {
				names = append(names, strings.ToLower(shortEnum(f.Enum(), f.Enum().Values().Get(j))))
			}
			help = "one of: " + strings.Join(names, ", ")
		}
		values[string(f.Name())] = fs.String(string(f.Name()), "", help)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: koshcli %s [options]\n  %s\n\noptions:\n", CommandName(m), Summaries[string(m.Name())])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: options are given as --name value", fs.Arg(0))
	}
	obj := map[string]any{}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		name := string(f.Name())
		if !set[name] {
			continue
		}
		if l, ok := lists[name]; ok {
			vals := make([]string, len(*l))
			for i, v := range *l {
				var err error
				if vals[i], err = fromFile(v); err != nil {
					return nil, err
				}
			}
			obj[name] = vals
			continue
		}
		v, err := fromFile(*values[name])
		if err != nil {
			return nil, err
		}
		switch f.Kind() {
		case protoreflect.BoolKind:
			obj[name] = v == "true" || v == "1"
		case protoreflect.EnumKind:
			obj[name] = enumValue(f.Enum(), v)
		default:
			obj[name] = v
		}
	}
	if fields.ByName("idempotency_key") != nil && !set["idempotency_key"] {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		obj["idempotency_key"] = "koshcli-" + hex.EncodeToString(b[:])
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	req := dynamicpb.NewMessage(in)
	if err := protojson.Unmarshal(raw, req); err != nil {
		return nil, fmt.Errorf("bad option value: %w", err)
	}
	return req, nil
}

// listFlag collects the values of a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// fromFile returns v, or the trimmed content of the file v names after an
// "@" (a PSBT is too long for a command line).
func fromFile(v string) (string, error) {
	path, ok := strings.CutPrefix(v, "@")
	if !ok {
		return v, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// shortEnum strips the enum's type prefix: PEG_SAT -> SAT.
func shortEnum(e protoreflect.EnumDescriptor, v protoreflect.EnumValueDescriptor) string {
	prefix := strings.TrimSuffix(string(e.Values().Get(0).Name()), "UNSPECIFIED")
	return strings.TrimPrefix(string(v.Name()), prefix)
}

// enumValue accepts "sat", "SAT" or "PEG_SAT".
func enumValue(e protoreflect.EnumDescriptor, v string) string {
	up := strings.ToUpper(v)
	for j := 0; j < e.Values().Len(); j++ {
		ev := e.Values().Get(j)
		if string(ev.Name()) == up || shortEnum(e, ev) == up {
			return string(ev.Name())
		}
	}
	return v // protojson reports the bad value
}

func call(g globals, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
	creds, err := credentials.NewClientTLSFromFile(g.tlsCertPath, "")
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s: %w", g.tlsCertPath, err)
	}
	mac, err := os.ReadFile(g.macaroonPath)
	if err != nil {
		return nil, fmt.Errorf("read macaroon: %w", err)
	}
	conn, err := grpc.NewClient(g.rpcServer, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", g.rpcServer, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "macaroon", hex.EncodeToString(mac))
	resp := dynamicpb.NewMessage(m.Output())
	full := fmt.Sprintf("/%s/%s", m.Parent().FullName(), m.Name())
	if err := conn.Invoke(ctx, full, req, resp); err != nil {
		if st, ok := status.FromError(err); ok {
			return nil, fmt.Errorf("[%s] %s", st.Code(), st.Message())
		}
		return nil, err
	}
	return resp, nil
}
