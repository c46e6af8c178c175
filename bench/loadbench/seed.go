//go:build linux

package main

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// Seed sizes. The analysts are few and fixed; the assets are 1,000 for the
// ordinary cases and 1,000,000 for the pagination case, which shows whether
// a page's cost depends on the table's size.
const (
	seedAnalysts    = 1_000
	seedAssetsSmall = 1_000
	seedAssetsLarge = 1_000_000
)

// The seed has no SQL of its own to keep in step with the migrations: the
// service's own store (package sqlstore) writes the analysts and the first
// seedAssetsSmall assets, as the service writes rows, and the rest are
// copies of those assets made in the database: every column as the store
// wrote it but the id, which counts on (the columns are read from the
// schema). Row by row through the store, a million rows would take minutes;
// copied in the database, seconds. Rows vary in what the API shows (a fifth
// have no description, a tenth are inactive, each analyst has its share),
// and ids come out as 1..n because the tables are new.

// seed writes the seed into the migrated, empty database at dbURL (as the
// service names it): seedAnalysts analysts and assets assets.
func seed(ctx context.Context, dbURL string, assets int) error {
	st, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return err
	}
	err = st.InTx(ctx, func(tx icymorning.Tx) error {
		for g := 1; g <= seedAnalysts; g++ {
			a := seedAnalyst(g)
			if err := tx.CreateAnalyst(ctx, &a); err != nil {
				return fmt.Errorf("seed analyst %d: %w", g, err)
			}
		}
		for g := 1; g <= min(assets, seedAssetsSmall); g++ {
			a := seedAsset(g)
			if err := tx.CreateAsset(ctx, &a); err != nil {
				return fmt.Errorf("seed asset %d: %w", g, err)
			}
		}
		return nil
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil || assets <= seedAssetsSmall {
		return err
	}
	return copyAssets(ctx, dbURL, seedAssetsSmall, assets)
}

// seedAnalyst is the g-th analyst the store writes.
func seedAnalyst(g int) icymorning.Analyst {
	return icymorning.Analyst{Name: "Analyst " + strconv.Itoa(g), Company: "Company " + strconv.Itoa(g%100)}
}

// seedAsset is the g-th asset the store writes.
func seedAsset(g int) icymorning.Asset {
	a := icymorning.Asset{
		Name:          "Asset " + strconv.Itoa(g),
		InceptionDate: icymorning.DateOf(time.Date(2000, 1, 1+g%9000, 0, 0, 0, 0, time.UTC)),
		IsActive:      g%10 != 0,
		AnalystID:     int64(1 + g%seedAnalysts),
	}
	if g%5 != 0 {
		d := "Benchmark asset number " + strconv.Itoa(g)
		a.Description = &d
	}
	return a
}

// The columns a copy of an asset takes: all but the id (and any generated
// column), in the table's order.
const (
	pgAssetColumns = `SELECT column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'assets' AND is_identity = 'NO' AND is_generated = 'NEVER'
ORDER BY ordinal_position`
	sqliteAssetColumns = `SELECT name FROM pragma_table_info('assets') WHERE pk = 0 ORDER BY cid`
)

// copyAssets grows the assets table from have rows to want by copying its
// first rows after the last, doubling it each time. The rows the store
// wrote repeat in id order, so the variation of seedAsset holds through.
func copyAssets(ctx context.Context, dbURL string, have, want int) error {
	loc, err := sqlstore.ParseURL(dbURL)
	if err != nil {
		return err
	}
	driver, dsn, columnsSQL := "pgx", loc.URL, pgAssetColumns
	if loc.Dialect == sqlstore.SQLite {
		driver, dsn, columnsSQL = "sqlite", loc.URL+"?_pragma=busy_timeout(10000)", sqliteAssetColumns
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var columns []string
	rows, err := db.QueryContext(ctx, columnsSQL)
	if err != nil {
		return fmt.Errorf("asset columns: %w", err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		columns = append(columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("asset columns: %w", err)
	}
	if len(columns) == 0 {
		return fmt.Errorf("asset columns: none found (is the database migrated?)")
	}
	list := strings.Join(columns, ", ")
	copySQL := "INSERT INTO assets (" + list + ") SELECT " + list + " FROM assets ORDER BY id LIMIT $1"
	for have < want {
		n := min(have, want-have)
		if _, err := db.ExecContext(ctx, copySQL, n); err != nil {
			return fmt.Errorf("copy %d assets: %w", n, err)
		}
		have += n
	}
	return nil
}

// checkLoopbackPG refuses a PostgreSQL URL that is not on this machine:
// the benchmark sends traffic only to 127.0.0.1 (or a local socket), and it
// drops the database, so the name must say it is a benchmark's.
func checkLoopbackPG(url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("-pg-url: %w", err)
	}
	if !netaddr.IsLocalHost(cfg.Host) {
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

// preparePostgres leaves the benchmark database migrated and holding
// seedAnalysts analysts and assets assets.
func preparePostgres(ctx context.Context, bin, url string, assets int) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := resetPostgres(ctx, url); err != nil {
		return err
	}
	if err := benchproc.MigrateUp(ctx, bin, url); err != nil {
		return err
	}
	if err := seed(ctx, url, assets); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
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
	if err := benchproc.MigrateUp(ctx, bin, sqliteURL(path)); err != nil {
		return err
	}
	if err := seed(ctx, sqliteURL(path), assets); err != nil {
		return err
	}
	logf("SQLite seeded with %d assets in %s", assets, time.Since(start).Round(time.Millisecond))
	return nil
}

// sqliteURL is the service's URL for an absolute path: four slashes.
func sqliteURL(absPath string) string { return "sqlite:///" + absPath }
