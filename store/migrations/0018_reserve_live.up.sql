-- The leader's live reserve picture (package reserve, live.go), for the
-- followers among several koshd sharing a PostgreSQL database: only the
-- leader polls the reserve sources, and it rewrites this one row every
-- second with each source's figures and how long ago it last reported.
-- written_at is the database's clock at the write, so a follower ages the
-- figures by the database's clock too, and refuses mints when a source is
-- stale exactly as the leader would. token is the leader's fencing token.
-- SQLite creates the row but never uses it: one koshd owns a SQLite file.
CREATE TABLE reserve_live (
    id         INTEGER     PRIMARY KEY CHECK (id = 1),
    token      BIGINT      NOT NULL DEFAULT 0,
    written_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    sources    TEXT        NOT NULL DEFAULT '[]'
);

INSERT INTO reserve_live (id) VALUES (1);
