-- Published attestations, hash-chained by prev_id, and the per-account
-- balances each one froze, from which inclusion proofs are rebuilt. seed is
-- the secret the leaf salts and the leaf order derive from: it never leaves
-- koshd except as one account's salt, to that account's holder.

CREATE TABLE attestations (
    seq        BIGINT  PRIMARY KEY CHECK (seq >= 1),
    id         TEXT    NOT NULL UNIQUE,
    prev_id    TEXT    NOT NULL,
    height     BIGINT  NOT NULL,
    block_hash TEXT    NOT NULL,
    created_at BIGINT  NOT NULL, -- unix milliseconds
    stale      INTEGER NOT NULL CHECK (stale IN (0, 1)),
    cutoff_seq BIGINT  NOT NULL, -- last journal sequence included
    seed       BYTEA   NOT NULL,
    document   TEXT    NOT NULL
);

CREATE TABLE attestation_balances (
    attestation_seq BIGINT NOT NULL REFERENCES attestations (seq),
    asset           TEXT   NOT NULL,
    account_id      TEXT   NOT NULL,
    balance         BIGINT NOT NULL CHECK (balance >= 0),
    PRIMARY KEY (attestation_seq, asset, account_id)
);

-- Fiat-pegged assets (e.g. INR in paise): the ISO 4217 currency a base unit
-- is denominated in ('' for sat-pegged), and the coverage below which a
-- warning is raised while minting is still allowed (0: none).
ALTER TABLE assets ADD COLUMN currency TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN warn_coverage_bps BIGINT NOT NULL DEFAULT 0;
