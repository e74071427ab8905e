-- Anchors bumped by replacement (BIP 125): the txids of the transactions an
-- anchor's current one replaced, space-separated, oldest first. Any of them
-- may still be the one that confirms; koshd then adopts it.
ALTER TABLE anchors ADD COLUMN replaced TEXT NOT NULL DEFAULT '';
