// Package lndperm knows what the payments service needs of its lnd: the
// calls it makes and the macaroon permissions lnd requires for each (as of
// lnd v0.21), whether a macaroon holds them, and what an lnd error means
// (lnd refusing the macaroon, or lnd not answering).
package lndperm

import (
	"errors"
	"fmt"
	"slices"
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

// Call is an lnd RPC the payments service makes (lndconn.Call).
type Call = lndconn.Call

var calls = []Call{
	{Method: "/lnrpc.Lightning/GetInfo", Perms: []string{"info:read"}, Use: "checking the node"},
	{Method: "/lnrpc.Lightning/ListPermissions", Perms: []string{"info:read"}, Use: "checking this macaroon"},
	{Method: "/lnrpc.Lightning/AddInvoice", Perms: []string{"invoices:write"}, Use: "deposit invoices"},
	{Method: "/lnrpc.Lightning/LookupInvoice", Perms: []string{"invoices:read"}, Use: "following deposit invoices"},
	{Method: "/lnrpc.Lightning/SubscribeInvoices", Perms: []string{"invoices:read"}, Use: "following deposit invoices"},
	{Method: "/lnrpc.Lightning/DecodePayReq", Perms: []string{"offchain:read"}, Use: "checking redemption invoices"},
	{Method: "/routerrpc.Router/SendPaymentV2", Perms: []string{"offchain:write"}, Use: "Lightning redemptions"},
	{Method: "/routerrpc.Router/TrackPaymentV2", Perms: []string{"offchain:read"}, Use: "following Lightning redemptions"},
	{Method: "/lnrpc.Lightning/SendCoins", Perms: []string{"onchain:write"}, Use: "on-chain redemptions"},
	{Method: "/lnrpc.Lightning/GetTransactions", Perms: []string{"onchain:read"}, Use: "following on-chain redemptions"},
}

// RequiredPermissions lists the lnd macaroon permissions the payments lnd's
// macaroon needs, sorted (admin.macaroon has them all).
func RequiredPermissions() []string { return lndconn.Permissions(calls) }

// Missing lists what ops lack for the service's calls, given the
// permissions each method requires (required may leave a method out: then
// calls' list is used); see lndconn.Missing.
func Missing(ops map[string]bool, required map[string][]string) []string {
	return lndconn.Missing(ops, calls, required)
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
