package anchorer

import (
	"fmt"
	"strings"
	"time"

	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/schedule"
)

// Options is the [anchor] option group: when and from which lnd wallet the
// attestation chain is anchored in bitcoin.
type Options struct {
	Lnd         string        `long:"lnd" description:"The lnd whose wallet pays the anchors: name=alice,host=127.0.0.1:10009,tlscert=/path/tls.cert,macaroon=/path/admin.macaroon (the macaroon needs onchain:read/write and address:read). Empty: no anchoring"`
	Schedules   []string      `long:"schedule" description:"When to anchor the newest attestation, as a cron spec (repeatable; @daily, \"0 3 * * *\", \"@every 10m\"); \"off\": on demand only (koshcli anchor)"`
	SatPerVbyte uint64        `long:"satpervbyte" description:"Fee rate of anchor transactions, in sat/vbyte"`
	MinConf     int32         `long:"minconf" description:"Confirmations after which an anchor counts as confirmed and attestations list it"`
	Poll        time.Duration `long:"poll" description:"How often the newest anchor is followed towards confirmation"`
	BumpAfter   time.Duration `long:"bumpafter" description:"Raise the fee of an anchor still unconfirmed after this long (and again after each such wait): replace it (BIP 125) at --anchor.bumpsatpervbyte, the difference paid from its change, or, when the change cannot pay, bump it by a child transaction; 0: never"`
	BumpRate    uint64        `long:"bumpsatpervbyte" description:"Fee rate, in sat/vbyte, a stuck anchor is bumped to"`
	BumpBudget  int64         `long:"bumpbudget" description:"Most sats a child transaction bumping a stuck anchor may spend in fees"`

	// Fault is a test hook called at the crash points (docs/proofs.md
	// §4.14).
	Fault func(point string) error `no-flag:"true"`
}

// LndExample is a complete --anchor.lnd value.
const LndExample = "name=alice,host=127.0.0.1:10009,tlscert=/home/u/.lnd/tls.cert,macaroon=/home/u/.lnd/data/chain/bitcoin/regtest/admin.macaroon"

// Enabled reports whether anchoring is configured.
func (o Options) Enabled() bool { return o.Lnd != "" }

// ActiveSchedules returns the configured cron specs; "off" and blank
// entries name none.
func (o Options) ActiveSchedules() []string { return schedule.ActiveSpecs(o.Schedules) }

// Bump is the fee policy of a stuck anchor.
func (o Options) Bump() BumpPolicy {
	return BumpPolicy{After: o.BumpAfter, SatPerVbyte: o.BumpRate, Budget: o.BumpBudget}
}

// Node parses --anchor.lnd.
func (o Options) Node() (lndconn.Node, error) {
	n, _, err := lndconn.ParseNode("--anchor.lnd", o.Lnd, LndExample, "signmacaroon", "proofmacaroon")
	return n, err
}

// Validate checks the [anchor] options for mistakes a person can fix.
func (o Options) Validate() error {
	if !o.Enabled() {
		return nil
	}
	if _, err := o.Node(); err != nil {
		return err
	}
	if _, err := schedule.ParseSpecs(o.ActiveSchedules()); err != nil {
		return fmt.Errorf("--anchor.schedule: %w", err)
	}
	if o.SatPerVbyte < 1 || o.SatPerVbyte > 10_000 {
		return fmt.Errorf("--anchor.satpervbyte %d is outside 1 to 10000", o.SatPerVbyte)
	}
	if o.MinConf < 1 || o.MinConf > 100 {
		return fmt.Errorf("--anchor.minconf %d is outside 1 to 100", o.MinConf)
	}
	if o.Poll <= 0 {
		return fmt.Errorf("--anchor.poll must be positive")
	}
	if o.BumpAfter < 0 {
		return fmt.Errorf("--anchor.bumpafter must not be negative")
	}
	if o.BumpAfter > 0 && (o.BumpRate < 1 || o.BumpRate > 10_000) {
		return fmt.Errorf("--anchor.bumpsatpervbyte %d is outside 1 to 10000", o.BumpRate)
	}
	if o.BumpAfter > 0 && o.BumpBudget < 1000 {
		return fmt.Errorf("--anchor.bumpbudget %d is below 1000 sats: too little to pay for a child transaction", o.BumpBudget)
	}
	return nil
}

// Calls are the walletrpc calls anchoring makes and the permissions lnd
// requires for each (lnd's permission map, as of v0.21).
var Calls = []lndconn.Call{
	{Method: "/walletrpc.WalletKit/NextAddr", Perms: []string{"address:read"}, Use: "seal addresses"},
	{Method: "/walletrpc.WalletKit/ListLeases", Perms: []string{"onchain:read"}, Use: "freeing a dead run's inputs"},
	{Method: "/walletrpc.WalletKit/LeaseOutput", Perms: []string{"onchain:write"}, Use: "keeping the seal"},
	{Method: "/walletrpc.WalletKit/ReleaseOutput", Perms: []string{"onchain:write"}, Use: "freeing a dead run's inputs"},
	{Method: "/walletrpc.WalletKit/FundPsbt", Perms: []string{"onchain:write"}, Use: "funding anchors"},
	{Method: "/walletrpc.WalletKit/FinalizePsbt", Perms: []string{"onchain:write"}, Use: "signing anchors"},
	{Method: "/walletrpc.WalletKit/PublishTransaction", Perms: []string{"onchain:write"}, Use: "publishing anchors"},
	{Method: "/walletrpc.WalletKit/GetTransaction", Perms: []string{"onchain:read"}, Use: "following anchors"},
	{Method: "/walletrpc.WalletKit/RemoveTransaction", Perms: []string{"onchain:write"}, Use: "replacing stuck anchors"},
	{Method: "/walletrpc.WalletKit/BumpFee", Perms: []string{"onchain:write"}, Use: "bumping stuck anchors"},
}

// CheckMacaroon refuses a macaroon that cannot make every call anchoring
// makes, naming each missing permission and how to bake one that has them.
func CheckMacaroon(mac lndconn.Macaroon) error {
	ops, err := mac.Permissions()
	if err != nil {
		return err
	}
	if missing := lndconn.Missing(ops, Calls, nil); len(missing) > 0 {
		return fmt.Errorf("the anchoring lnd macaroon lacks %s; use admin.macaroon or bake one with `lncli bakemacaroon %s`",
			strings.Join(missing, ", "), strings.Join(lndconn.Permissions(Calls), " "))
	}
	return nil
}
