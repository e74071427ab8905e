// Package perms is the one place that says who may call what: a map from
// every RPC's full method name to the macaroon operations it needs, and the
// operation sets of the macaroons koshd bakes. A test walks every method of
// every service in the compiled proto descriptors and fails if one is
// missing here.
package perms

// Op is one permission: an action on an entity, written "entity:action" in
// a macaroon caveat.
type Op struct {
	Entity string
	Action string
}

// String renders the op as it appears in a caveat.
func (o Op) String() string { return o.Entity + ":" + o.Action }

// Rule is what a method requires.
type Rule struct {
	// Public methods need no macaroon (health checks, public proofs).
	Public bool
	// Ops must all be granted by the caller's macaroon.
	Ops []Op
	// AccountScoped methods act on one account named in the request; the
	// macaroon must be caveated to that account.
	AccountScoped bool
}

// Operations.
var (
	AssetsRead     = Op{"assets", "read"}
	AssetsWrite    = Op{"assets", "write"}
	AccountsRead   = Op{"accounts", "read"}
	AccountsWrite  = Op{"accounts", "write"}
	SupplyRead     = Op{"supply", "read"}
	SupplyMint     = Op{"supply", "mint"}
	SupplyBurn     = Op{"supply", "burn"}
	TransfersWrite = Op{"transfers", "write"}
	JournalRead    = Op{"journal", "read"}
	ReservesRead   = Op{"reserves", "read"}
	// ReservesWrite imports proofs of control: what makes outputs count.
	ReservesWrite = Op{"reserves", "write"}
	// AttestWrite publishes an attestation on demand.
	AttestWrite = Op{"attestations", "write"}
	// PricesRead reads the oracle's prices.
	PricesRead = Op{"prices", "read"}
	// PricesWrite sets a manual price: its own permission, carried by the
	// admin and pricer macaroons only.
	PricesWrite = Op{"prices", "write"}
	WalletRead  = Op{"wallet", "read"}
	WalletWrite = Op{"wallet", "write"}
)

// Methods maps every RPC's full method name to its rule.
var Methods = map[string]Rule{
	"/kosh.v1.IssuerService/CreateAsset":        {Ops: []Op{AssetsWrite}},
	"/kosh.v1.IssuerService/ListAssets":         {Ops: []Op{AssetsRead}},
	"/kosh.v1.IssuerService/GetAsset":           {Ops: []Op{AssetsRead}},
	"/kosh.v1.IssuerService/CreateAccount":      {Ops: []Op{AccountsWrite}},
	"/kosh.v1.IssuerService/ListAccounts":       {Ops: []Op{AccountsRead}},
	"/kosh.v1.IssuerService/GetAccount":         {Ops: []Op{AccountsRead}},
	"/kosh.v1.IssuerService/BakeWalletMacaroon": {Ops: []Op{AccountsWrite}},
	"/kosh.v1.IssuerService/Mint":               {Ops: []Op{SupplyMint}},
	"/kosh.v1.IssuerService/Burn":               {Ops: []Op{SupplyBurn}},
	"/kosh.v1.IssuerService/Transfer":           {Ops: []Op{TransfersWrite}},
	"/kosh.v1.IssuerService/GetSupply":          {Ops: []Op{SupplyRead}},
	"/kosh.v1.IssuerService/ListJournal":        {Ops: []Op{JournalRead}},
	"/kosh.v1.IssuerService/GetReserves":        {Ops: []Op{ReservesRead}},
	"/kosh.v1.IssuerService/ExportControlProof": {Ops: []Op{ReservesRead}},
	"/kosh.v1.IssuerService/ImportControlProof": {Ops: []Op{ReservesWrite}},
	"/kosh.v1.IssuerService/Attest":             {Ops: []Op{AttestWrite}},
	"/kosh.v1.IssuerService/Anchor":             {Ops: []Op{AttestWrite}},
	// Deposits credited and then reorged out: what the issuer must act on.
	"/kosh.v1.IssuerService/ListFlaggedDeposits": {Ops: []Op{ReservesRead}},
	"/kosh.v1.IssuerService/GetPrices":           {Ops: []Op{PricesRead}},
	"/kosh.v1.IssuerService/SetManualPrice":      {Ops: []Op{PricesWrite}},

	"/kosh.v1.PublicService/GetReserveStatus":     {Public: true},
	"/kosh.v1.PublicService/GetStatus":            {Public: true},
	"/kosh.v1.PublicService/GetLatestAttestation": {Public: true},
	"/kosh.v1.PublicService/GetAttestation":       {Public: true},
	"/kosh.v1.PublicService/ListAttestations":     {Public: true},
	"/kosh.v1.PublicService/ListAnchors":          {Public: true},

	"/kosh.v1.WalletService/GetBalance":        {Ops: []Op{WalletRead}, AccountScoped: true},
	"/kosh.v1.WalletService/ListHistory":       {Ops: []Op{WalletRead}, AccountScoped: true},
	"/kosh.v1.WalletService/Transfer":          {Ops: []Op{WalletWrite}, AccountScoped: true},
	"/kosh.v1.WalletService/GetInclusionProof": {Ops: []Op{WalletRead}, AccountScoped: true},
	"/kosh.v1.WalletService/CreateDeposit":     {Ops: []Op{WalletWrite}, AccountScoped: true},
	"/kosh.v1.WalletService/GetDeposit":        {Ops: []Op{WalletRead}, AccountScoped: true},
	"/kosh.v1.WalletService/ListDeposits":      {Ops: []Op{WalletRead}, AccountScoped: true},
	"/kosh.v1.WalletService/Redeem":            {Ops: []Op{WalletWrite}, AccountScoped: true},
	"/kosh.v1.WalletService/GetRedemption":     {Ops: []Op{WalletRead}, AccountScoped: true},
	"/kosh.v1.WalletService/ListRedemptions":   {Ops: []Op{WalletRead}, AccountScoped: true},

	"/grpc.health.v1.Health/Check": {Public: true},
	"/grpc.health.v1.Health/Watch": {Public: true},
	"/grpc.health.v1.Health/List":  {Public: true},
}

// Issuer macaroon operation sets.
var (
	// Admin may do everything an issuer operator can.
	Admin = []Op{AssetsRead, AssetsWrite, AccountsRead, AccountsWrite, SupplyRead,
		SupplyMint, SupplyBurn, TransfersWrite, JournalRead, ReservesRead, ReservesWrite, AttestWrite, PricesRead, PricesWrite}
	// ReadOnly may read everything and change nothing.
	ReadOnly = []Op{AssetsRead, AccountsRead, SupplyRead, JournalRead, ReservesRead, PricesRead}
	// Minter may read and change supply, but not define assets, open
	// accounts or move holders' tokens.
	Minter = []Op{AssetsRead, AccountsRead, SupplyRead, JournalRead, ReservesRead, PricesRead, SupplyMint, SupplyBurn}
	// Pricer may read everything and set manual prices, nothing else.
	Pricer = []Op{AssetsRead, SupplyRead, ReservesRead, PricesRead, PricesWrite}
	// Wallet is what a holder's wallet macaroon grants, always together with
	// a caveat naming the one account it may touch.
	Wallet = []Op{WalletRead, WalletWrite}
)
