package datadir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"
)

// Kind says what a path is, and so which permissions are safe for it.
type Kind int

// The kinds of paths.
const (
	// Secret is a key or credential: readable and writable by its owner
	// only (0600 or narrower). Anyone who reads an admin macaroon can
	// mint.
	Secret Kind = iota
	// Database is a database file: every balance and account is in it,
	// and writing it is editing the ledger. Owner only, as a secret.
	Database
	// Directory holds secrets: nobody but its owner may create, replace
	// or rename files in it.
	Directory
)

// Entry is one path to check.
type Entry struct {
	Path string
	Kind Kind
}

// ErrExposed is wrapped by every permission problem Check reports.
var ErrExposed = errors.New("exposed to other users")

// Check inspects every entry that exists (a missing one is not a problem:
// it will be created with the right permissions) and returns one error
// naming each exposed path, its permissions and the chmod that fixes it,
// or nil.
func Check(entries []Entry) error {
	var errs []error
	for _, e := range entries {
		st, err := os.Stat(e.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stat %s: %w", e.Path, err))
			continue
		}
		if err := checkMode(e, st.Mode()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkMode(e Entry, mode fs.FileMode) error {
	perm := mode.Perm()
	switch e.Kind {
	case Directory:
		if !mode.IsDir() {
			return fmt.Errorf("%s is not a directory", e.Path)
		}
		if perm&0o022 != 0 {
			return fmt.Errorf("%w: directory %s has permissions %04o: others can replace the secrets in it; chmod 700 %s",
				ErrExposed, e.Path, perm, e.Path)
		}
	default:
		if !mode.IsRegular() {
			return fmt.Errorf("%s is not a regular file", e.Path)
		}
		if perm&0o077 != 0 {
			what := "secret file"
			if e.Kind == Database {
				what = "database file"
			}
			return fmt.Errorf("%w: %s %s has permissions %04o; it must be readable and writable by its owner only: chmod 600 %s",
				ErrExposed, what, e.Path, perm, e.Path)
		}
	}
	return nil
}

// Watch re-checks entries every interval until ctx ends. Each check that
// finds a problem logs it as an error and reports how many paths are
// exposed to onCheck (0 once fixed), e.g. for a metric. Files exposed while
// koshd runs are not changed back: the operator decides, and a restart
// refuses them.
func Watch(ctx context.Context, entries func() []Entry, interval time.Duration, log *slog.Logger, onCheck func(exposed int)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := 0
		for _, e := range entries() {
			if err := Check([]Entry{e}); err != nil {
				n++
				log.Error("a private file of koshd's is exposed; fix it now (koshd will refuse to start like this)", "err", err)
			}
		}
		if onCheck != nil {
			onCheck(n)
		}
	}
}
