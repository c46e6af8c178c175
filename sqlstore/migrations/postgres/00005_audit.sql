-- +goose Up
-- Who did it: the principal (a Basic user name or a token's sub) that
-- created each analyst and asset, and the one that last changed it. NULL
-- for rows written before this migration and for rows written without a
-- principal (seeds, tests, the CLI). Not part of the API's bodies.
-- New columns of tables icy_app already has DML on need no grant of their
-- own, and this migration creates nothing else.
ALTER TABLE analysts ADD COLUMN created_by text, ADD COLUMN updated_by text;
ALTER TABLE assets ADD COLUMN created_by text, ADD COLUMN updated_by text;

-- +goose Down
ALTER TABLE assets DROP COLUMN updated_by, DROP COLUMN created_by;
ALTER TABLE analysts DROP COLUMN updated_by, DROP COLUMN created_by;
