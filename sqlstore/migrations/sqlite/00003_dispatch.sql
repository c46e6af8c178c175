-- +goose Up
-- See the PostgreSQL migration for the why of each change.
ALTER TABLE subscriptions ADD COLUMN confirm_sent_at DATETIME;
CREATE INDEX subscriptions_pending ON subscriptions (confirm_sent_at) WHERE status = 'pending';
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_event ON deliveries (event_id, id);
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT     NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE secrets;
DROP INDEX deliveries_event;
DROP INDEX deliveries_due;
DROP INDEX subscriptions_pending;
ALTER TABLE subscriptions DROP COLUMN confirm_sent_at;
