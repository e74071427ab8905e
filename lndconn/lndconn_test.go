package lndconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"gopkg.in/macaroon.v2"
)

const example = "name=alice,host=h:1,tlscert=c,macaroon=m"

// TestParseNode: a node value needs name, host, tlscert and macaroon; it
// refuses what kvopt refuses, naming the option and showing the example;
// the extra keys are the caller's to read.
func TestParseNode(t *testing.T) {
	n, f, err := ParseNode("--lnd.node", "name=alice, host=127.0.0.1:10009,tlscert=/t,macaroon=/m,signmacaroon=/s", example,
		"signmacaroon", "proofmacaroon")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Node{Name: "alice", Host: "127.0.0.1:10009", TLSCertPath: "/t", MacaroonPath: "/m"}); n != want {
		t.Fatalf("node %+v, want %+v", n, want)
	}
	if f.String("signmacaroon") != "/s" || f.Has("proofmacaroon") {
		t.Fatalf("extra keys: signmacaroon %q, proofmacaroon given %v", f.String("signmacaroon"), f.Has("proofmacaroon"))
	}
	for _, tc := range []struct{ spec, want string }{
		{"name=alice,host", `--lnd.node "name=alice,host": "host" is not key=value`},
		{"name=alice,port=1", `unknown key "port" (want name, host, tlscert, macaroon, signmacaroon, proofmacaroon)`},
		{"name=a,name=b,host=h,tlscert=c,macaroon=m", "name is given twice"},
		{"name=alice,host=h:1", "needs name, host, tlscert and macaroon, e.g. " + example},
		{"name=,host=h:1,tlscert=c,macaroon=m", "needs name, host, tlscert and macaroon"},
		{"", `"" is not key=value`},
	} {
		_, _, err := ParseNode("--lnd.node", tc.spec, example, "signmacaroon", "proofmacaroon")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "--lnd.node ") {
			t.Errorf("ParseNode(%q): %v, want an error naming --lnd.node and containing %q", tc.spec, err, tc.want)
		}
	}
	// A key another option knows is refused without it.
	if _, _, err := ParseNode("--payments.lnd", "name=a,host=h,tlscert=c,macaroon=m,signmacaroon=s", example); err == nil ||
		!strings.Contains(err.Error(), `--payments.lnd "name=a,host=h,tlscert=c,macaroon=m,signmacaroon=s": unknown key "signmacaroon"`) {
		t.Errorf("signmacaroon without it as extra: %v", err)
	}
}

// TestMacaroonMetadata: the macaroon is sent hex-encoded under "macaroon",
// replaced by one WithMacaroon put in the call's context; there is none to
// send without one, and never without TLS.
func TestMacaroonMetadata(t *testing.T) {
	conn, sign := NewMacaroon([]byte{2, 1, 3}), NewMacaroon([]byte{2, 1, 4})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mac  Macaroon
		ctx  context.Context
		want string
	}{
		{"connection's", conn, ctx, "020103"},
		{"replaced", conn, WithMacaroon(ctx, sign), "020104"},
		{"replaced by none", conn, WithMacaroon(ctx, Macaroon{}), "020103"},
		{"only the call's", Macaroon{}, WithMacaroon(ctx, sign), "020104"},
	} {
		md, err := tc.mac.GetRequestMetadata(tc.ctx, "https://lnd/lnrpc.Lightning")
		if err != nil || len(md) != 1 || md["macaroon"] != tc.want {
			t.Errorf("%s: metadata %v, %v; want macaroon=%s only", tc.name, md, err, tc.want)
		}
	}
	if md, err := (Macaroon{}).GetRequestMetadata(ctx); err == nil {
		t.Errorf("no macaroon: metadata %v, want an error", md)
	}
	if !conn.RequireTransportSecurity() {
		t.Error("a macaroon may be sent without TLS")
	}
	raw := []byte{1, 2}
	m := NewMacaroon(raw)
	raw[0] = 9
	if b := m.Bytes(); b[0] != 1 || m.IsZero() || !(Macaroon{}).IsZero() {
		t.Errorf("NewMacaroon does not keep its own copy, or IsZero is wrong: %v", b)
	}
}

// TestReadMacaroon: a missing or empty file is refused, naming it.
func TestReadMacaroon(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadMacaroon(filepath.Join(dir, "missing.macaroon")); err == nil || !strings.Contains(err.Error(), "missing.macaroon") {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty.macaroon")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMacaroon(empty); err == nil || !strings.Contains(err.Error(), "empty.macaroon is empty") {
		t.Errorf("empty file: %v", err)
	}
	full := filepath.Join(dir, "admin.macaroon")
	if err := os.WriteFile(full, []byte{2, 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err := ReadMacaroon(full); err != nil || hex.EncodeToString(m.Bytes()) != "0201" {
		t.Errorf("ReadMacaroon: %x, %v", m.Bytes(), err)
	}
}

// bake returns a macaroon in lnd's format whose identifier has version
// version and grants ops ("entity:action").
func bake(t *testing.T, version byte, ops ...string) Macaroon {
	t.Helper()
	id := &lnrpc.MacaroonId{Nonce: []byte("nonce"), StorageId: []byte("0")}
	for _, op := range ops {
		e, a, _ := strings.Cut(op, ":")
		id.Ops = append(id.Ops, &lnrpc.Op{Entity: e, Actions: []string{a}})
	}
	raw, err := proto.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := macaroon.New([]byte("root key"), append([]byte{version}, raw...), "lnd", macaroon.V2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return NewMacaroon(b)
}

// TestPermissions: the permissions are read from lnd's identifier; what is
// not an lnd macaroon is refused as such.
func TestPermissions(t *testing.T) {
	ops, err := bake(t, 3, "info:read", "offchain:write", "uri:/lnrpc.Lightning/GetInfo").Permissions()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 3 || !ops["info:read"] || !ops["offchain:write"] || !ops["uri:/lnrpc.Lightning/GetInfo"] {
		t.Fatalf("permissions %v", ops)
	}
	if _, err := NewMacaroon([]byte("not a macaroon")).Permissions(); err == nil || !strings.Contains(err.Error(), "not a macaroon") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := bake(t, 2, "info:read").Permissions(); err == nil || !strings.Contains(err.Error(), "not an lnd macaroon") {
		t.Errorf("another bakery version: %v", err)
	}
}

// TestDialBadCert: a missing or unreadable certificate is refused at Dial,
// naming the file.
func TestDialBadCert(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "tls.cert")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	mac := NewMacaroon([]byte{2})
	for _, path := range []string{filepath.Join(dir, "missing.cert"), notPEM} {
		c, err := Dial(Node{Name: "alice", Host: "127.0.0.1:1", TLSCertPath: path}, mac, 0)
		if err == nil {
			c.Close()
			t.Fatalf("Dial with certificate %s succeeded", path)
		}
		if !strings.Contains(err.Error(), "load tls cert "+path) {
			t.Errorf("Dial with certificate %s: %q does not name it", path, err)
		}
	}
	if _, err := Dial(Node{Host: "127.0.0.1:1", TLSCertPath: notPEM}, Macaroon{}, 0); err == nil {
		t.Error("Dial without a macaroon succeeded")
	}
}

// recorder is an lnd that answers GetInfo and records the macaroons each
// call carried.
type recorder struct {
	lnrpc.UnimplementedLightningServer
	mu   sync.Mutex
	seen [][]string
}

func (r *recorder) GetInfo(ctx context.Context, _ *lnrpc.GetInfoRequest) (*lnrpc.GetInfoResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	r.seen = append(r.seen, md.Get("macaroon"))
	r.mu.Unlock()
	return &lnrpc.GetInfoResponse{Alias: "fake"}, nil
}

// TestDialSendsMacaroon: through a real TLS connection, every call carries
// exactly one macaroon: the connection's, or the one WithMacaroon names.
func TestDialSendsMacaroon(t *testing.T) {
	certPath, cert := selfSigned(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	rec := &recorder{}
	lnrpc.RegisterLightningServer(srv, rec)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	c, err := Dial(Node{Name: "alice", Host: lis.Addr().String(), TLSCertPath: certPath}, NewMacaroon([]byte{2, 1, 3}), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Lightning.GetInfo(ctx, &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lightning.GetInfo(WithMacaroon(ctx, NewMacaroon([]byte{2, 1, 4})), &lnrpc.GetInfoRequest{}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) != 2 || len(rec.seen[0]) != 1 || rec.seen[0][0] != "020103" || len(rec.seen[1]) != 1 || rec.seen[1][0] != "020104" {
		t.Fatalf("lnd saw macaroons %v, want [[020103] [020104]]", rec.seen)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1, as lnd's
// tls.cert, and returns its path and the server's key pair.
func selfSigned(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tls.cert")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
