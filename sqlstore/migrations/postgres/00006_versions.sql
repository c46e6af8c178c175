-- +goose Up
-- version counts each analyst's and asset's writes (1 when created, one
-- more with each update): the HTTP layer's ETag, and what If-Match compares
-- in the statement that writes. Ids are never reused, so (id, version) names
-- one state of one row for good. Adding a column with a constant default
-- rewrites no rows.
ALTER TABLE analysts ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE assets ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- The responses to POSTs that carried an Idempotency-Key, kept for a day
-- so that a client's retry gets the first answer instead of a second
-- create. A key is a client's own: scoped by the principal that sent it.
-- status is NULL while the first request is still running. icy_app gets
-- DML on it by the default privileges of migration 4.
CREATE TABLE idempotency_keys (
    principal   text        NOT NULL,
    request_key text        NOT NULL,
    fingerprint bytea       NOT NULL,
    status      integer,
    header      text,
    body        bytea,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (principal, request_key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
ALTER TABLE assets DROP COLUMN version;
ALTER TABLE analysts DROP COLUMN version;
