-- The leader lease (package leader, docs/deployment.md): the one row that
-- several koshd sharing a PostgreSQL database compete for. holder is the
-- elector's id ('' when released), token the fencing token that rises on
-- every new tenure, ttl_ms the holder's lease length (a fenced transaction
-- may stay idle that long), expires_at the end of the lease by the
-- database's clock. SQLite creates the row too but never uses it: one koshd
-- owns a SQLite file and is always the leader.
CREATE TABLE leader_lease (
    id         INTEGER     PRIMARY KEY CHECK (id = 1),
    holder     TEXT        NOT NULL DEFAULT '',
    token      BIGINT      NOT NULL DEFAULT 0,
    ttl_ms     BIGINT      NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00'
);

INSERT INTO leader_lease (id) VALUES (1);
