// Package benchkosh runs an in-process koshd for the benchmark commands
// under bench/: on loopback listeners, with a synthetic reserve source so
// that mints pass the coverage gate, and with admin gRPC connections that
// send the admin macaroon as koshcli does. It seeds an asset and accounts
// with a starting balance each.
//
// It is a benchmark harness, not a deployment: the synthetic source reports
// an enormous figure and nothing here proves any reserve. What a benchmark
// measures, and how it configures koshd beyond the loopback defaults, stays
// in that benchmark's command.
package benchkosh
