package attest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func addVectorSeeds(f *testing.F) {
	for _, dir := range []string{"chain", "invalid"} {
		names, _ := filepath.Glob(filepath.Join(vectorDir, dir, "*.json"))
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil {
				f.Add(b)
			}
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts re-encodes to the
// same bytes and hashes.
func FuzzParse(f *testing.F) {
	addVectorSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil {
			return
		}
		again, err := a.Marshal()
		if err != nil {
			t.Fatalf("accepted document does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted document re-encodes differently")
		}
		if _, err := a.Hash(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzVerify: verification never panics, and a document that verifies
// still verifies after a round trip.
func FuzzVerify(f *testing.F) {
	addVectorSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := VerifyDocument(b)
		if err != nil {
			return
		}
		again, _ := a.Marshal()
		if _, err := VerifyDocument(again); err != nil {
			t.Fatalf("verified document fails after a round trip: %v", err)
		}
	})
}

// FuzzBundle: bundle parsing and verification against a fixed attestation
// never panic, and a bundle that verifies is the holder's own.
func FuzzBundle(f *testing.F) {
	for _, n := range []string{"bundle.json"} {
		if b, err := os.ReadFile(filepath.Join(vectorDir, n)); err == nil {
			f.Add(b)
		}
	}
	latest, err := os.ReadFile(filepath.Join(vectorDir, "latest.json"))
	if err != nil {
		f.Fatal(err)
	}
	a, err := Parse(latest)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseBundle(b)
		if err != nil {
			return
		}
		if VerifyBundle(a, x) == nil {
			// Only real leaves verify: the account must be one of the
			// fixture's, at its balance.
			found := false
			for _, acct := range fixtureAccounts[x.Asset] {
				if acct.ID == x.Account && int64(acct.Balance) == int64(x.Balance) {
					found = true
				}
			}
			if !found {
				t.Fatalf("bundle for %s/%s with balance %d verifies", x.Asset, x.Account, x.Balance)
			}
		}
	})
}

// FuzzReceipt: receipt parsing and verification never panic.
func FuzzReceipt(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join(vectorDir, "receipt*.json"))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			return
		}
		_ = r.Verify("")
	})
}
