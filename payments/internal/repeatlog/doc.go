// Package repeatlog keeps the payments service's log readable while a
// condition lasts: lnd down, a credit waiting for the coverage gate, an
// on-chain scan failing. Each condition, named by a key, is logged when it
// starts and when it changes, then at most once per interval with the
// number of retries in between; its end is logged once. It owns no
// condition itself: callers say when one holds and when it ends.
package repeatlog
