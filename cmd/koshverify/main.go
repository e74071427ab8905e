// Command koshverify checks Kosh attestations, holders' inclusion proofs and
// balance receipts without trusting Kosh: it imports only the verification
// code in proofs/ (and its own nodeclient, over rpcclient and net/http, to
// ask the user's own btcd or bitcoind about the attested reserves). It exits 0 only when every check holds and
// prints each failure as one plain sentence. Run "koshverify -h" for usage;
// docs/proofs.md specifies what is checked.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
