package demoinfo

import "time"

// Files in the run directory.
const (
	PidsFile     = "pids"         // "<pid> <comm>" per line, supervisor first
	ProgressFile = "progress.log" // one line per step, followed by demo.sh
	ReadyFile    = "ready"        // written last when everything is up
	FailedFile   = "failed"       // the reason the start failed
	InfoFile     = "info.txt"     // what demo.sh prints
	JSONFile     = "demo.json"    // the same, for programs
	WalletFile   = "wallet.json"  // the watched descriptor wallet's seed and keys
)

// The demo's asset codes.
const (
	// AssetCode is the sat-pegged community token.
	AssetCode = "KSH"
	// INRCode is the INR-pegged prototype.
	INRCode = "INR"
)

// Info is <run>/demo.json: everything a program needs to use the demo.
type Info struct {
	SupervisorPID int            `json:"supervisor_pid"`
	StartedAt     time.Time      `json:"started_at"`
	StartSeconds  float64        `json:"start_seconds"`
	Koshd         Koshd          `json:"koshd"`
	Btcd          Btcd           `json:"btcd"`
	Lnd           map[string]Lnd `json:"lnd"`
	Wallet        Wallet         `json:"wallet"`
	Asset         string         `json:"asset"`
	Accounts      []Account      `json:"accounts"`
	Counted       int64          `json:"counted_sat"`
	Supply        int64          `json:"supply"`
	Attestation   string         `json:"attestation"`
	INR           INR            `json:"inr"`
	Oracle        Oracle         `json:"oracle"`
	Attest        Attest         `json:"attest"`
}

// INR is the INR-pegged prototype.
type INR struct {
	Asset          string `json:"asset"`
	Decimals       int    `json:"decimals"`
	Supply         int64  `json:"supply"` // paise
	MinCoverageBps int64  `json:"min_coverage_bps"`
}

// Oracle is the demo's loopback price server.
type Oracle struct {
	Currency string            `json:"currency"`
	Price    string            `json:"price"` // the oracle's price when the demo minted
	Sources  map[string]string `json:"sources"`
}

// Attest is the first attestation and where attestations go.
type Attest struct {
	Schedules   []string `json:"schedules"`
	Dir         string   `json:"dir"`
	IssuerKey   string   `json:"issuer_key"`
	Seq         int64    `json:"seq"`
	ID          string   `json:"id"`
	Height      int64    `json:"height"`
	File        string   `json:"file"`
	CoverageBps int64    `json:"coverage_bps"`
	// AnchorGenesis is the txid of the issuer's genesis anchor.
	AnchorGenesis string `json:"anchor_genesis"`
}

// Koshd is the running koshd: listeners, files and how to call it.
type Koshd struct {
	PID        int      `json:"pid"`
	RPCAddr    string   `json:"rpc_addr"`
	RESTAddr   string   `json:"rest_addr"`
	PageURL    string   `json:"page_url"`
	DataDir    string   `json:"datadir"`
	TLSCert    string   `json:"tls_cert"`
	Macaroons  []string `json:"macaroons"`
	Log        string   `json:"log"`
	Args       []string `json:"args"`
	KoshcliCmd string   `json:"koshcli"`
}

// Btcd is the regtest btcd and its RPC credentials.
type Btcd struct {
	RPCAddr  string `json:"rpc_addr"`
	RPCUser  string `json:"rpc_user"`
	RPCPass  string `json:"rpc_pass"`
	CertPath string `json:"rpc_cert"`
	Dir      string `json:"dir"`
}

// Lnd is one of the demo's lnd nodes (alice, bob).
type Lnd struct {
	RPCAddr          string `json:"rpc_addr"`
	RESTAddr         string `json:"rest_addr"`
	TLSCert          string `json:"tls_cert"`
	AdminMacaroon    string `json:"admin_macaroon"`
	ReadonlyMacaroon string `json:"readonly_macaroon"`
	PubKey           string `json:"pubkey"`
	Dir              string `json:"dir"`
	Lncli            string `json:"lncli"`
}

// Account is one holder account and its balances.
type Account struct {
	Label              string `json:"label"`
	ID                 string `json:"id"`
	Balance            int64  `json:"balance"`
	INRBalance         int64  `json:"inr_balance"`
	WalletMacaroonFile string `json:"wallet_macaroon_file"`
}

// FundedAddr is one output the demo sent to the watched descriptor.
type FundedAddr struct {
	Index   uint32 `json:"index"`
	Address string `json:"address"`
	Sats    int64  `json:"sats"`
	Txid    string `json:"txid"`
}

// Wallet is the watched descriptor wallet; its keys are in File.
type Wallet struct {
	Descriptor string       `json:"descriptor"`
	File       string       `json:"file"`
	Funded     []FundedAddr `json:"funded"`
}
