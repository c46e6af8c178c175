-- +goose Up
-- Sign-ups (double opt-in): when the last confirmation mail went out, so a
-- second sign-up within the hour sends none and unconfirmed ones expire.
ALTER TABLE subscriptions ADD COLUMN confirm_sent_at timestamptz;
CREATE INDEX subscriptions_pending ON subscriptions (confirm_sent_at) WHERE status = 'pending';

-- The dispatcher's queue is the delivery log itself: the deliveries due
-- next, in the order they are claimed.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_event ON deliveries (event_id, id);

-- Keys the service makes for itself (the link-signing key when
-- NOTIFY_SECRET is not set), base64 text, made once and kept.
CREATE TABLE secrets (
    name       text PRIMARY KEY,
    value      text        NOT NULL,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE secrets;
DROP INDEX deliveries_event;
DROP INDEX deliveries_due;
DROP INDEX subscriptions_pending;
ALTER TABLE subscriptions DROP COLUMN confirm_sent_at;
