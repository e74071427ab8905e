-- The chain watcher's state: the blocks it has processed (for reorg
-- detection and resuming), the outputs it watches, and how far each ranged
-- descriptor has been used.

CREATE TABLE chain_blocks (
    height BIGINT PRIMARY KEY,
    hash   TEXT   NOT NULL
);

CREATE TABLE chain_utxos (
    txid             TEXT    NOT NULL,
    vout             INTEGER NOT NULL,
    value            BIGINT  NOT NULL CHECK (value >= 0),
    pk_script        BYTEA   NOT NULL,
    descriptor       TEXT    NOT NULL,
    derivation_index BIGINT  NOT NULL,
    height           BIGINT  NOT NULL,
    block_hash       TEXT    NOT NULL,
    spent_txid       TEXT,
    spent_height     BIGINT,
    spent_block_hash TEXT,
    PRIMARY KEY (txid, vout)
);

CREATE INDEX chain_utxos_height_idx ON chain_utxos (height);
CREATE INDEX chain_utxos_spent_height_idx ON chain_utxos (spent_height);

CREATE TABLE chain_descriptors (
    descriptor TEXT   PRIMARY KEY,
    next_index BIGINT NOT NULL
);
