-- Assets, accounts, balances and the journal. Amounts are BIGINT base units;
-- times are Unix microseconds (BIGINT) so both engines store them alike.

CREATE TABLE assets (
    id               BIGSERIAL PRIMARY KEY,
    code             TEXT      NOT NULL UNIQUE,
    name             TEXT      NOT NULL,
    decimals         INTEGER   NOT NULL,
    peg              INTEGER   NOT NULL,
    min_coverage_bps BIGINT    NOT NULL,
    supply           BIGINT    NOT NULL DEFAULT 0 CHECK (supply >= 0),
    created_at       BIGINT    NOT NULL
);

CREATE TABLE accounts (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT      NOT NULL UNIQUE,
    label           TEXT      NOT NULL,
    idempotency_key TEXT      UNIQUE,
    created_at      BIGINT    NOT NULL
);

CREATE TABLE balances (
    account_id TEXT   NOT NULL REFERENCES accounts (id),
    asset_id   BIGINT NOT NULL REFERENCES assets (id),
    balance    BIGINT NOT NULL CHECK (balance >= 0),
    PRIMARY KEY (account_id, asset_id)
);

CREATE TABLE journal (
    seq                  BIGSERIAL PRIMARY KEY,
    kind                 INTEGER   NOT NULL,
    asset_id             BIGINT    NOT NULL REFERENCES assets (id),
    debit_account_id     TEXT      REFERENCES accounts (id),
    credit_account_id    TEXT      REFERENCES accounts (id),
    amount               BIGINT    NOT NULL CHECK (amount > 0),
    memo                 TEXT      NOT NULL,
    idem_scope           TEXT      NOT NULL,
    idem_key             TEXT      NOT NULL,
    request_hash         BYTEA     NOT NULL,
    debit_balance_after  BIGINT    NOT NULL,
    credit_balance_after BIGINT    NOT NULL,
    supply_after         BIGINT    NOT NULL,
    created_at           BIGINT    NOT NULL,
    UNIQUE (idem_scope, idem_key)
);

CREATE INDEX journal_debit_idx ON journal (debit_account_id, seq);
CREATE INDEX journal_credit_idx ON journal (credit_account_id, seq);
CREATE INDEX journal_asset_idx ON journal (asset_id, seq);
