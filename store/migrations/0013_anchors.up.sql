-- Anchor transactions (docs/proofs.md 4.14, package anchorer): each commits
-- the attestation chain to the bitcoin chain. A signed transaction is
-- stored before it is published, so that a restart publishes the same one.
-- At most one live (not dropped) anchor per attestation.
CREATE TABLE anchors (
    seq             BIGSERIAL PRIMARY KEY,
    attestation_seq BIGINT  NOT NULL REFERENCES attestations (seq),
    attestation_id  TEXT    NOT NULL,
    prev_txid       TEXT    NOT NULL,
    prev_height     BIGINT  NOT NULL,
    txid            TEXT    NOT NULL UNIQUE,
    raw_tx          BYTEA   NOT NULL,
    fee_sats        BIGINT  NOT NULL,
    vbytes          BIGINT  NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('signed', 'published', 'confirmed', 'dropped')),
    height          BIGINT  NOT NULL DEFAULT 0,
    block_hash      TEXT    NOT NULL DEFAULT '',
    trigger_name    TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE UNIQUE INDEX anchors_live_attestation_idx ON anchors (attestation_seq) WHERE state <> 'dropped';
