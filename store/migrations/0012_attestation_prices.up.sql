-- The price of one bitcoin in each currency an attestation states
-- (coefficient / 10^scale units), stored with the attestation in the same
-- transaction, so that fiat-pegged redemptions are paid at the attested
-- price without parsing the signed document. Attestations stored before
-- this table existed get their newest one's prices filled in by koshd at
-- start, from the document.
CREATE TABLE attestation_prices (
    attestation_seq BIGINT  NOT NULL REFERENCES attestations (seq),
    currency        TEXT    NOT NULL,
    coefficient     TEXT    NOT NULL,
    scale           INTEGER NOT NULL CHECK (scale >= 0 AND scale <= 18),
    PRIMARY KEY (attestation_seq, currency)
);
