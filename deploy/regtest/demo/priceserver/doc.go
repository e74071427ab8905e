// Package priceserver stands in for three exchanges in the regtest demo: a
// loopback HTTP server quoting one BTC/INR price in three JSON shapes
// (a string, a nested number, an integer in paise), within a few basis
// points of each other, so that koshd's oracle agrees a live price from
// them. OracleArgs gives koshd the --oracle.* flags that poll them.
package priceserver
