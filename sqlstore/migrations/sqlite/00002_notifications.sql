-- +goose Up
-- See the PostgreSQL migration for the why of each table. SQLite cannot
-- drop the old UNIQUE (email, topic), so subscriptions is rebuilt, keeping
-- its ids and its AUTOINCREMENT counter (ids of deleted rows stay unused).
CREATE TABLE subscriptions_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    email        TEXT     NOT NULL,
    topic        TEXT     NOT NULL,
    analyst_id   INTEGER,
    status       TEXT     NOT NULL
        CONSTRAINT subscriptions_status CHECK (status IN ('pending', 'active', 'unsubscribed', 'suppressed')),
    confirmed_at DATETIME,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
INSERT INTO subscriptions_new (id, email, topic, analyst_id, status, confirmed_at, created_at, updated_at)
SELECT id, email, topic, NULL, 'active', created_at, created_at, updated_at FROM subscriptions;
DELETE FROM sqlite_sequence WHERE name = 'subscriptions_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'subscriptions_new', seq FROM sqlite_sequence WHERE name = 'subscriptions';
DROP TABLE subscriptions;
ALTER TABLE subscriptions_new RENAME TO subscriptions;

CREATE UNIQUE INDEX subscriptions_email_topic_analyst ON subscriptions (email, topic, coalesce(analyst_id, 0));
CREATE INDEX subscriptions_status_id ON subscriptions (status, id);
CREATE INDEX subscriptions_fan_out ON subscriptions (topic, analyst_id) WHERE status = 'active';

CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    topic         TEXT     NOT NULL,
    asset_id      INTEGER  NOT NULL,
    analyst_id    INTEGER  NOT NULL,
    asset         TEXT     NOT NULL, -- JSON
    occurred_at   DATETIME NOT NULL,
    fanned_out_at DATETIME
);
CREATE INDEX events_pending ON events (id) WHERE fanned_out_at IS NULL;

CREATE TABLE deliveries (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id            INTEGER  NOT NULL REFERENCES events (id),
    subscription_id     INTEGER  NOT NULL REFERENCES subscriptions (id),
    status              TEXT     NOT NULL
        CONSTRAINT deliveries_status CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'suppressed')),
    attempts            INTEGER  NOT NULL,
    last_error          TEXT,
    provider_message_id TEXT,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL,
    next_attempt_at     DATETIME NOT NULL,
    sent_at             DATETIME,
    CONSTRAINT deliveries_event_subscription UNIQUE (event_id, subscription_id)
);
CREATE INDEX deliveries_status_id ON deliveries (status, id);

-- +goose Down
-- The schema before held only active subscriptions to asset::creation for
-- every analyst: the others are deleted.
DROP TABLE deliveries;
DROP TABLE events;
CREATE TABLE subscriptions_old (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT     NOT NULL,
    topic      TEXT     NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT subscriptions_email_topic UNIQUE (email, topic)
);
INSERT INTO subscriptions_old (id, email, topic, created_at, updated_at)
SELECT id, email, topic, created_at, updated_at FROM subscriptions
WHERE status = 'active' AND analyst_id IS NULL AND topic = 'asset::creation';
DELETE FROM sqlite_sequence WHERE name = 'subscriptions_old';
INSERT INTO sqlite_sequence (name, seq) SELECT 'subscriptions_old', seq FROM sqlite_sequence WHERE name = 'subscriptions';
DROP TABLE subscriptions;
ALTER TABLE subscriptions_old RENAME TO subscriptions;
