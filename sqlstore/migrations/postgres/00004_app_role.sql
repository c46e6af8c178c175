-- +goose Up
-- icy_app is the least-privilege role the API and worker functions connect
-- as: it reads and writes the service's rows and owns nothing, so it cannot
-- drop, create, alter or truncate a table. Migrations keep running as the
-- owner (on RDS the master user); `icy-morning migrate` then gives icy_app
-- its way in (a password or rds_iam), which no migration can know.

-- Roles belong to the cluster, not the database: another database's (or
-- schema's) migration may create icy_app between the check and the CREATE,
-- which then fails with duplicate_object, or with unique_violation on
-- pg_authid when both commit at once. Either way the role now exists.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'icy_app') THEN
        BEGIN
            CREATE ROLE icy_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- A role of that name made by someone else is used only if it is no
    -- more than this migration would have made.
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'icy_app'
               AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls OR rolreplication)) THEN
        RAISE EXCEPTION 'role icy_app exists with more than least privilege (superuser, createdb, createrole, bypassrls or replication): fix it by hand';
    END IF;
    IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'icy_app') THEN
        ALTER ROLE icy_app LOGIN;
    END IF;
END
$$;
-- +goose StatementEnd

-- The grants name the schema the migrations run in (public in production;
-- each test has a schema of its own, chosen by search_path).
-- +goose StatementBegin
DO $$
DECLARE
    s text := current_schema();
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO icy_app', current_database());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO icy_app', s);
    -- The service's tables by name, not ALL TABLES: goose's version table
    -- is the migrations' record, which the app may read (migrate status,
    -- and serve's start-up check that nothing is pending) but not change.
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %1$I.analysts, %1$I.assets, %1$I.subscriptions, %1$I.events, %1$I.deliveries, %1$I.secrets TO icy_app', s);
    EXECUTE format('GRANT SELECT ON TABLE %I.goose_db_version TO icy_app', s);
    -- USAGE lets INSERT draw the identity columns' ids; SELECT lets the app
    -- read a sequence's current value. Neither allows setval.
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO icy_app', s);
    -- Tables and sequences that later migrations create are icy_app's to
    -- use without a grant of their own. Default privileges apply to objects
    -- created by the role named here: the role migrating now, which is the
    -- one that will run the later migrations too.
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO icy_app', current_user, s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO icy_app', current_user, s);
END
$$;
-- +goose StatementEnd

-- +goose Down
-- The role is not dropped: it belongs to the whole cluster, where other
-- databases (another stage on the same instance, or other test schemas)
-- may still use it, DROP ROLE fails while any database grants it anything,
-- and its password or rds_iam membership was set by the migrate command,
-- which a new Up would not redo. Only this schema's grants are revoked.
-- +goose StatementBegin
DO $$
DECLARE
    s text := current_schema();
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM icy_app', current_user, s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON TABLES FROM icy_app', current_user, s);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM icy_app', s);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM icy_app', s);
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM icy_app', s);
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM icy_app', current_database());
END
$$;
-- +goose StatementEnd
