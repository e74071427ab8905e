package itest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
)

// electrum is Debian's Electrum (itest/install-electrum.sh installs it):
// a signer Kosh did not write. Under CI=true a missing Electrum fails the
// test instead of skipping it.
func electrum(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("electrum")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("electrum is not installed (run itest/install-electrum.sh): %v", err)
		}
		t.Skip("electrum is not installed (itest/install-electrum.sh)")
	}
	return p
}

// vprvVersion is the version of a BIP-84 testnet/regtest extended private
// key ("vprv"): Electrum restores a P2WPKH wallet from it.
var vprvVersion = []byte{0x04, 0x5f, 0x18, 0xbc}

// electrumSign restores master into a fresh offline Electrum regtest wallet
// (as an operator restores a cold key on an air-gapped machine) and has it
// sign psbt (base64). It returns what Electrum prints: a PSBT when it could
// not sign every input, else the final transaction in hex.
func electrumSign(t testing.TB, master *hdkeychain.ExtendedKey, psbt string) string {
	t.Helper()
	bin := electrum(t)
	key, err := master.CloneWithVersion(vprvVersion)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--regtest", "--offline", "-D", dir}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("electrum %s: %v\n%s%s", args[0], err, out.String(), errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
	run("restore", key.String())
	wallet := filepath.Join(dir, "regtest", "wallets", "default_wallet")
	return run("-w", wallet, "signtransaction", psbt)
}
