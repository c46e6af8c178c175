-- +goose Up
-- See the PostgreSQL migration for the why.
CREATE TABLE cdn_invalidation (
    id           INTEGER PRIMARY KEY CONSTRAINT cdn_invalidation_one_row CHECK (id = 1),
    epoch        TEXT     NOT NULL,
    high         INTEGER  NOT NULL,
    gaps         TEXT     NOT NULL,
    last_sent_at DATETIME,
    lease_token  TEXT,
    lease_until  DATETIME,
    again        BOOLEAN  NOT NULL,
    budget_day   TEXT     NOT NULL DEFAULT '',
    budget_paths INTEGER  NOT NULL DEFAULT 0
);
INSERT INTO cdn_invalidation (id, epoch, high, gaps, again)
VALUES (1, lower(hex(randomblob(16))), -1, '[]', 0);

-- +goose Down
DROP TABLE cdn_invalidation;
