package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// latestMigration is the number of the newest migration.
const latestMigration = 7

// Migration 2 keeps the subscriptions stored before it (active, confirmed
// when created) and their ids, and the ids of deleted ones stay unused; its
// rollback keeps what the schema before can hold.
func TestMigrationNotificationsKeepsSubscriptions(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "m.db") }},
		{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			s := openMigrated(t, db.url(t), sqlstore.Options{})
			// Back to the schema before migration 2 (the latest ones
			// first).
			downTo := func(version int) {
				t.Helper()
				for n := latestMigration; n > version; n-- {
					if err := s.MigrateDown(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			downTo(1)
			then := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			exec := func(sql string, args ...any) {
				t.Helper()
				if _, err := sqlstore.Exec(ctx, s, sql, args...); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				exec(`INSERT INTO subscriptions (email, topic, created_at, updated_at) VALUES ($1, 'asset::creation', $2, $2)`, email, then)
			}
			exec(`DELETE FROM subscriptions WHERE email = 'c@example.com'`)
			if _, err := s.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}

			subs, err := s.Subscriptions(ctx, icymorning.SubscriptionFilter{Page: icymorning.Page{Limit: 10}})
			if err != nil {
				t.Fatal(err)
			}
			if len(subs) != 2 || subs[0].ID != 1 || subs[1].ID != 2 {
				t.Fatalf("after the migration: %+v", subs)
			}
			for _, sub := range subs {
				if sub.Status != icymorning.SubscriptionActive || sub.ConfirmedAt == nil || !sub.ConfirmedAt.Equal(then) || sub.AnalystID != nil {
					t.Fatalf("migrated %+v", sub)
				}
			}
			next := &icymorning.Subscription{Email: "d@example.com", Topic: icymorning.TopicAssetUpdate}
			if _, err := s.CreateSubscription(ctx, next); err != nil {
				t.Fatal(err)
			}
			if next.ID != 4 {
				t.Fatalf("new subscription has id %d, want 4: the deleted id 3 was reused, or the counter reset", next.ID)
			}
			if _, err := s.DeleteSubscription(ctx, 2); err != nil {
				t.Fatal(err)
			}

			// Down: only active subscriptions to asset::creation for every
			// analyst fit the schema before.
			downTo(1)
			if n, err := sqlstore.QueryInt(ctx, s, `SELECT count(*) FROM subscriptions`); err != nil || n != 1 {
				t.Fatalf("after rollback: %d subscriptions (%v), want 1", n, err)
			}
			if _, err := s.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Migration 5 adds created_by and updated_by: rows from before it keep
// NULL in both, and its rollback drops the columns and keeps the rows.
func TestMigrationAuditKeepsRows(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "m.db") }},
		{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			s := openMigrated(t, db.url(t), sqlstore.Options{})
			downTo(t, s, 4)
			// Written the way the store did before migration 5.
			const analyst = 1
			if _, err := sqlstore.Exec(ctx, s, `INSERT INTO analysts (name, company, created_at, updated_at) VALUES ('Ada', 'Acme', $1, $1)`,
				time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			created, updated, err := sqlstore.Audit(ctx, s, "analysts", analyst)
			mustDo(t, err)
			if created != nil || updated != nil {
				t.Fatalf("a row from before migration 5: created_by %v, updated_by %v, want NULL", created, updated)
			}
			asBob := icymorning.WithPrincipal(ctx, &icymorning.Principal{Subject: "bob"})
			if _, err := s.UpdateAnalyst(asBob, analyst, icymorning.AnalystUpdate{Company: icymorning.Set("Initech")}); err != nil {
				t.Fatal(err)
			}
			downTo(t, s, 4)
			if n := count(t, s, `SELECT count(*) FROM analysts WHERE company = 'Initech'`); n != 1 {
				t.Fatalf("after rolling migration 5 back: %d analysts, want 1", n)
			}
			if _, err := sqlstore.Exec(ctx, s, `SELECT created_by FROM analysts`); err == nil {
				t.Fatal("after rolling migration 5 back, analysts.created_by is still there")
			}
			if _, err := s.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// downTo rolls s back from the newest migration to version v.
func downTo(t *testing.T, s *sqlstore.Store, v int) {
	t.Helper()
	for n := latestMigration; n > v; n-- {
		mustDo(t, s.MigrateDown(context.Background()))
	}
}

// Both dialects carry the same migrations, and Migrations counts them.
func TestMigrationsCount(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.SQLite} {
		if got := sqlstore.Migrations(d); got != latestMigration {
			t.Errorf("%s: %d migrations, want %d", d, got, latestMigration)
		}
	}
}
