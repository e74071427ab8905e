package itest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"github.com/kosh-reserve/kosh/itest/harness/proc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// faultEnv is cmd/koshd's KOSH_FAULT_POINT (fault_on.go): a koshd built
// with -tags kosh_faults SIGKILLs itself at that payments crash point.
const faultEnv = "KOSH_FAULT_POINT"

var (
	buildMu   sync.Mutex
	buildDone = map[string]error{}
)

// buildOnce builds a command of this module once per test binary into the
// repository's .build directory (beside btcd and lnd; rebuilt
// incrementally, never shipped) and returns its path.
func buildOnce(t testing.TB, name, pkg string, tags ...string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".build"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	buildMu.Lock()
	defer buildMu.Unlock()
	err, done := buildDone[name]
	if !done {
		args := []string{"build", "-o", bin}
		if len(tags) > 0 {
			args = append(args, "-tags", strings.Join(tags, ","))
		}
		if err = os.MkdirAll(dir, 0o755); err == nil {
			if out, berr := exec.Command("go", append(args, pkg)...).CombinedOutput(); berr != nil {
				err = fmt.Errorf("go %s: %v\n%s", strings.Join(append(args, pkg), " "), berr, out)
			}
		}
		buildDone[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// faultKoshd is koshd built with the kosh_faults tag.
func faultKoshd(t testing.TB) string {
	return buildOnce(t, "koshd-faults", "github.com/kosh-reserve/kosh/cmd/koshd", "kosh_faults")
}

// koshProc is koshd running as a child process, so that it can be killed
// with SIGKILL; it keeps its data directory and ports across restarts.
type koshProc struct {
	t                 testing.TB
	bin               string
	args              []string
	dir               string
	rpcAddr, restAddr string
	logPath           string

	cmd    *exec.Cmd
	done   chan struct{}
	state  *os.ProcessState
	conn   *grpc.ClientConn
	http   *http.Client
	issuer koshv1.IssuerServiceClient
	admin  string
}

func newKoshProc(t testing.TB, args []string) *koshProc {
	t.Helper()
	// Ports from the harness's ledger, which never hands one out twice:
	// two pickers each listening on :0 can be given the same port, and
	// the second koshd to bind it exits while starting.
	addrs, err := proc.FreeAddrs(2)
	if err != nil {
		t.Fatal(err)
	}
	p := &koshProc{t: t, bin: faultKoshd(t), dir: t.TempDir(), rpcAddr: addrs[0], restAddr: addrs[1]}
	p.logPath = filepath.Join(p.dir, "koshd.log")
	p.args = append([]string{"--datadir=" + p.dir, "--network=regtest", "--rpclisten=" + p.rpcAddr,
		"--restlisten=" + p.restAddr, "--debuglevel=info", "--shutdowntimeout=5s"}, args...)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("koshd log %s (tail):\n%s", p.logPath, tail(p.logPath, 6000))
		}
	})
	return p
}

// lastLine is the last non-empty line of s: a koshd that exits prints why
// there, and a failure message that starts with it reads whole in a
// filtered log.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// start runs koshd with extra environment variables and waits until its
// gRPC API answers.
func (p *koshProc) start(env ...string) {
	p.t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(logf, "=== start %s env %v\n", time.Now().Format(time.RFC3339Nano), env)
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		logf.Close()
		close(done)
	}(p.cmd, p.done)

	deadline := time.Now().Add(60 * time.Second)
	for {
		err := p.connect()
		if err == nil {
			return
		}
		select {
		case <-p.done:
			logTail := tail(p.logPath, 4000)
			p.t.Fatalf("koshd exited while starting (%v): %s\nlog tail:\n%s", p.state, lastLine(logTail), logTail)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("koshd not ready after 60 s: %v\n%s", err, tail(p.logPath, 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// connect dials koshd with its TLS certificate and admin macaroon and
// checks that it answers.
func (p *koshProc) connect() error {
	pemBytes, err := os.ReadFile(filepath.Join(p.dir, "tls.cert"))
	if err != nil {
		return err
	}
	mac, err := os.ReadFile(filepath.Join(p.dir, "admin.macaroon"))
	if err != nil {
		mac, err = findMacaroon(p.dir, "admin.macaroon")
		if err != nil {
			return err
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return errors.New("bad tls.cert")
	}
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	conn, err := grpc.NewClient(p.rpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	if err != nil {
		return err
	}
	p.admin = hex.EncodeToString(mac)
	issuer := koshv1.NewIssuerServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := issuer.ListAssets(metadata.AppendToOutgoingContext(ctx, "macaroon", p.admin), &koshv1.ListAssetsRequest{}); err != nil {
		conn.Close()
		return err
	}
	if p.conn != nil {
		p.conn.Close()
	}
	p.conn, p.issuer = conn, issuer
	p.http = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	return nil
}

func findMacaroon(dir, name string) ([]byte, error) {
	var found string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == name {
			found = path
		}
		return nil
	})
	if found == "" {
		return nil, fmt.Errorf("no %s under %s yet", name, dir)
	}
	return os.ReadFile(found)
}

// waitKilled waits for koshd to die by SIGKILL (a crash point's hook).
func (p *koshProc) waitKilled(timeout time.Duration) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("koshd did not reach its crash point within %s:\n%s", timeout, tail(p.logPath, 4000))
	}
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		p.t.Fatalf("koshd exited with %v, want killed by SIGKILL", p.state)
	}
	p.cmd = nil
}

// stop stops koshd with SIGTERM (graceful), if it runs.
func (p *koshProc) stop() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.cmd = nil
}

func (p *koshProc) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	p.t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(c, "macaroon", p.admin)
}

// restError is a non-2xx REST answer.
type restError struct {
	Status int
	Body   string
}

func (e *restError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// rest calls the REST gateway with a macaroon (hex, in the
// Grpc-Metadata-macaroon header, as lnd's REST API takes it), sending req
// as JSON (nil: no body) and decoding the answer into resp.
func (p *koshProc) rest(method, path, macaroon string, req, resp proto.Message) error {
	var body io.Reader
	if req != nil {
		b, err := protojson.Marshal(req)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequest(method, "https://"+p.restAddr+path, body)
	if err != nil {
		return err
	}
	hr.Header.Set("Grpc-Metadata-macaroon", macaroon)
	if req != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	res, err := p.http.Do(hr)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return &restError{Status: res.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if resp == nil {
		return nil
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, resp)
}

// metric reads one unlabelled sample from /metrics.
func (p *koshProc) metric(name string) (string, error) {
	res, err := p.http.Get("https://" + p.restAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("metric %s not on /metrics", name)
}

// TestShippedKoshdHasNoFaultHook builds koshd as shipped (no build tag) and
// checks that the crash hook is not in it: neither its environment
// variable nor its message.
func TestShippedKoshdHasNoFaultHook(t *testing.T) {
	b, err := os.ReadFile(buildOnce(t, "koshd-shipped", "github.com/kosh-reserve/kosh/cmd/koshd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{faultEnv, "crash point %s reached"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the shipped koshd contains %q: the fault hook leaked out of the kosh_faults build", s)
		}
	}
	tagged, err := os.ReadFile(faultKoshd(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(tagged, []byte(faultEnv)) {
		t.Errorf("the kosh_faults koshd does not contain %q: this test checks nothing", faultEnv)
	}
}
