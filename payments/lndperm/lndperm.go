// Package lndperm knows what the payments service needs of its lnd: the
// calls it makes and the macaroon permissions lnd requires for each (as of
// lnd v0.21), whether a macaroon holds them, and what an lnd error means
// (lnd refusing the macaroon, or lnd not answering).
package lndperm

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kosh-reserve/kosh/lndconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrMisconfigured means the payments lnd refuses koshd's macaroon (it lacks a
// permission, or is not this node's): nothing works until the issuer fixes
// --payments.lnd and restarts koshd.
var ErrMisconfigured = errors.New("payments misconfigured")

// ErrUnavailable means the payments lnd did not answer (or the payments
// service cannot be used now): retrying later may work. It is
// payments.ErrUnavailable.
var ErrUnavailable = errors.New("payments unavailable")

// Calls returns the lnd RPCs the payments service makes.
func Calls() []Call { return slices.Clone(calls) }

// Call is an lnd RPC the payments service makes, the macaroon permissions lnd
// requires for it (lnd's own permission map, as of v0.21) and what it is
// used for.
type Call struct {
	// Method is the gRPC method's full name.
	Method string
	// Perms are the permissions lnd requires for it.
	Perms []string
	// Use says what payments calls it for.
	Use string
}

var calls = []Call{
	{"/lnrpc.Lightning/GetInfo", []string{"info:read"}, "checking the node"},
	{"/lnrpc.Lightning/ListPermissions", []string{"info:read"}, "checking this macaroon"},
	{"/lnrpc.Lightning/AddInvoice", []string{"invoices:write"}, "deposit invoices"},
	{"/lnrpc.Lightning/LookupInvoice", []string{"invoices:read"}, "following deposit invoices"},
	{"/lnrpc.Lightning/SubscribeInvoices", []string{"invoices:read"}, "following deposit invoices"},
	{"/lnrpc.Lightning/DecodePayReq", []string{"offchain:read"}, "checking redemption invoices"},
	{"/routerrpc.Router/SendPaymentV2", []string{"offchain:write"}, "Lightning redemptions"},
	{"/routerrpc.Router/TrackPaymentV2", []string{"offchain:read"}, "following Lightning redemptions"},
	{"/lnrpc.Lightning/SendCoins", []string{"onchain:write"}, "on-chain redemptions"},
	{"/lnrpc.Lightning/GetTransactions", []string{"onchain:read"}, "following on-chain redemptions"},
}

// RequiredPermissions lists the lnd macaroon permissions the payments lnd's
// macaroon needs, sorted (admin.macaroon has them all).
func RequiredPermissions() []string {
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

// Missing lists what ops lack for the service's calls, given the
// permissions each method requires (required may leave a method out: then
// calls' list is used). A method is allowed when ops hold all of its
// permissions or lnd's per-method permission "uri:<method>".
func Missing(ops map[string]bool, required map[string][]string) []string {
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

// CheckMacaroon refuses a payments macaroon that lacks a permission the
// service needs, naming each one and what it is for. It needs no lnd: the
// permissions are written in the macaroon.
func CheckMacaroon(mac []byte) error {
	ops, err := lndconn.NewMacaroon(mac).Permissions()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMisconfigured, err)
	}
	return MissingError(Missing(ops, nil))
}

// MissingError is nil if missing is empty, else an ErrMisconfigured error
// naming each missing permission and how to bake a macaroon that has them.
func MissingError(missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: the payments lnd macaroon lacks %s; use admin.macaroon or bake one with `lncli bakemacaroon %s`",
		ErrMisconfigured, strings.Join(missing, ", "), strings.Join(RequiredPermissions(), " "))
}

// RefusesMacaroon reports whether an lnd error is lnd refusing the
// macaroon (a missing permission, a macaroon of another node, an unmet
// caveat) rather than a transient failure. lnd reports these as plain
// errors (gRPC code Unknown), so their text is all there is to go on.
func RefusesMacaroon(err error) bool {
	if err == nil || Unreachable(err) {
		return false
	}
	msg := strings.ToLower(status.Convert(err).Message())
	for _, s := range []string{"permission denied", "verification failed", "macaroon", "caveat"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Unreachable reports whether an lnd call failed for want of an answer
// (so it may have happened), rather than because lnd refused it.
func Unreachable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded:
		return true
	}
	return false
}
