-- +goose Up
-- The cache invalidation's cursor over the outbox (sqlstore/invalidation.go):
-- how far the CDN's invalidations have read the events, the ids it passed
-- that were not committed yet (gaps), and the lease of the one consumer that
-- moves it. One row, written only by a consumer, which runs only when a CDN
-- is configured: without one it stays as created here. high -1: never read.
-- icy_app gets DML on it by the default privileges of migration 4.
CREATE TABLE cdn_invalidation (
    id           integer PRIMARY KEY CONSTRAINT cdn_invalidation_one_row CHECK (id = 1),
    epoch        text        NOT NULL,
    high         bigint      NOT NULL,
    gaps         text        NOT NULL, -- JSON: [{"id": 12, "since": "..."}]
    last_sent_at timestamptz,
    lease_token  text,
    lease_until  timestamptz,
    again        boolean     NOT NULL,
    -- The paths invalidated on budget_day (UTC, YYYY-MM-DD): CloudFront
    -- bills each path past the month's first thousand, so a day has a budget.
    budget_day   text        NOT NULL DEFAULT '',
    budget_paths integer     NOT NULL DEFAULT 0
);
INSERT INTO cdn_invalidation (id, epoch, high, gaps, again)
VALUES (1, md5(random()::text || clock_timestamp()::text), -1, '[]', false);

-- +goose Down
-- Analysts' events are kept: they were fanned out when recorded, to nobody.
DROP TABLE cdn_invalidation;
