-- Issuer-held accounts (docs/proofs.md 4.15): accounts the issuer itself
-- holds, such as the payments escrow, which no holder checks. Every
-- attestation publishes each one's balances by name, with inclusion proofs.
-- A flag the ledger sets when koshd opens such an account
-- (ledger.CreateIssuerAccount); an account opened for a holder never has it.
ALTER TABLE accounts ADD COLUMN issuer_held INTEGER NOT NULL DEFAULT 0 CHECK (issuer_held IN (0, 1));

-- The one issuer-held account koshd opened before the flag existed: the
-- payments escrow (payments.escrowKey and escrowLabel).
UPDATE accounts SET issuer_held = 1
    WHERE idempotency_key = 'kosh-payments-escrow'
      AND label = 'kosh payments escrow (redemptions in progress)';
