package main

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Seed sizes. The analysts are few and fixed; the assets are 1,000 for the
// ordinary cases and 1,000,000 for the pagination case, which shows whether
// a page's cost depends on the table's size.
const (
	seedAnalysts    = 1_000
	seedAssetsSmall = 1_000
	seedAssetsLarge = 1_000_000
)

// The seed runs in the database as one INSERT ... SELECT per table, which
// writes a million rows in seconds where row-by-row inserts from Go would
// take minutes. Rows vary in what the API shows (a fifth have no
// description, a tenth are inactive, the dates spread over 25 years), and
// ids come out as 1..n because the tables are new.
const (
	pgSeedAnalysts = `INSERT INTO analysts (name, company, created_at, updated_at)
SELECT 'Analyst ' || g, 'Company ' || (g % 100), now(), now()
FROM generate_series(1, $1::int) AS g`
	pgSeedAssets = `INSERT INTO assets (name, description, inception_date, is_active, analyst_id, created_at, updated_at)
SELECT 'Asset ' || g,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'Benchmark asset number ' || g END,
       DATE '2000-01-01' + (g % 9000),
       g % 10 <> 0,
       1 + (g % $2::int),
       now(), now()
FROM generate_series(1, $1::int) AS g`

	// SQLite has no generate_series built in; a recursive CTE counts
	// instead. Timestamps are written as the service writes them (text,
	// SQLite's format with a zone) and dates as YYYY-MM-DD text, so that
	// the service scans seeded rows exactly as it scans its own.
	sqliteNow          = `strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')`
	sqliteSeedAnalysts = `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $1)
INSERT INTO analysts (name, company, created_at, updated_at)
SELECT 'Analyst ' || n, 'Company ' || (n % 100), ` + sqliteNow + `, ` + sqliteNow + ` FROM g`
	sqliteSeedAssets = `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $1)
INSERT INTO assets (name, description, inception_date, is_active, analyst_id, created_at, updated_at)
SELECT 'Asset ' || n,
       CASE WHEN n % 5 = 0 THEN NULL ELSE 'Benchmark asset number ' || n END,
       date('2000-01-01', '+' || (n % 9000) || ' days'),
       n % 10 <> 0,
       1 + (n % $2),
       ` + sqliteNow + `, ` + sqliteNow + `
FROM g`
)

// checkLoopbackPG refuses a PostgreSQL URL that is not on this machine:
// the benchmark sends traffic only to 127.0.0.1 (or a local socket), and it
// drops the database, so the name must say it is a benchmark's.
func checkLoopbackPG(url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("-pg-url: %w", err)
	}
	switch {
	case cfg.Host == "127.0.0.1", cfg.Host == "::1", cfg.Host == "localhost", strings.HasPrefix(cfg.Host, "/"):
	default:
		return fmt.Errorf("-pg-url: host %q is not loopback; the benchmark runs on 127.0.0.1 only", cfg.Host)
	}
	if !strings.Contains(strings.ToLower(cfg.Database), "bench") {
		return fmt.Errorf("-pg-url: database %q will be dropped; use one whose name contains \"bench\"", cfg.Database)
	}
	return nil
}

// resetPostgres drops and recreates the benchmark database, so every run
// starts from the same empty state, whatever earlier runs or migrations
// left behind. It connects to the maintenance database "postgres" to do so.
func resetPostgres(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	name := pgx.Identifier{cfg.Database}.Sanitize()
	admin := cfg.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to the maintenance database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// FORCE ends sessions a crashed earlier run may have left open.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// migrateUp applies the service's own migrations with its own binary, so
// the schema under test is the one it ships. Flags go before "up": the
// command parses its flags with the flag package, which stops at "up".
func migrateUp(ctx context.Context, bin, dbURL string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "migrate", "--database-url", dbURL, "up")
	cmd.SysProcAttr = sysProcAttr()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("migrate up: %w\n%s", err, out)
	}
	return nil
}

// preparePostgres leaves the benchmark database migrated and holding
// seedAnalysts analysts and assets assets.
func preparePostgres(ctx context.Context, bin, url string, assets int) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := resetPostgres(ctx, url); err != nil {
		return err
	}
	if err := migrateUp(ctx, bin, url); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, pgSeedAnalysts, seedAnalysts); err != nil {
		return fmt.Errorf("seed analysts: %w", err)
	}
	if _, err := conn.Exec(ctx, pgSeedAssets, assets, seedAnalysts); err != nil {
		return fmt.Errorf("seed assets: %w", err)
	}
	// Statistics and the visibility map as autovacuum would leave them a
	// minute later, so the measurement does not depend on when it runs.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	logf("PostgreSQL seeded with %d assets in %s", assets, time.Since(start).Round(time.Millisecond))
	return nil
}

// prepareSQLite creates, migrates and seeds a SQLite file at path.
func prepareSQLite(ctx context.Context, bin, path string, assets int) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := migrateUp(ctx, bin, sqliteURL(path)); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, sqliteSeedAnalysts, seedAnalysts); err != nil {
		return fmt.Errorf("seed analysts: %w", err)
	}
	if _, err := db.ExecContext(ctx, sqliteSeedAssets, assets, seedAnalysts); err != nil {
		return fmt.Errorf("seed assets: %w", err)
	}
	logf("SQLite seeded with %d assets in %s", assets, time.Since(start).Round(time.Millisecond))
	return nil
}

// sqliteURL is the service's URL for an absolute path: four slashes.
func sqliteURL(absPath string) string { return "sqlite:///" + absPath }
