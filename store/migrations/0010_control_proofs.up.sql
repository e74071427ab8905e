-- Proofs of control over reserve outputs (BIP-127 transactions,
-- docs/proofs.md 4.12): each proof with its challenge block and the outputs
-- its inputs spend, and the newest proof naming each outpoint.
CREATE TABLE control_proofs (
    id            BIGSERIAL PRIMARY KEY,
    height        BIGINT NOT NULL,
    block_hash    TEXT   NOT NULL,
    tx            BYTEA  NOT NULL,
    prevouts      BYTEA  NOT NULL,
    source        TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE control_outputs (
    outpoint TEXT   PRIMARY KEY,
    proof_id BIGINT NOT NULL REFERENCES control_proofs (id),
    height   BIGINT NOT NULL
);

CREATE INDEX control_outputs_proof_idx ON control_outputs (proof_id);
