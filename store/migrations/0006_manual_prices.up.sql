-- Manual prices (IssuerService.SetManualPrice): every set and every clear,
-- append-only, so the overrides an issuer made can be audited. The newest
-- row of a currency is the one in force; koshd restores it on start unless
-- it is a clear or has expired. A price is stored as its fixed-point
-- coefficient (decimal digits) and scale, never as a float.

CREATE TABLE manual_prices (
    seq         BIGSERIAL PRIMARY KEY,
    currency    TEXT    NOT NULL,
    cleared     INTEGER NOT NULL CHECK (cleared IN (0, 1)),
    coefficient TEXT    NOT NULL DEFAULT '', -- '' for a clear
    scale       INTEGER NOT NULL DEFAULT 0 CHECK (scale >= 0 AND scale <= 18),
    set_by      TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    set_at      BIGINT  NOT NULL, -- unix microseconds
    valid_until BIGINT  NOT NULL DEFAULT 0 -- unix microseconds; 0: until cleared
);

CREATE INDEX manual_prices_currency_idx ON manual_prices (currency, seq);
