package ledgerdb

import (
	"context"

	"github.com/kosh-reserve/kosh/ledger/ledgerrec"
)

// The batch statements, for the plan test.
const (
	QReadRun    = qReadRun
	QWriteBatch = qWriteBatch
)

// BackendPID returns the PostgreSQL backend a write transaction runs on.
func BackendPID(ctx context.Context, t ledgerrec.Tx) (int, error) {
	var pid int
	err := t.(pgTx).st.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
	return pid, err
}
