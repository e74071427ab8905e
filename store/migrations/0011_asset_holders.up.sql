-- How many accounts hold a positive balance of each asset, kept up to date
-- by the statements that change balances (Credit and Debit, in the same
-- transaction), so that the public page reads one row per asset instead of
-- counting balances. GetSupply still counts them and reports a mismatch as
-- an inconsistency. Existing balances are counted once here.
ALTER TABLE assets ADD COLUMN holders BIGINT NOT NULL DEFAULT 0 CHECK (holders >= 0);
UPDATE assets SET holders = (SELECT COUNT(*) FROM balances b WHERE b.asset_id = assets.id AND b.balance > 0);
