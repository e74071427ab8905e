package harness

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/kosh-reserve/kosh/itest/harness/lndnode"
	"github.com/kosh-reserve/kosh/itest/harness/miner"
	"github.com/kosh-reserve/kosh/itest/harness/proc"
)

// BuildCommand is the command that builds the btcd and lnd binaries the
// harness runs; it is quoted in every "binary missing" failure.
const BuildCommand = "bash itest/build-nodes.sh"

const (
	btcdModule = "github.com/btcsuite/btcd"
	lndModule  = "github.com/lightningnetwork/lnd"

	// segwitActivationHeight is where btcd's regtest activates segwit and
	// taproot through BIP9 signalling: 3 windows of 144 blocks (defined,
	// started, locked in), active from the 4th. lnd needs segwit.
	segwitActivationHeight = 432

	defaultInitialBlocks = 500
	defaultFeeRate       = 5 // sat/vB
	defaultPayFeeLimit   = 1000
)

// Config tunes a Harness. The zero value is ready to use.
type Config struct {
	// BinDir holds btcd, lnd and lncli. Default: $KOSH_ITEST_BIN, else
	// <repo>/.build/bin where <repo> is found by walking up from the
	// working directory to Kosh's go.mod.
	BinDir string

	// Dir is the parent of every node's working directory. Default: a new
	// temporary directory, removed on Close unless a test failed.
	Dir string

	// InitialBlocks is how many blocks to mine at start; at least 432 so
	// that segwit is active on btcd's regtest. Default 500.
	InitialBlocks int

	// FeeRate in sat/vB for transactions the harness builds and for the
	// channel funding transactions it asks lnd to make. Default 5.
	FeeRate int64

	// PayFeeLimitSat is the routing fee limit Pay gives lnd. Default 1000.
	PayFeeLimitSat int64

	// BtcdArgs are extra btcd command-line flags.
	BtcdArgs []string

	// LndArgs are extra lnd command-line flags given to every node.
	LndArgs []string

	// Logger receives the harness's own progress messages. Default: a text
	// handler on stderr at level Info when testing.Verbose(), else Warn.
	Logger *slog.Logger
}

// Harness is a running btcd on regtest with a wallet the harness signs for,
// plus the lnd nodes started from it. Its methods are safe for concurrent use.
type Harness struct {
	cfg    Config
	log    *slog.Logger
	dir    string
	ownDir bool
	params *chaincfg.Params

	btcd       *proc.Process
	btcdDir    string
	rpcAddr    string
	p2pAddr    string
	rpcUser    string
	rpcPass    string
	rpcCert    string
	client     *rpcclient.Client
	btcdBinary string
	lndBinary  string
	lncli      string

	// The wallet: minerKey is made before btcd starts (its mining
	// address), miner once btcd answers.
	minerKey *miner.Key
	miner    *miner.Miner

	nodesMu sync.Mutex
	nodes   []*lndnode.Node

	failedMu sync.Mutex
	failed   bool

	closeOnce sync.Once
	closeErr  error
}

// Start builds nothing: it checks the binaries, starts btcd on free loopback
// ports, connects an rpcclient over the websocket, and mines the initial
// chain. Use New in a test or Shared with Main; call Close when done.
func Start(ctx context.Context, cfg Config) (h *Harness, err error) {
	if cfg.InitialBlocks == 0 {
		cfg.InitialBlocks = defaultInitialBlocks
	}
	if cfg.InitialBlocks < segwitActivationHeight {
		return nil, fmt.Errorf("InitialBlocks %d < %d: segwit would not be active on regtest",
			cfg.InitialBlocks, segwitActivationHeight)
	}
	if cfg.FeeRate == 0 {
		cfg.FeeRate = defaultFeeRate
	}
	if cfg.PayFeeLimitSat == 0 {
		cfg.PayFeeLimitSat = defaultPayFeeLimit
	}
	if cfg.Logger == nil {
		level := slog.LevelWarn
		if testing.Testing() && testing.Verbose() {
			level = slog.LevelInfo
		}
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	h = &Harness{
		cfg:    cfg,
		log:    cfg.Logger.With("subsystem", "itest-harness"),
		params: &chaincfg.RegressionNetParams,
	}

	if err := h.findBinaries(); err != nil {
		return nil, err
	}

	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "kosh-itest-")
		if err != nil {
			return nil, fmt.Errorf("make harness dir: %w", err)
		}
		h.dir, h.ownDir = dir, true
	} else {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("make harness dir: %w", err)
		}
		h.dir = cfg.Dir
	}
	defer func() {
		if err != nil {
			h.markFailed()
			if cerr := h.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
			err = fmt.Errorf("%w (logs kept in %s)", err, h.dir)
		}
	}()

	if h.minerKey, err = miner.NewKey(h.params); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := h.startBtcd(ctx); err != nil {
		return nil, err
	}
	h.miner = miner.New(h.client, h.params, h.minerKey, cfg.FeeRate)
	h.log.Info("btcd up", "rpc", h.rpcAddr, "p2p", h.p2pAddr, "dir", h.btcdDir, "took", time.Since(t0))

	t0 = time.Now()
	if _, err := h.miner.Mine(ctx, cfg.InitialBlocks); err != nil {
		return nil, fmt.Errorf("mine initial %d blocks: %w", cfg.InitialBlocks, err)
	}
	if err := h.checkSegwitActive(); err != nil {
		return nil, err
	}
	h.log.Info("initial chain mined", "blocks", cfg.InitialBlocks, "took", time.Since(t0))
	return h, nil
}

// New starts a Harness for one test and closes it at t.Cleanup. Logs are
// kept, and their paths logged, if the test failed.
func New(t testing.TB, cfg Config) *Harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	h, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start itest harness: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			h.markFailed()
			h.logPaths(t)
		}
		if err := h.Close(); err != nil {
			t.Errorf("close itest harness: %v", err)
		}
	})
	return h
}

var (
	sharedMu     sync.Mutex
	sharedMain   bool
	sharedCfg    Config
	sharedH      *Harness
	sharedErr    error
	sharedTried  bool
	sharedFailed bool
)

// Main runs the test binary's tests with one shared Harness, created by the
// first call to Shared, and closes it afterwards; it then exits with the
// tests' exit code. Call it from TestMain.
func Main(m *testing.M, cfg Config) {
	sharedMu.Lock()
	sharedMain, sharedCfg = true, cfg
	sharedMu.Unlock()

	code := m.Run()

	sharedMu.Lock()
	h := sharedH
	failed := sharedFailed || code != 0
	sharedMu.Unlock()
	if h != nil {
		if failed {
			h.markFailed()
			fmt.Fprintf(os.Stderr, "itest harness: tests failed, logs kept in %s\n", h.dir)
		}
		if err := h.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "itest harness: close: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// Shared returns the test binary's shared Harness, starting it on first use.
// It needs Main in TestMain, which closes it after all tests ran.
func Shared(t testing.TB) *Harness {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if !sharedMain {
		t.Fatal("harness.Shared needs func TestMain(m *testing.M) { harness.Main(m, harness.Config{}) }")
	}
	if !sharedTried {
		sharedTried = true
		// The shared harness outlives this test, so its start must not
		// be cancelled with t.Context.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		sharedH, sharedErr = Start(ctx, sharedCfg)
		cancel()
	}
	if sharedErr != nil {
		t.Fatalf("start shared itest harness: %v", sharedErr)
	}
	h := sharedH
	t.Cleanup(func() {
		if t.Failed() {
			sharedMu.Lock()
			sharedFailed = true
			sharedMu.Unlock()
			h.markFailed()
			h.logPaths(t)
		}
	})
	return h
}

// Close stops every lnd node and btcd, and removes the harness directory
// unless a test failed (or Config.Dir was given). It is idempotent.
func (h *Harness) Close() error {
	h.closeOnce.Do(func() {
		var errs []error
		h.nodesMu.Lock()
		nodes := append([]*lndnode.Node(nil), h.nodes...)
		h.nodesMu.Unlock()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, n := range nodes {
			wg.Go(func() {
				if err := n.Shutdown(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if h.client != nil {
			h.client.Shutdown()
			h.client.WaitForShutdown()
		}
		if h.btcd != nil {
			if err := h.btcd.Stop(15 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if h.ownDir && !h.isFailed() && len(errs) == 0 {
			if err := os.RemoveAll(h.dir); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", h.dir, err))
			}
		}
		h.closeErr = errors.Join(errs...)
	})
	return h.closeErr
}

// Dir is the harness's working directory (btcd's and every node's dirs are
// inside it).
func (h *Harness) Dir() string { return h.dir }

// Params are the chain parameters (regtest).
func (h *Harness) Params() *chaincfg.Params { return h.params }

func (h *Harness) markFailed() {
	h.failedMu.Lock()
	h.failed = true
	h.failedMu.Unlock()
}

func (h *Harness) isFailed() bool {
	h.failedMu.Lock()
	defer h.failedMu.Unlock()
	return h.failed
}

// logPaths logs where every log file of the harness is.
func (h *Harness) logPaths(t testing.TB) {
	t.Helper()
	t.Logf("itest harness dir (kept): %s", h.dir)
	if h.btcd != nil {
		t.Logf("btcd logs: %s, %s", h.btcd.LogPath, filepath.Join(h.btcdDir, "logs", "regtest", "btcd.log"))
	}
	h.nodesMu.Lock()
	defer h.nodesMu.Unlock()
	for _, n := range h.nodes {
		t.Logf("lnd %s logs: %s, %s", n.Name, n.StdoutLogPath(), n.LogPath())
	}
}

// findBinaries locates btcd, lnd and lncli and checks they were built from
// the versions this test binary links (the versions go.mod pins).
func (h *Harness) findBinaries() error {
	binDir := h.cfg.BinDir
	if binDir == "" {
		binDir = os.Getenv("KOSH_ITEST_BIN")
	}
	if binDir == "" {
		root, err := repoRoot()
		if err != nil {
			return fmt.Errorf("locate btcd/lnd binaries: %w; build them with `%s` or set KOSH_ITEST_BIN", err, BuildCommand)
		}
		binDir = filepath.Join(root, ".build", "bin")
	}
	h.btcdBinary = filepath.Join(binDir, "btcd")
	h.lndBinary = filepath.Join(binDir, "lnd")
	h.lncli = filepath.Join(binDir, "lncli")
	for _, b := range []string{h.btcdBinary, h.lndBinary, h.lncli} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s is missing (%w): build the nodes with `%s` from the repository root",
				b, err, BuildCommand)
		}
	}
	// The build script writes the version it built next to each binary;
	// compare with the versions linked into this binary (from go.mod).
	linked := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			linked[d.Path] = d.Version
		}
	}
	for bin, mod := range map[string]string{"btcd": btcdModule, "lnd": lndModule} {
		want := linked[mod]
		if want == "" {
			continue
		}
		stamp, err := os.ReadFile(filepath.Join(binDir, bin+".version"))
		if err != nil {
			continue // built by other means; trust it
		}
		got := strings.Fields(string(stamp))
		if len(got) == 0 || got[0] != want {
			return fmt.Errorf("%s in %s was built from %s but go.mod pins %s: rebuild with `%s`",
				bin, binDir, strings.TrimSpace(string(stamp)), want, BuildCommand)
		}
	}
	return nil
}

// repoRoot walks up from the working directory to the directory whose go.mod
// declares Kosh's module.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			line, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			if strings.TrimSpace(line) == "module github.com/kosh-reserve/kosh" {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/kosh-reserve/kosh above the working directory")
		}
		dir = parent
	}
}

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
