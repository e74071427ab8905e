package leader

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kosh-reserve/kosh/store"
)

// ErrNotLeader means the lease no longer carries the caller's fencing token,
// or has expired: another process leads, or none does, and a leader-only
// write must not be made.
var ErrNotLeader = errors.New("not the leader")

// sqliteToken is the token of the one koshd that owns a SQLite database.
const sqliteToken = 1

// The lease statements (see doc.go). Durations are passed in milliseconds.
const (
	// qAcquire takes a free or expired lease and starts a new tenure. The
	// subquery locks the row FOR UPDATE, which waits for every open fenced
	// transaction (FOR KEY SHARE) and for a concurrent acquisition, and
	// then re-checks its condition on the newest version of the row.
	qAcquire = `UPDATE leader_lease
		SET holder = $1, token = token + 1, ttl_ms = $2,
		    expires_at = clock_timestamp() + $2::bigint * interval '1 millisecond'
		WHERE id = (SELECT id FROM leader_lease
		            WHERE id = 1 AND (holder = '' OR expires_at <= clock_timestamp())
		            FOR UPDATE)
		RETURNING token`
	// qRenew extends our own lease. It changes no key column, so its row
	// lock (FOR NO KEY UPDATE) does not wait for fenced transactions.
	qRenew = `UPDATE leader_lease
		SET ttl_ms = $3, expires_at = clock_timestamp() + $3::bigint * interval '1 millisecond'
		WHERE id = 1 AND holder = $1 AND token = $2
		RETURNING token`
	// qRelease gives our lease up at once.
	qRelease = `UPDATE leader_lease
		SET holder = '', expires_at = clock_timestamp()
		WHERE id = 1 AND holder = $1 AND token = $2`
	// qCheck is the fence; the set_config bounds how long a paused
	// transaction can keep the share lock (see doc.go).
	qCheck = `SELECT set_config('idle_in_transaction_session_timeout', ttl_ms::text, true)
		FROM leader_lease
		WHERE id = 1 AND token = $1 AND expires_at > clock_timestamp()
		FOR KEY SHARE`
	// qCurrent reads the lease as it stands.
	qCurrent = `SELECT holder, token, expires_at > clock_timestamp(),
		       CAST(EXTRACT(EPOCH FROM (expires_at - clock_timestamp())) * 1000 AS BIGINT)
		FROM leader_lease WHERE id = 1`
)

// Check fails with ErrNotLeader unless the lease still carries token and has
// not expired. A leader-only write calls it inside its own write transaction
// (store.DB.Write), before or after its writes: the row lock it takes lasts
// until the transaction ends, so no other process can take the lease over
// before the write commits (see the package documentation). On SQLite it
// accepts token 1 only.
func Check(ctx context.Context, tx *store.Tx, token int64) error {
	if tx.Backend() == store.SQLite {
		if token != sqliteToken {
			return fmt.Errorf("check lease token %d: %w (a SQLite koshd leads with token %d)", token, ErrNotLeader, sqliteToken)
		}
		return nil
	}
	var setting string
	err := tx.QueryRow(ctx, qCheck, token).Scan(&setting)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check lease token %d: %w (the lease has a newer token or has expired)", token, ErrNotLeader)
	}
	if err != nil {
		return fmt.Errorf("check lease token %d: %w", token, err)
	}
	return nil
}

// Lease is the lease as the database holds it.
type Lease struct {
	// Holder is the id of the process that holds or last held the lease;
	// empty when it was released or never taken.
	Holder string
	// Token is the fencing token of the current or last tenure (0 before
	// the first).
	Token int64
	// Valid reports whether the lease has not expired, by the database's
	// clock.
	Valid bool
	// Remaining is the time left until it expires (negative once it has).
	Remaining time.Duration
}

// Current reads the lease from db, for status pages and tests. On SQLite it
// reports token 1, always valid, with no holder id.
func Current(ctx context.Context, db *store.DB) (Lease, error) {
	if db.Backend() == store.SQLite {
		return Lease{Token: sqliteToken, Valid: true}, nil
	}
	var (
		l  Lease
		ms int64
	)
	err := db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, qCurrent).Scan(&l.Holder, &l.Token, &l.Valid, &ms)
	})
	if err != nil {
		return Lease{}, fmt.Errorf("read the leader lease: %w", err)
	}
	l.Remaining = time.Duration(ms) * time.Millisecond
	return l, nil
}

// acquire takes a free or expired lease for id; it returns the new token, or
// store.ErrNoChange if the lease is held by someone.
func acquire(ctx context.Context, db *store.DB, id string, ttl time.Duration) (int64, error) {
	return leaseUpdate(ctx, db, qAcquire, id, ttl.Milliseconds())
}

// renew extends id's lease with token; store.ErrNoChange means the lease is
// no longer ours.
func renew(ctx context.Context, db *store.DB, id string, token int64, ttl time.Duration) error {
	_, err := leaseUpdate(ctx, db, qRenew, id, token, ttl.Milliseconds())
	return err
}

func leaseUpdate(ctx context.Context, db *store.DB, q string, args ...any) (int64, error) {
	var token int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, q, args...).Scan(&token)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNoChange
		}
		return err
	})
	return token, err
}

// release gives id's lease with token up; it is a no-op if the lease is no
// longer ours.
func release(ctx context.Context, db *store.DB, id string, token int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, qRelease, id, token)
		return err
	})
}
