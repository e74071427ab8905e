package daemon

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	flags "github.com/jessevdk/go-flags"
	"github.com/kosh-reserve/kosh/anchorer"
	"github.com/kosh-reserve/kosh/attestor"
	"github.com/kosh-reserve/kosh/datadir"
	"github.com/kosh-reserve/kosh/leader"
	"github.com/kosh-reserve/kosh/loopback"
	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/payments"
	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/ratelimit"
	"github.com/kosh-reserve/kosh/reserve"
	"github.com/kosh-reserve/kosh/reserve/chain"
	"github.com/kosh-reserve/kosh/reserve/lightning"
	"github.com/kosh-reserve/kosh/reserve/proving"
	"github.com/kosh-reserve/kosh/store"
)

// Defaults.
const (
	DefaultConfigFilename  = "koshd.conf"
	DefaultRPCListen       = "127.0.0.1:10019"
	DefaultRESTListen      = "127.0.0.1:8019"
	DefaultNetwork         = "regtest"
	DefaultMaxRequestBytes = 64 * 1024
)

// DefaultDataDir is ~/.kosh.
func DefaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".kosh"
	}
	return filepath.Join(home, ".kosh")
}

// DBConfig selects the database.
type DBConfig struct {
	Backend     string `long:"backend" description:"Database engine" choice:"sqlite" choice:"postgres"`
	PostgresDSN string `long:"postgres.dsn" description:"PostgreSQL connection string, e.g. postgres://kosh@127.0.0.1:5432/kosh?sslmode=disable (secrets belong in a 0600 config file, not on the command line)"`
	// SingleWriter lets the ledger pipeline its commits on PostgreSQL.
	SingleWriter bool `long:"singlewriter" description:"Only this koshd writes to the database (no other koshd shares it): on PostgreSQL the ledger then prepares each batch of transfers while the one before it commits, instead of taking the journal's append lock per batch. Never set it with several koshd on one database: their journal chains would fork and attestations would stop"`
}

// Config is koshd's configuration: command-line flags, named as lnd names
// them, and the same options in an ini-style config file.
type Config struct {
	ConfigFile       string        `long:"configfile" description:"Path to the configuration file (default <datadir>/koshd.conf)"`
	DataDir          string        `long:"datadir" description:"Directory for TLS keys, macaroons and the database"`
	Network          string        `long:"network" description:"Bitcoin network the reserves are on" choice:"mainnet" choice:"testnet" choice:"testnet4" choice:"signet" choice:"regtest"`
	RPCListen        string        `long:"rpclisten" description:"host:port for the gRPC server"`
	RESTListen       string        `long:"restlisten" description:"host:port for the REST gateway, public page, OpenAPI spec and /metrics"`
	DebugLevel       string        `long:"debuglevel" description:"Log level" choice:"debug" choice:"info" choice:"warn" choice:"error"`
	MaxRequestBytes  int           `long:"maxrequestbytes" description:"Largest request body accepted, gRPC or REST"`
	ShutdownTimeout  time.Duration `long:"shutdowntimeout" description:"How long to let in-flight calls finish on SIGINT/SIGTERM"`
	AllowNonLoopback bool          `long:"allownonloopback" description:"Allow listening on non-loopback addresses (put koshd behind a reverse proxy instead)"`
	AllowNewLedger   bool          `long:"allownewledger" description:"Recovery only: start a new, empty ledger although the data directory has served one (a ledger.id, published attestations), or bind the directory to another ledger's database. Without it koshd refuses, so that a lost or emptied database never silently starts a second attestation history under the same issuer key"`

	// RateLimit limits the public (unauthenticated) surface (package ratelimit).
	RateLimit ratelimit.Options `group:"ratelimit" namespace:"ratelimit"`

	DB    DBConfig          `group:"db" namespace:"db"`
	Chain chain.Options     `group:"chain" namespace:"chain"`
	Lnd   lightning.Options `group:"lnd" namespace:"lnd"`
	// Attest configures attestations (package attestor).
	Attest attestor.Options `group:"attest" namespace:"attest"`
	// Payments configures deposits and redemptions (package payments).
	Payments payments.Options `group:"payments" namespace:"payments"`
	// Anchor configures anchoring the attestation chain in bitcoin
	// (package anchorer).
	Anchor anchorer.Options `group:"anchor" namespace:"anchor"`
	// Oracle configures the price oracle for fiat-pegged assets (package oracle).
	Oracle oracle.Options `group:"oracle" namespace:"oracle"`
	// Leader configures the election among several koshd sharing one
	// PostgreSQL database (package leader).
	Leader LeaderOptions `group:"leader" namespace:"leader"`
}

// DefaultConfig returns the configuration with every default filled in.
func DefaultConfig() Config {
	return Config{
		DataDir:         DefaultDataDir(),
		Network:         DefaultNetwork,
		RPCListen:       DefaultRPCListen,
		RESTListen:      DefaultRESTListen,
		DebugLevel:      "info",
		MaxRequestBytes: DefaultMaxRequestBytes,
		ShutdownTimeout: 15 * time.Second,
		RateLimit:       ratelimit.DefaultOptions(),
		DB:              DBConfig{Backend: string(store.SQLite)},
		Chain:           chain.DefaultOptions(proving.DefaultMaxAge),
		Lnd:             lightning.DefaultOptions(),
		Oracle:          oracle.DefaultOptions(),
		Attest: attestor.Options{Schedules: []string{"@hourly"}, Timeout: 10 * time.Minute, Issuer: "Kosh",
			Shares: sumtree.DefaultShares, Window: sumtree.DefaultWindow},
		Anchor: anchorer.Options{Schedules: []string{"@daily"}, SatPerVbyte: 2, MinConf: 1, Poll: 30 * time.Second,
			BumpAfter: time.Hour, BumpRate: 20, BumpBudget: 20_000},
		Leader: LeaderOptions{TTL: leader.DefaultTTL},
	}
}

// LoadConfig parses args (without the program name) the way lnd does:
// flags first, to find the config file; then the file; then the flags again
// so that the command line wins.
func LoadConfig(args []string) (Config, error) {
	pre := DefaultConfig()
	if _, err := flags.NewParser(&pre, flags.HelpFlag|flags.PassDoubleDash).ParseArgs(args); err != nil {
		return Config{}, err
	}
	cfg := DefaultConfig()
	cfg.DataDir = pre.DataDir
	path := pre.ConfigFile
	explicit := path != ""
	if !explicit {
		path = filepath.Join(pre.DataDir, DefaultConfigFilename)
	}
	parser := flags.NewParser(&cfg, flags.HelpFlag|flags.PassDoubleDash)
	if err := flags.NewIniParser(parser).ParseFile(path); err != nil {
		var pathErr *os.PathError
		if !errors.As(err, &pathErr) || explicit {
			return Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if _, err := parser.ParseArgs(args); err != nil {
		return Config{}, err
	}
	cfg.ConfigFile = path
	return cfg, cfg.Validate()
}

// Validate checks the configuration for mistakes a person can fix.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("--datadir must not be empty")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("--datadir: %w", err)
	}
	c.DataDir = abs
	for _, l := range []struct{ flag, addr string }{{"--rpclisten", c.RPCListen}, {"--restlisten", c.RESTListen}} {
		host, _, err := net.SplitHostPort(l.addr)
		if err != nil {
			return fmt.Errorf("%s %q: %w", l.flag, l.addr, err)
		}
		if !c.AllowNonLoopback && !loopback.Host(host) {
			return fmt.Errorf("%s %q is not a loopback address; koshd listens on loopback unless --allownonloopback is set", l.flag, l.addr)
		}
	}
	switch store.Backend(c.DB.Backend) {
	case store.SQLite:
	case store.Postgres:
		if c.DB.PostgresDSN == "" {
			return errors.New("--db.backend=postgres needs --db.postgres.dsn")
		}
	default:
		return fmt.Errorf("--db.backend %q: want sqlite or postgres", c.DB.Backend)
	}
	if err := c.Chain.Validate(); err != nil {
		return err
	}
	if c.Chain.Backend == "" && len(c.Lnd.Nodes) > 0 {
		return errors.New("--lnd.node needs a chain backend (--chain.backend) to verify channel points and wallet outputs on-chain")
	}
	if err := c.Lnd.Validate(reserve.ChainSourceName); err != nil {
		return err
	}
	if _, err := c.ChainParams(); err != nil {
		return err
	}
	if err := c.RateLimit.Validate(); err != nil {
		return err
	}
	if c.MaxRequestBytes < 1024 {
		return fmt.Errorf("--maxrequestbytes %d is too small (minimum 1024)", c.MaxRequestBytes)
	}
	if err := c.Attest.Validate(); err != nil {
		return err
	}
	if err := c.Anchor.Validate(); err != nil {
		return err
	}
	if err := c.Oracle.Validate(); err != nil {
		return err
	}
	if err := c.Leader.Validate(); err != nil {
		return err
	}
	params, err := c.ChainParams()
	if err != nil {
		return err
	}
	if _, err := c.Chain.Watched(params); err != nil {
		return err
	}
	if _, err := c.Payments.Parse(params, c.Chain.Descriptors); err != nil {
		return err
	}
	return nil
}

// ChainParams returns the bitcoin network parameters of --network.
func (c *Config) ChainParams() (*chaincfg.Params, error) {
	switch c.Network {
	case "mainnet":
		return &chaincfg.MainNetParams, nil
	case "testnet":
		return &chaincfg.TestNet3Params, nil
	case "testnet4":
		return &chaincfg.TestNet4Params, nil
	case "signet":
		return &chaincfg.SigNetParams, nil
	case "regtest":
		return &chaincfg.RegressionNetParams, nil
	}
	return nil, fmt.Errorf("--network %q: want mainnet, testnet, testnet4, signet or regtest", c.Network)
}

// NetworkDir is where this network's database and macaroons live.
func (c *Config) NetworkDir() string { return filepath.Join(c.DataDir, c.Network) }

// TLSCertPath is the TLS certificate koshd serves (and clients pin).
func (c *Config) TLSCertPath() string { return filepath.Join(c.DataDir, "tls.cert") }

// TLSKeyPath is the TLS private key.
func (c *Config) TLSKeyPath() string { return filepath.Join(c.DataDir, "tls.key") }

// MacaroonPath returns the path of a baked macaroon file ("admin", ...).
func (c *Config) MacaroonPath(name string) string {
	return filepath.Join(c.NetworkDir(), name+".macaroon")
}

// LedgerIDPath is the data directory's copy of its ledger's identity.
func (c *Config) LedgerIDPath() string { return filepath.Join(c.NetworkDir(), "ledger.id") }

// privateFiles lists what in the data directory only koshd's user may read
// (and, for directories, change): checked at start and while running.
func (c *Config) privateFiles() []datadir.Entry {
	es := []datadir.Entry{
		{Path: c.DataDir, Kind: datadir.Directory},
		{Path: c.NetworkDir(), Kind: datadir.Directory},
		{Path: c.TLSKeyPath(), Kind: datadir.Secret},
		{Path: c.MacaroonPath("root") + ".key", Kind: datadir.Secret},
		{Path: c.AttestKeyPath(), Kind: datadir.Secret},
	}
	macs, _ := filepath.Glob(filepath.Join(c.NetworkDir(), "*.macaroon"))
	for _, m := range macs {
		es = append(es, datadir.Entry{Path: m, Kind: datadir.Secret})
	}
	if sc := c.StoreConfig(); sc.Backend == store.SQLite {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			es = append(es, datadir.Entry{Path: sc.SQLitePath + suffix, Kind: datadir.Database})
		}
	}
	return es
}

// StoreConfig is the store configuration this config selects.
func (c *Config) StoreConfig() store.Config {
	return store.Config{
		Backend:     store.Backend(c.DB.Backend),
		SQLitePath:  filepath.Join(c.NetworkDir(), "kosh.db"),
		PostgresDSN: c.DB.PostgresDSN,
	}
}
