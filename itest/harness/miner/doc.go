// Package miner is the integration harness's wallet on a regtest btcd,
// which has none of its own.
//
// NewKey makes the key every block pays (btcd's --miningaddr); New returns
// a Miner for it once btcd answers. Mine generates blocks and records the
// coinbase outputs paying the key; SendOutputs spends mature, confirmed
// outputs (btcd is the source of truth for what is unspent) at a fixed fee
// rate, with change back to the key. The reorgs build and submit blocks
// itself: InvalidateBlock, ReorgDroppingTx (which double-spends one input
// of a transaction so that it is gone for good, where btcd's generate would
// confirm it again) and ReorgToMempool.
//
// Methods take a context and return errors; itest/harness wraps them for
// tests, taking a testing.TB.
package miner
