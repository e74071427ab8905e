// Package democheck is `kosh-demo check` (make demo-check): it checks the
// running regtest demo from the outside, as a user would.
//
// It reads the demo's demo.json (package demoinfo), loads the public page
// in headless Chromium and asserts that it shows both assets backed and that
// the in-browser verification turns green with no console error, then
// downloads the attestation the page links to, pinned to koshd's
// certificate, and runs koshverify on it against the demo's btcd and lnd.
// It starts nothing and changes nothing.
package democheck
