package attestor

import (
	"fmt"
	"time"

	"github.com/kosh-reserve/kosh/proofs/sumtree"
	"github.com/kosh-reserve/kosh/schedule"
)

// Options is the [attest] option group: when attestations are made,
// where their files go and the key that signs them.
type Options struct {
	Schedules  []string      `long:"schedule" description:"When to publish an attestation, as a cron spec (repeatable; 5 fields such as \"0 * * * *\", or @hourly, @daily, \"@every 1m\"); \"off\" publishes only on demand (koshcli attest)"`
	Dir        string        `long:"dir" description:"Directory that receives every attestation as <seq>-<id>.json and latest.json, a static file set to mirror (default <datadir>/<network>/attestations)"`
	KeyFile    string        `long:"keyfile" description:"The issuer's attestation signing key, created 0600 on first start (default <datadir>/<network>/attestation.key); back it up: its public key is the issuer's identity"`
	TreeHeight int           `long:"treeheight" description:"Fixed liability tree height, so every proof has the same length (e.g. 25 for 2^25 leaves); 0 picks the smallest that holds every share. Attestations state the exact account count either way"`
	Shares     int           `long:"shares" description:"How many shares each balance is split into in the liability tree (1, 2 or 4): a holder's proof then shows random shares of other accounts, not their balances (docs/proofs.md 3.15)"`
	Window     int           `long:"window" description:"The liability tree's window exponent (1 to 32): an account's shares lie within one block of 2^window positions, mixed with the shares of 2^window/shares accounts; larger hides more and makes proofs longer (40 bytes per level)"`
	Timeout    time.Duration `long:"timeout" description:"How long one scheduled attestation may take"`
	Issuer     string        `long:"issuer" description:"The issuer's name, shown on the public page"`
}

// ActiveSchedules returns the configured cron specs; "off" and blank
// entries name none.
func (o Options) ActiveSchedules() []string { return schedule.ActiveSpecs(o.Schedules) }

// Validate checks the [attest] options for mistakes a person can fix.
func (o Options) Validate() error {
	if _, err := schedule.ParseSpecs(o.ActiveSchedules()); err != nil {
		return fmt.Errorf("--attest.schedule: %w", err)
	}
	if o.TreeHeight < 0 || o.TreeHeight > 32 {
		return fmt.Errorf("--attest.treeheight %d is outside 0 to 32", o.TreeHeight)
	}
	if !sumtree.ValidShares(o.Shares) {
		return fmt.Errorf("--attest.shares %d is not 1, 2 or 4", o.Shares)
	}
	if o.Window < 1 || o.Window > 32 || 1<<o.Window < o.Shares {
		return fmt.Errorf("--attest.window %d is outside 1 to 32 or too small for %d shares (2^window must be at least the share count)", o.Window, o.Shares)
	}
	return nil
}
