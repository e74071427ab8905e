-- The ledger's identity: one row, written on first start and copied into the
-- data directory (<network>/ledger.id), so that koshd notices when the two
-- no longer belong together: a lost, emptied or swapped database beside a
-- data directory that has published attestations.
CREATE TABLE ledger_identity (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
