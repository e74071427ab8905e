package payments

import (
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/kosh-reserve/kosh/lndconn"
	"github.com/kosh-reserve/kosh/payments/policy"
	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// Options is the [payments] option group: deposits and redemptions.
type Options struct {
	Lnd               string        `long:"lnd" description:"The lnd that takes deposits and pays redemptions: name=alice,host=127.0.0.1:10009,tlscert=/path/tls.cert,macaroon=/path/admin.macaroon (the macaroon needs info:read, invoices:read/write, offchain:read/write, onchain:read/write; koshd refuses to start with one that lacks any, naming it). It should also be a reserve node (--lnd.node with the same name) so its balances back the credits. Empty: no deposits or redemptions"`
	DepositDescriptor string        `long:"depositdescriptor" description:"Ranged output descriptor with #checksum that on-chain deposit addresses are derived from, e.g. wpkh(tpub.../0/*)#checksum; it must also be a --chain.descriptor so the chain watcher watches and counts it"`
	MinConf           int64         `long:"minconf" description:"Confirmations an on-chain deposit needs to be credited (default: --chain.minconf)"`
	Policies          []string      `long:"policy" description:"Per-asset limits (repeatable): ASSET:min=SATS,max=SATS,daily=SATS (daily: per account per 24 h, deposits and redemptions each; 0 or absent: none). Use * as ASSET for the default"`
	InvoiceExpiry     time.Duration `long:"invoiceexpiry" description:"Lifetime of a deposit invoice whose CreateDeposit request leaves expiry_seconds 0 (default 1h)"`
	PayTimeout        time.Duration `long:"paytimeout" description:"How long lnd may try to pay a redemption invoice"`
	OnchainVbytes     int64         `long:"onchainvbytes" description:"Size budget of an on-chain payout: its fee limit, burned with the amount, is sat_per_vbyte times this"`
	MaxSatPerVbyte    int64         `long:"maxsatpervbyte" description:"Highest fee rate a holder may ask for an on-chain payout"`
	Poll              time.Duration `long:"poll" description:"How often unfinished deposits and redemptions are retried"`

	// Fault is a test hook called at named crash points (docs/payments.md).
	Fault func(point string) error `no-flag:"true"`
}

// LndExample is a complete --payments.lnd value, shown when one is
// incomplete.
const LndExample = "name=alice,host=127.0.0.1:10009,tlscert=/home/u/.lnd/tls.cert,macaroon=/home/u/.lnd/data/chain/bitcoin/regtest/admin.macaroon"

// Parsed is what the [payments] options say, checked.
type Parsed struct {
	// Enabled is false when --payments.lnd is empty: no deposits or
	// redemptions.
	Enabled bool
	// Node is the payments lnd.
	Node     lndconn.Node
	Policies map[string]policy.Policy
	Default  policy.Policy
	// DepositDesc derives on-chain deposit addresses (nil: Lightning
	// deposits only).
	DepositDesc *descriptor.Descriptor
}

// Parse checks the options against the network and the descriptors the
// chain watcher watches (--chain.descriptor): a deposit descriptor must be
// one of them, so that deposits are seen and counted as reserves.
func (o Options) Parse(params *chaincfg.Params, watched []string) (Parsed, error) {
	var p Parsed
	if o.Lnd == "" {
		if o.DepositDescriptor != "" {
			return p, fmt.Errorf("--payments.depositdescriptor needs --payments.lnd")
		}
		return p, nil
	}
	p.Enabled = true
	var err error
	// signmacaroon and proofmacaroon are accepted, and ignored, so that
	// the node's --lnd.node value can be copied.
	if p.Node, _, err = lndconn.ParseNode("--payments.lnd", o.Lnd, LndExample, "signmacaroon", "proofmacaroon"); err != nil {
		return p, err
	}
	if p.Policies, p.Default, err = policy.Parse(o.Policies); err != nil {
		return p, err
	}
	if o.DepositDescriptor == "" {
		return p, nil
	}
	desc, err := descriptor.Parse(o.DepositDescriptor, params)
	if err != nil {
		return p, fmt.Errorf("--payments.depositdescriptor: %w", err)
	}
	if !desc.HasChecksum() {
		return p, fmt.Errorf("--payments.depositdescriptor has no checksum; if it is the descriptor you mean, use %s",
			descriptor.AddChecksum(o.DepositDescriptor))
	}
	if !desc.IsRanged() {
		return p, fmt.Errorf("--payments.depositdescriptor must be ranged (end in /*) so each deposit gets a fresh address")
	}
	for _, s := range watched {
		if w, err := descriptor.Parse(s, params); err == nil && w.String() == desc.String() {
			p.DepositDesc = desc
			return p, nil
		}
	}
	return p, fmt.Errorf("--payments.depositdescriptor %s is not among --chain.descriptor: add it there too, so the chain watcher sees deposits and counts them as reserves", desc)
}
