package lightning

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseNode: an --lnd.node value gives the node and its optional
// signing and proof macaroons; lndconn's refusals name --lnd.node.
func TestParseNode(t *testing.T) {
	c, err := ParseNode("name=alice,host=127.0.0.1:10009,tlscert=/t,macaroon=/r,signmacaroon=/s,proofmacaroon=/p")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Name: "alice", Host: "127.0.0.1:10009", TLSCertPath: "/t", MacaroonPath: "/r",
		SignMacaroonPath: "/s", ProofMacaroonPath: "/p"}
	if c.Name != want.Name || c.Host != want.Host || c.TLSCertPath != want.TLSCertPath || c.MacaroonPath != want.MacaroonPath ||
		c.SignMacaroonPath != want.SignMacaroonPath || c.ProofMacaroonPath != want.ProofMacaroonPath {
		t.Fatalf("config %+v, want %+v", c, want)
	}
	for _, tc := range []struct{ spec, want string }{
		{"name=alice,host=h", "needs name, host, tlscert and macaroon, e.g. name=alice,host=127.0.0.1:10009,tlscert="},
		{"name=alice,host=h,tlscert=t,macaroon=m,admin=x", `unknown key "admin" (want name, host, tlscert, macaroon, signmacaroon, proofmacaroon)`},
		{"name=alice,host=h,tlscert=t,macaroon=m,macaroon=n", "macaroon is given twice"},
	} {
		if _, err := ParseNode(tc.spec); err == nil || !strings.HasPrefix(err.Error(), "--lnd.node ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseNode(%q): %v, want an error naming --lnd.node and containing %q", tc.spec, err, tc.want)
		}
	}
}

// TestDialNamesTheNode: a macaroon or certificate Dial cannot read is
// refused naming the node and what was wrong.
func TestDialNamesTheNode(t *testing.T) {
	dir := t.TempDir()
	mac := filepath.Join(dir, "readonly.macaroon")
	if err := os.WriteFile(mac, []byte{2, 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Name: "alice", Host: "h:1", TLSCertPath: missing, MacaroonPath: missing}, "lnd alice: read macaroon"},
		{Config{Name: "alice", Host: "h:1", TLSCertPath: missing, MacaroonPath: mac, SignMacaroonPath: missing}, "lnd alice: signmacaroon: read macaroon"},
		{Config{Name: "alice", Host: "h:1", TLSCertPath: missing, MacaroonPath: mac, ProofMacaroonPath: missing}, "lnd alice: proofmacaroon: read macaroon"},
		{Config{Name: "alice", Host: "h:1", TLSCertPath: missing, MacaroonPath: mac}, "lnd alice: load tls cert " + missing},
	} {
		src, err := Dial(tc.cfg, nil)
		if err == nil {
			src.Close()
			t.Fatalf("Dial(%+v) succeeded", tc.cfg)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Dial(%+v): %q, want %q", tc.cfg, err, tc.want)
		}
	}
}
