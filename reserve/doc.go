// Package reserve knows how much bitcoin backs the token: it aggregates the
// reserve sources (the chain watcher, each Lightning node) into a live
// figure and, as the ledger's CoverageGate, refuses any mint that figure
// cannot back — fail-closed when a source is missing or silent.
package reserve
