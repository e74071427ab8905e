-- Redemptions of fiat-pegged assets: the asset units the payout costs the
-- holder, converted from its sats at the latest attested price, and that
-- price. For a sat-pegged asset units = amount + fee_limit and price is
-- empty. Rows made before this migration have units 0: amount + fee_limit.
ALTER TABLE payment_redemptions ADD COLUMN units BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_redemptions ADD COLUMN price TEXT NOT NULL DEFAULT '';
