package attestor

import (
	"fmt"
	"time"

	"github.com/kosh-reserve/kosh/schedule"
)

// Options is the [attest] option group: when attestations are made,
// where their files go and the key that signs them.
type Options struct {
	Schedules  []string      `long:"schedule" description:"When to publish an attestation, as a cron spec (repeatable; 5 fields such as \"0 * * * *\", or @hourly, @daily, \"@every 1m\"); \"off\" publishes only on demand (koshcli attest)"`
	Dir        string        `long:"dir" description:"Directory that receives every attestation as <seq>-<id>.json and latest.json, a static file set to mirror (default <datadir>/<network>/attestations)"`
	KeyFile    string        `long:"keyfile" description:"The issuer's attestation signing key, created 0600 on first start (default <datadir>/<network>/attestation.key); back it up: its public key is the issuer's identity"`
	TreeHeight int           `long:"treeheight" description:"Fixed liability tree height, so every proof has the same length (e.g. 24 for 2^24 leaves); 0 picks the smallest of 16, 20, 24, 28, 32 that holds every account. Attestations state the exact account count either way"`
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
	return nil
}
