-- Version 3 attestations (docs/proofs.md 3.15) commit, in every leaf, to
-- the account's last journal entry at the cut-off; koshd keeps it beside
-- the frozen balance so the tree can be rebuilt for proofs. Rows of older
-- attestations keep 0, which their version 1 trees do not use.
ALTER TABLE attestation_balances ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
