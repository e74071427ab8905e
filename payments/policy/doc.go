// Package policy holds the issuer's limits on deposits and redemptions of
// one asset (a minimum and a maximum per request, a daily sum per account)
// and the refusals they make, worded so the holder knows what would pass.
// It reads nothing: the payments service looks up an account's last 24
// hours and asks the policy about the new amount.
package policy
