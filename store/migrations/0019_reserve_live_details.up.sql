-- The leader's reserve details for the followers: the chain watcher's
-- unspent outputs and each lnd node's last report (channels, wallet
-- outputs), which GetReserves and the public reserve page list. Only the
-- leader polls the sources, so without this a follower's page showed the
-- figures but no outputs or channels. The details can be large, so the
-- leader rewrites them only when they change (package reserve, live.go),
-- and details_version counts the rewrites: a follower reads the text only
-- when the version moved. SQLite adds the columns but never uses them.
ALTER TABLE reserve_live ADD COLUMN details TEXT NOT NULL DEFAULT '';
ALTER TABLE reserve_live ADD COLUMN details_version BIGINT NOT NULL DEFAULT 0;
