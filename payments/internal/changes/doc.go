// Package changes lets the payments service's callers wait for a
// redemption to move instead of polling the store: payments signals a key
// (a redemption id) when it writes its state or stops driving it, or every
// key at once when it stops taking work, and each waiter re-reads what it
// waits for. It knows nothing of redemptions: keys are opaque strings.
package changes
