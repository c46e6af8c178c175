-- +goose Up
-- PostgreSQL's 00004 creates the least-privilege role icy_app. SQLite has
-- no roles: this migration only keeps the two dialects' versions in step.
SELECT 1;

-- +goose Down
SELECT 1;
