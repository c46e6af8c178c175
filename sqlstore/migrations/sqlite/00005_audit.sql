-- +goose Up
-- See the PostgreSQL migration for the why. SQLite adds and drops one
-- column per statement.
ALTER TABLE analysts ADD COLUMN created_by TEXT;
ALTER TABLE analysts ADD COLUMN updated_by TEXT;
ALTER TABLE assets ADD COLUMN created_by TEXT;
ALTER TABLE assets ADD COLUMN updated_by TEXT;

-- +goose Down
ALTER TABLE assets DROP COLUMN updated_by;
ALTER TABLE assets DROP COLUMN created_by;
ALTER TABLE analysts DROP COLUMN updated_by;
ALTER TABLE analysts DROP COLUMN created_by;
