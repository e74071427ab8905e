package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	koshv1 "github.com/kosh-reserve/kosh/api/kosh/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// buildKoshd builds koshd as shipped (no build tags) into
// <repo>/.build/torture/koshd and returns its path.
func buildKoshd(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, ".build", "torture", "koshd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/koshd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -o %s ./cmd/koshd: %w\n%s", bin, err, out)
	}
	return bin, nil
}

// repoRoot is the directory of the main module's go.mod, as the go command
// sees it from the working directory.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run from Kosh's repository")
	}
	return filepath.Dir(gomod), nil
}

// freeAddr returns a loopback host:port nobody listened on a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// koshd is the daemon as a child process that can be SIGKILLed and started
// again on the same data directory (or database) and ports.
type koshd struct {
	bin     string
	args    []string
	dir     string
	rpcAddr string
	logPath string

	cmd  *exec.Cmd
	done chan struct{}

	conn   *grpc.ClientConn
	issuer koshv1.IssuerServiceClient
}

// newKoshd prepares (does not start) koshd on dir with extra flags.
func newKoshd(bin, dir string, extra []string) (*koshd, error) {
	rpc, err := freeAddr()
	if err != nil {
		return nil, err
	}
	rest, err := freeAddr()
	if err != nil {
		return nil, err
	}
	k := &koshd{bin: bin, dir: dir, rpcAddr: rpc, logPath: filepath.Join(dir, "koshd.log")}
	k.args = append([]string{"--datadir=" + dir, "--network=regtest", "--rpclisten=" + rpc,
		"--restlisten=" + rest, "--debuglevel=info", "--shutdowntimeout=5s"}, extra...)
	return k, nil
}

// spawn starts the process and returns without waiting for it to serve.
func (k *koshd) spawn() error {
	if k.running() {
		return errors.New("koshd is already running")
	}
	logf, err := os.OpenFile(k.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open koshd log: %w", err)
	}
	fmt.Fprintf(logf, "=== torture: start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(k.bin, k.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", k.bin, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logf, "=== torture: exit %s: %v\n", time.Now().Format(time.RFC3339Nano), err)
		logf.Close()
		close(done)
	}()
	k.cmd, k.done = cmd, done
	return nil
}

func (k *koshd) running() bool {
	if k.cmd == nil {
		return false
	}
	select {
	case <-k.done:
		return false
	default:
		return true
	}
}

// start spawns koshd and waits until its gRPC API answers with the admin
// macaroon.
func (k *koshd) start(ctx context.Context) error {
	if err := k.spawn(); err != nil {
		return err
	}
	return k.waitReady(ctx)
}

// waitReady waits until koshd answers ListAssets, at most a minute.
func (k *koshd) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := k.connect(ctx)
		if err == nil {
			return nil
		}
		if !k.running() {
			return fmt.Errorf("koshd exited while starting:\n%s", tail(k.logPath, 3000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("koshd not serving a minute after start: %w\n%s", err, tail(k.logPath, 3000))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// connect dials koshd with its TLS certificate and admin macaroon and checks
// that it answers.
func (k *koshd) connect(ctx context.Context) error {
	pemBytes, err := os.ReadFile(filepath.Join(k.dir, "tls.cert"))
	if err != nil {
		return err
	}
	mac, err := os.ReadFile(filepath.Join(k.dir, "regtest", "admin.macaroon"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return errors.New("tls.cert holds no certificate")
	}
	creds := credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	conn, err := grpc.NewClient(k.rpcAddr, grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(macaroonCreds(hex.EncodeToString(mac))))
	if err != nil {
		return err
	}
	issuer := koshv1.NewIssuerServiceClient(conn)
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := issuer.ListAssets(cctx, &koshv1.ListAssetsRequest{}); err != nil {
		conn.Close()
		return err
	}
	k.closeConn()
	k.conn, k.issuer = conn, issuer
	return nil
}

func (k *koshd) closeConn() {
	if k.conn != nil {
		k.conn.Close()
		k.conn, k.issuer = nil, nil
	}
}

// kill sends SIGKILL and waits until the process is reaped.
func (k *koshd) kill() error { return k.killAnd(nil) }

// killAnd sends SIGKILL, calls then (if not nil) at once, and waits until
// the process is reaped.
func (k *koshd) killAnd(then func()) error {
	defer func() {
		if then != nil { // not called yet: an error path
			then()
		}
	}()
	if k.cmd == nil {
		return errors.New("koshd was never started")
	}
	if !k.running() {
		return fmt.Errorf("koshd exited by itself (%v) before the SIGKILL:\n%s", k.cmd.ProcessState, tail(k.logPath, 3000))
	}
	if err := k.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGKILL koshd (pid %d): %w", k.cmd.Process.Pid, err)
	}
	if then != nil {
		then()
		then = nil
	}
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("koshd (pid %d) not reaped 10 s after SIGKILL", k.cmd.Process.Pid)
	}
	if ws, ok := k.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && !(ws.Signaled() && ws.Signal() == syscall.SIGKILL) {
		return fmt.Errorf("koshd exited by itself before the SIGKILL (%v):\n%s", k.cmd.ProcessState, tail(k.logPath, 3000))
	}
	return nil
}

// stop closes the client connection and stops koshd with SIGTERM, or
// SIGKILL after 20 s.
func (k *koshd) stop() {
	k.closeConn()
	if !k.running() {
		return
	}
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(20 * time.Second):
		_ = k.cmd.Process.Kill()
		<-k.done
	}
}

// macaroonCreds sends the admin macaroon hex-encoded in the "macaroon"
// metadata key with every call, as koshcli does.
type macaroonCreds string

func (m macaroonCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"macaroon": string(m)}, nil
}

func (macaroonCreds) RequireTransportSecurity() bool { return true }

// tail returns the last n bytes of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
