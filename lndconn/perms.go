package lndconn

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Call is an lnd RPC a koshd service makes, the macaroon permissions lnd
// requires for it (lnd's own permission map, as of v0.21) and what it is
// used for.
type Call struct {
	// Method is the gRPC method's full name.
	Method string
	// Perms are the permissions lnd requires for it.
	Perms []string
	// Use says what the service calls it for.
	Use string
}

// Permissions lists the permissions calls need, sorted and distinct: what
// `lncli bakemacaroon` is given for a macaroon that can make them all.
func Permissions(calls []Call) []string {
	var out []string
	for _, c := range calls {
		for _, p := range c.Perms {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Missing lists what a macaroon holding ops lacks for calls, one entry per
// permission and method ("onchain:write (FundPsbt: anchors)"). required
// overrides a method's permissions (lnd's answer to ListPermissions); a
// method is allowed when ops hold all of its permissions or lnd's
// per-method permission "uri:<method>".
func Missing(ops map[string]bool, calls []Call, required map[string][]string) []string {
	var missing []string
	for _, c := range calls {
		perms, ok := required[c.Method]
		if !ok {
			perms = c.Perms
		}
		if ops["uri:"+c.Method] {
			continue
		}
		for _, p := range perms {
			if !ops[p] {
				missing = append(missing, fmt.Sprintf("%s (%s: %s)", p, c.Method[strings.LastIndexByte(c.Method, '/')+1:], c.Use))
			}
		}
	}
	return missing
}
