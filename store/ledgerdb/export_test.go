package ledgerdb

import (
	"context"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// QReadRun is qReadRun, for the plan test.
const QReadRun = qReadRun

// BackendPID returns the PostgreSQL backend a write transaction runs on.
func BackendPID(ctx context.Context, t ledgerrec.Tx) (int, error) {
	var pid int
	err := t.(pgTx).st.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
	return pid, err
}

// QWriteBatch is qWriteBatch, for the plan test.
const QWriteBatch = qWriteBatch
