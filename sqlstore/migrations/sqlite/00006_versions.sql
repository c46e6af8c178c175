-- +goose Up
-- See the PostgreSQL migration for the why.
ALTER TABLE analysts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE assets ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE idempotency_keys (
    principal   TEXT     NOT NULL,
    request_key TEXT     NOT NULL,
    fingerprint BLOB     NOT NULL,
    status      INTEGER,
    header      TEXT,
    body        BLOB,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    PRIMARY KEY (principal, request_key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
ALTER TABLE assets DROP COLUMN version;
ALTER TABLE analysts DROP COLUMN version;
