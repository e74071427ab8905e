// Command koshcli is the issuer operator's command line for koshd, in the
// spirit of lncli: one subcommand per IssuerService RPC, flags named after
// the request fields, TLS pinned to koshd's certificate, a macaroon from
// --macaroonpath, and JSON output.
//
//	koshcli createasset --code KSH --name "Kosh community token" --peg sat
//	koshcli createaccount --label alice
//	koshcli mint --asset KSH --account_id <uuid> --amount 1000
//
// The subcommands are derived from the compiled API descriptors, so every
// IssuerService RPC has one.
package main

import (
	"fmt"
	"os"

	"github.com/kosh-reserve/kosh/cli"
)

func main() {
	if err := cli.Main(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "koshcli:", err)
		os.Exit(1)
	}
}
