package datadir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LedgerStore is what binding needs of the database.
type LedgerStore interface {
	// LedgerID is the identity the database was given, "" if none.
	LedgerID(ctx context.Context) (string, error)
	// BindLedgerID gives the database id unless it has an identity
	// already, and returns the one it has.
	BindLedgerID(ctx context.Context, id string, now time.Time) (string, error)
	// Empty reports whether the database holds no ledger data.
	Empty(ctx context.Context) (bool, error)
}

// Binding says where the data directory keeps its copy of the ledger
// identity and what else in it shows that it has served a ledger.
type Binding struct {
	// MarkerPath is the file holding the ledger identity
	// (<datadir>/<network>/ledger.id).
	MarkerPath string
	// AttestDir is where attestation files are published.
	AttestDir string
	// AllowNew starts a new ledger on an empty database even though the
	// directory shows an earlier one (the recovery flag), and rebinds the
	// directory to a database of another ledger.
	AllowNew bool
	Log      *slog.Logger
}

// ErrPriorLedger means the database does not belong with the data
// directory: it is empty while the directory shows an earlier ledger, or
// it is another ledger's.
var ErrPriorLedger = errors.New("the database does not belong to this data directory")

// Bind ties the data directory to the database's ledger, and refuses to
// start a second history: an empty database beside a directory that has
// published attestations or was bound to a ledger before, or a database of
// another ledger, is ErrPriorLedger unless AllowNew. A database from before
// identities (not empty, no identity) is given one. It returns the ledger
// identity.
func (b Binding) Bind(ctx context.Context, db LedgerStore) (string, error) {
	log := b.Log
	if log == nil {
		log = slog.Default()
	}
	marker, err := readMarker(b.MarkerPath)
	if err != nil {
		return "", err
	}
	dbID, err := db.LedgerID(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case dbID != "" && marker != "" && dbID != marker:
		if !b.AllowNew {
			return "", fmt.Errorf("%w: the database is ledger %s, but this data directory (%s) served ledger %s; "+
				"point koshd at that ledger's database, or start with --allownewledger to bind the directory to this one",
				ErrPriorLedger, dbID, b.MarkerPath, marker)
		}
		log.Warn("binding the data directory to another ledger's database (--allownewledger)", "was", marker, "now", dbID)
	case dbID != "":
	default:
		empty, err := db.Empty(ctx)
		if err != nil {
			return "", err
		}
		if empty {
			if err := b.refuseNew(marker, log); err != nil {
				return "", err
			}
		} else {
			log.Info("the database has no ledger identity yet (made before identities); giving it one")
		}
		id, err := newID()
		if err != nil {
			return "", err
		}
		if dbID, err = db.BindLedgerID(ctx, id, time.Now()); err != nil {
			return "", err
		}
	}
	if dbID != marker {
		if err := writeMarker(b.MarkerPath, dbID); err != nil {
			return "", err
		}
	}
	return dbID, nil
}

// refuseNew fails unless AllowNew when the directory shows an earlier
// ledger: a ledger identity or published attestation files.
func (b Binding) refuseNew(marker string, log *slog.Logger) error {
	files := attestationFiles(b.AttestDir)
	if marker == "" && len(files) == 0 {
		return nil
	}
	var shows []string
	if marker != "" {
		shows = append(shows, fmt.Sprintf("it served ledger %s (%s)", marker, b.MarkerPath))
	}
	if len(files) > 0 {
		shows = append(shows, fmt.Sprintf("it has published %d attestation files (%s, newest %s)",
			len(files), b.AttestDir, files[len(files)-1]))
	}
	if b.AllowNew {
		log.Warn("starting a new ledger over a data directory that served one (--allownewledger): "+
			"its attestation history starts again at 1, which every verifier of the old one will see as a fork",
			"evidence", strings.Join(shows, "; "))
		return nil
	}
	return fmt.Errorf("%w: the database is empty, but this data directory has served a ledger: %s. "+
		"A new ledger here would publish a second history under the same issuer key. Restore the database from a "+
		"backup (or point --db options at it); only to start over on purpose, knowing verifiers will see the old "+
		"history end, start with --allownewledger", ErrPriorLedger, strings.Join(shows, "; "))
}

// attestationFiles lists dir's published attestation files (NNNNNN-id.json),
// sorted, so the last is the newest.
func attestationFiles(dir string) []string {
	if dir == "" {
		return nil
	}
	names, _ := filepath.Glob(filepath.Join(dir, "[0-9]*-*.json"))
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Base(n)
	}
	return out
}

func readMarker(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read ledger identity %s: %w", path, err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("ledger identity file %s is empty; it should hold the ledger's id (restore it, or remove it to rebind)", path)
	}
	return id, nil
}

func writeMarker(path, id string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return fmt.Errorf("write ledger identity %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write ledger identity %s: %w", path, err)
	}
	return nil
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make a ledger identity: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
