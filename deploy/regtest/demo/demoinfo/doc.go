// Package demoinfo describes what the running regtest demo publishes in its
// run directory: the file names (pids, progress.log, ready, failed,
// info.txt, demo.json, wallet.json), the demo's asset codes, and Info, the
// schema of demo.json — every address, credential file and figure a program
// needs to use the demo.
//
// The supervisor (deploy/regtest/demo) writes these files and the checker
// (deploy/regtest/demo/democheck) reads them; deploy/regtest/demo.sh reads
// the same names.
package demoinfo
