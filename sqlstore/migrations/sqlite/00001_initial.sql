-- +goose Up
-- AUTOINCREMENT: ids are never reused after a delete, as in PostgreSQL.
-- DATE and DATETIME declared types make the driver scan into time.Time.
CREATE TABLE analysts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT     NOT NULL,
    company    TEXT     NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE assets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT     NOT NULL,
    description    TEXT,
    inception_date DATE     NOT NULL,
    is_active      BOOLEAN  NOT NULL,
    analyst_id     INTEGER  NOT NULL REFERENCES analysts (id) ON DELETE RESTRICT,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);

CREATE INDEX assets_analyst_id_id ON assets (analyst_id, id);
CREATE INDEX assets_is_active_id ON assets (is_active, id);
CREATE INDEX assets_name_id ON assets (name, id);

CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT     NOT NULL,
    topic      TEXT     NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT subscriptions_email_topic UNIQUE (email, topic)
);

-- +goose Down
DROP TABLE subscriptions;
DROP TABLE assets;
DROP TABLE analysts;
