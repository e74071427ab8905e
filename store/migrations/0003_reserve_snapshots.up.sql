-- The reserve monitor's history: a row whenever the live snapshot changes
-- (a new block, a new amount, a source going stale or coming back), plus a
-- heartbeat, so the picture at any past instant can be shown and audited.

CREATE TABLE reserve_snapshots (
    id         BIGSERIAL PRIMARY KEY,
    taken_at   BIGINT  NOT NULL, -- unix milliseconds
    height     BIGINT  NOT NULL, -- chain source's block height (0: no chain source)
    block_hash TEXT    NOT NULL,
    counted    BIGINT  NOT NULL CHECK (counted >= 0),
    usable     INTEGER NOT NULL CHECK (usable IN (0, 1)),
    stale      INTEGER NOT NULL CHECK (stale IN (0, 1)),
    problem    TEXT    NOT NULL,
    sources    TEXT    NOT NULL  -- JSON: per-source counted, classes, staleness
);

CREATE INDEX reserve_snapshots_taken_at_idx ON reserve_snapshots (taken_at);
