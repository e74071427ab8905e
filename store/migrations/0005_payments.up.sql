-- Deposits and redemptions (package payments). Every state change of a
-- deposit or redemption is a row update in the same database as the ledger;
-- the ledger entries they cause carry idempotency keys derived from these
-- rows (payment hash, outpoint, redemption id), so a crash between the
-- ledger write and the state update is repaired by replaying the entry.

CREATE TABLE payment_deposits (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    account_id       TEXT    NOT NULL REFERENCES accounts (id),
    asset            TEXT    NOT NULL,
    method           INTEGER NOT NULL CHECK (method IN (1, 2)),
    state            TEXT    NOT NULL,
    amount           BIGINT  NOT NULL CHECK (amount >= 0),
    credited         BIGINT  NOT NULL DEFAULT 0 CHECK (credited >= 0),
    memo             TEXT    NOT NULL DEFAULT '',
    payment_hash     TEXT    UNIQUE,
    payment_request  TEXT    NOT NULL DEFAULT '',
    address          TEXT    UNIQUE,
    descriptor       TEXT    NOT NULL DEFAULT '',
    derivation_index BIGINT  NOT NULL DEFAULT -1,
    idem_key         TEXT,
    expires_at       BIGINT  NOT NULL DEFAULT 0, -- unix microseconds
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    UNIQUE (account_id, idem_key)
);

CREATE INDEX payment_deposits_open_idx ON payment_deposits (method, state);
CREATE INDEX payment_deposits_account_idx ON payment_deposits (account_id, seq);

-- On-chain outputs credited to a deposit; state 'credited' or 'reorged'
-- (credited, then its block left the best chain: flagged).
CREATE TABLE payment_deposit_outputs (
    txid        TEXT    NOT NULL,
    vout        INTEGER NOT NULL,
    deposit_id  TEXT    NOT NULL REFERENCES payment_deposits (id),
    amount      BIGINT  NOT NULL CHECK (amount > 0),
    height      BIGINT  NOT NULL,
    state       TEXT    NOT NULL,
    credited_at BIGINT  NOT NULL,
    flagged_at  BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (txid, vout)
);

CREATE TABLE payment_redemptions (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    account_id      TEXT    NOT NULL REFERENCES accounts (id),
    asset           TEXT    NOT NULL,
    method          INTEGER NOT NULL CHECK (method IN (1, 2)),
    state           TEXT    NOT NULL,
    amount          BIGINT  NOT NULL CHECK (amount > 0),
    fee_limit       BIGINT  NOT NULL CHECK (fee_limit >= 0),
    fee_paid        BIGINT  NOT NULL DEFAULT 0,
    payment_request TEXT    NOT NULL DEFAULT '',
    payment_hash    TEXT    UNIQUE,
    preimage        TEXT    NOT NULL DEFAULT '',
    address         TEXT    NOT NULL DEFAULT '',
    sat_per_vbyte   BIGINT  NOT NULL DEFAULT 0,
    txid            TEXT    NOT NULL DEFAULT '',
    failure         TEXT    NOT NULL DEFAULT '',
    idem_key        TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (account_id, idem_key)
);

CREATE INDEX payment_redemptions_state_idx ON payment_redemptions (state);
CREATE INDEX payment_redemptions_account_idx ON payment_redemptions (account_id, seq);

-- Named counters: the invoice subscription's add/settle indexes and the
-- next derivation index of each deposit descriptor.
CREATE TABLE payment_cursors (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);
