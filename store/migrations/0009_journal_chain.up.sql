-- Each journal entry's chain hash: a tagged SHA-256 of the previous entry's
-- chain hash and this entry's fields (package ledger, journalchain.go), so
-- that an entry edited, deleted or reordered in the database outside koshd
-- breaks the chain, and an attestation refuses to sign such a history.
-- Entries written before this migration are sealed by koshd at its next start.
ALTER TABLE journal ADD COLUMN chain_hash BYTEA;
